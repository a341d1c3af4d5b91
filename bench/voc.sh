#!/usr/bin/env bash
# VOC report benchmark: `kimochi voc report --json` over the demo business (1M customers by
# default) on SQLite and/or PostgreSQL, for the default range (the twelve months up to the
# latest scoring run) and for the whole three-year history, with wall time, CPU time and peak
# RSS from /usr/bin/time. The reports are computed on the fly from the stored contacts.
#
#   bench/voc.sh [sqlite|postgres|both] [customers]
#
# The data is the one bench/karte.sh keeps (target/bench/sqlite-N, database kimochi_bench_N);
# it is generated here when missing (`kimochi demo`, which also scores once).
set -euo pipefail
cd "$(dirname "$0")/.."

engines=${1:-both}
customers=${2:-1000000}
pg_admin=${KIMOCHI_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_base=${pg_admin%/*}
bin=target/release/kimochi

command -v /usr/bin/time >/dev/null || { echo "/usr/bin/time is needed: apt-get install time" >&2; exit 1; }
cargo build --release -p kimochi

run_one() {
  local engine=$1 db=$2
  echo "== $engine: $customers customers"
  if [ "$engine" = postgres ]; then
    if ! psql "$pg_admin" -tAc "SELECT 1 FROM pg_database WHERE datname = 'kimochi_bench_$customers'" | grep -q 1; then
      psql "$pg_admin" -qc "CREATE DATABASE kimochi_bench_$customers"
      "$bin" --db "$db" demo --customers "$customers" --seed 1 >/dev/null
    fi
  elif [ ! -f "target/bench/sqlite-$customers/kimochi.db" ]; then
    "$bin" --db "$db" demo --customers "$customers" --seed 1 >/dev/null
  fi
  for range in "" "--from 2023-11-01 --to 2026-10-31"; do
    # shellcheck disable=SC2086
    KIMOCHI_LOG=error /usr/bin/time -f "voc report ${range:-(default: last 12 months)}: %e s wall, %U s user + %S s system, peak RSS %M KiB" \
      "$bin" --db "$db" voc report --tenant demo $range --json > "target/bench/voc-$engine-$customers.json"
    python3 -c "import json,sys; r=json.load(open(sys.argv[1])); l=r['lost_order_reasons']; \
print('  lost', l['lost_contacts'], 'won', l['won_contacts'], 'top', [t['term'] for t in l['terms'][:5]])" \
      "target/bench/voc-$engine-$customers.json"
  done
}

mkdir -p target/bench
case $engines in
  sqlite|both) mkdir -p "target/bench/sqlite-$customers"; run_one sqlite "sqlite://target/bench/sqlite-$customers/kimochi.db" ;;
esac
case $engines in
  postgres|both) run_one postgres "$pg_base/kimochi_bench_$customers" ;;
esac
