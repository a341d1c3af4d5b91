#!/usr/bin/env bash
# Karte benchmark: loads the demo business (1M customers / ~10M orders / ~5M contacts by
# default) into SQLite and/or PostgreSQL, serves it with the release binary and drives
# GET /api/v1/customers/{id}/karte from a second process (wrk) at 32 connections.
#
#   bench/karte.sh [sqlite|postgres|both] [customers] [seconds]
#
# Data is kept under target/bench (SQLite) or in database kimochi_bench (PostgreSQL) and reused
# on the next run with the same size; KIMOCHI_BENCH_FRESH=1 regenerates it.
set -euo pipefail
cd "$(dirname "$0")/.."

engines=${1:-both}
customers=${2:-1000000}
seconds=${3:-30}
connections=32
pg_admin=${KIMOCHI_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_base=${pg_admin%/*}
bin=target/release/kimochi

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release -p kimochi

run_one() {
  local engine=$1 db=$2
  echo "== $engine: $customers customers"
  if [ "${KIMOCHI_BENCH_FRESH:-0}" = 1 ]; then
    case $engine in
      sqlite) rm -rf "target/bench/sqlite-$customers" ;;
      postgres) psql "$pg_admin" -qc "DROP DATABASE IF EXISTS kimochi_bench_$customers WITH (FORCE)" ;;
    esac
  fi
  if [ "$engine" = postgres ]; then
    psql "$pg_admin" -tAc "SELECT 1 FROM pg_database WHERE datname = 'kimochi_bench_$customers'" | grep -q 1 \
      || psql "$pg_admin" -qc "CREATE DATABASE kimochi_bench_$customers"
  fi
  /usr/bin/time -f "demo load: %e s, peak RSS %M KiB" "$bin" --db "$db" demo --customers "$customers" --seed 1
  local token
  token=$("$bin" --db "$db" token create --tenant demo --role agent --label bench)
  local port=18$((RANDOM % 900 + 100))
  "$bin" --db "$db" serve --addr "127.0.0.1:$port" > "target/bench/serve-$engine.log" 2>&1 &
  local pid=$!
  trap 'kill $pid 2>/dev/null || true' RETURN
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
  # Warm up (page cache, connection pools), then measure.
  KIMOCHI_BENCH_TOKEN=$token KIMOCHI_BENCH_MAX_ID=$customers wrk -t2 -c$connections -d5s -s bench/karte.lua "http://127.0.0.1:$port" > /dev/null
  KIMOCHI_BENCH_TOKEN=$token KIMOCHI_BENCH_MAX_ID=$customers wrk -t2 -c$connections -d"${seconds}s" --latency -s bench/karte.lua "http://127.0.0.1:$port" | tee "target/bench/wrk-$engine.txt"
  echo "server peak RSS: $(grep VmHWM /proc/$pid/status)"
  kill $pid
  wait $pid 2>/dev/null || true
}

mkdir -p target/bench
case $engines in
  sqlite|both) mkdir -p "target/bench/sqlite-$customers"; run_one sqlite "sqlite://target/bench/sqlite-$customers/kimochi.db" ;;&
  postgres|both) run_one postgres "$pg_base/kimochi_bench_$customers" ;;
esac
