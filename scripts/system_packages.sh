#!/usr/bin/env bash
# The Debian packages the database tests need: unixODBC, psqlODBC and the PostgreSQL server
# (the suite starts its own server; scout_assets_tests/serving/pg_server.py). Installs the
# missing ones when it can (root with apt-get). Where it cannot, it says so in one line and the
# suite skips those tests with one summary line; under CI=true it fails instead.
set -euo pipefail

missing=()
compgen -G '/usr/lib/*/libodbc.so.2' >/dev/null || missing+=(unixodbc)
compgen -G '/usr/lib/*/odbc/psqlodbcw.so' >/dev/null || missing+=(odbc-postgresql)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null \
  || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing the Debian packages the database tests need: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; then
    exit 0
  fi
  echo "could not install ${missing[*]} with apt-get"
fi
if [ "${CI:-}" = true ]; then
  echo "CI=true: the database tests need the Debian packages ${missing[*]}" >&2
  exit 1
fi
echo "not installed: ${missing[*]} (needs root and apt-get); the tests that need them are skipped"
