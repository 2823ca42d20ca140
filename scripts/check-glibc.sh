#!/usr/bin/env bash
# check-glibc.sh BINARY MAX: fails unless every GLIBC_ symbol version BINARY needs is ≤ MAX.
# Prints the newest one it needs. Reads the dynamic symbol table with objdump (binutils).
set -euo pipefail
binary=$1 max=$2
[ -f "$binary" ] || { echo "check-glibc: $binary: no such file" >&2; exit 2; }
newest=$(objdump -T "$binary" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
[ -n "$newest" ] || { echo "check-glibc: $binary needs no GLIBC_ version (static?)" >&2; exit 0; }
if [ "$(printf '%s\n%s\n' "$newest" "$max" | sort -V | tail -n 1)" != "$max" ]; then
  echo "check-glibc: $binary needs GLIBC_$newest, newer than $max" >&2
  exit 1
fi
echo "check-glibc: $binary needs at most GLIBC_$newest (≤ $max)"
