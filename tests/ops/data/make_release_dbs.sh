#!/usr/bin/env bash
# Rebuild the databases "as released" that tests/ops/test_upgrade.py upgrades: the demo county built by the code
# of the last commit at each released schema revision (not by today's code), VACUUMed and gzipped.
#   revision 0001: commit 93c72f8 (the last commit before revision 0002)        → demo-0001.sqlite.gz
# Run from the repository root with the project's virtual environment: bash tests/ops/data/make_release_dbs.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-.venv/bin/python}
build() {  # build REVISION COMMIT
  local rev=$1 commit=$2 work
  work=$(mktemp -d)
  git archive "$commit" src | tar -x -C "$work"
  PYTHONPATH="$work/src" SUBSIDENCE_DATA_DIR="$work/data" "$PY" -c "
import sys
sys.argv = ['subsidence', 'demo', '--no-serve', '--json', '--today', '2026-11-30']
from subsidence.cli.main import app
app()" > /dev/null
  sqlite3 "$work/data/subsidence.sqlite" "PRAGMA journal_mode=DELETE; VACUUM;" > /dev/null
  [ "$(sqlite3 "$work/data/subsidence.sqlite" 'SELECT version_num FROM alembic_version')" = "$rev" ]
  gzip -9 -n -c "$work/data/subsidence.sqlite" > "tests/ops/data/demo-$rev.sqlite.gz"
  rm -rf "$work"
}
build 0001 93c72f8
