#!/usr/bin/env bash
# Scoring benchmark: `kimochi analyze` of the demo business (1M customers by default) on SQLite
# and/or PostgreSQL, with wall time, CPU time and peak RSS from /usr/bin/time.
#
#   bench/analyze.sh [sqlite|postgres|both] [customers] [runs]
#
# The data is the one bench/karte.sh keeps (target/bench/sqlite-N, database kimochi_bench_N);
# it is generated here when missing (`kimochi demo`, which also scores once). To run on a copy
# of shared data instead, name it: KIMOCHI_BENCH_SQLITE=path/to/kimochi.db and/or
# KIMOCHI_BENCH_PG_DATABASE=database (a copy: analyze migrates and rewrites the scores).
# KIMOCHI_BENCH_NO_BUILD=1 runs target/release/kimochi as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

engines=${1:-both}
customers=${2:-1000000}
runs=${3:-3}
pg_admin=${KIMOCHI_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_base=${pg_admin%/*}
bin=target/release/kimochi

command -v /usr/bin/time >/dev/null || { echo "/usr/bin/time is needed: apt-get install time" >&2; exit 1; }
[ -n "${KIMOCHI_BENCH_NO_BUILD:-}" ] || cargo build --release -p kimochi
sqlite_file=${KIMOCHI_BENCH_SQLITE:-target/bench/sqlite-$customers/kimochi.db}
pg_database=${KIMOCHI_BENCH_PG_DATABASE:-kimochi_bench_$customers}

run_one() {
  local engine=$1 db=$2
  echo "== $engine: $customers customers"
  if [ "$engine" = postgres ]; then
    if ! psql "$pg_admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$pg_database'" | grep -q 1; then
      psql "$pg_admin" -qc "CREATE DATABASE $pg_database"
      "$bin" --db "$db" demo --customers "$customers" --seed 1 >/dev/null
    fi
  elif [ ! -f "$sqlite_file" ]; then
    "$bin" --db "$db" demo --customers "$customers" --seed 1 >/dev/null
  fi
  for run in $(seq "$runs"); do
    echo "load: $(uptime | sed 's/.*load average/load average/')"
    KIMOCHI_LOG=error /usr/bin/time -f "run $run: %e s wall, %U s user + %S s system, peak RSS %M KiB" \
      "$bin" --db "$db" analyze --tenant demo --as-of 2026-10-31 --quiet 2>&1 | grep -E "^(tenant|run)"
  done
}

case $engines in
  sqlite|both) run_one sqlite "sqlite://$sqlite_file" ;;
esac
case $engines in
  postgres|both) run_one postgres "$pg_base/$pg_database" ;;
esac
