# Sourced by scripts/test.sh and the benchmark scripts: install what a test or benchmark needs
# when it is missing, from Debian's packages or PyPI. Idempotent; quiet unless it installs.

# apt_install PACKAGE... — installs the Debian packages not yet installed (one apt-get update).
apt_install() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  printf '\n== installing %s (Debian)\n' "${missing[*]}" >&2
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  if [[ -z "${_APT_UPDATED:-}" ]]; then
    "${sudo[@]}" apt-get update -qq
    _APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# pip_install MODULE SPEC — installs SPEC from PyPI when python3 cannot import MODULE.
pip_install() {
  python3 -c "import $1" >/dev/null 2>&1 && return 0
  printf '\n== installing %s (PyPI)\n' "$2" >&2
  python3 -m pip install --quiet "$2"
}
