#!/usr/bin/env bash
# Segment count benchmark (issue 6, T2): loads the demo business into SQLite and/or PostgreSQL
# (scored by `kimochi analyze`, which `kimochi demo` runs at its end), serves it, and times
# POST /api/v1/segments/count for a few realistic rules, contact-history facts included, one
# request at a time: one warm-up, then 10 timed requests per rule (curl's time_total, so the
# HTTP round trip is included). Goal: ≤ 200 ms per count at 1M customers.
#
#   bench/segments.sh [sqlite|postgres|both] [customers]
#
# KIMOCHI_BIN=target/debug/kimochi uses that binary instead of building the release one. Data
# is kept under target/bench (SQLite) or in database kimochi_bench_segments_N (PostgreSQL) and
# reused on the next run with the same size; KIMOCHI_BENCH_FRESH=1 regenerates it.
# KIMOCHI_BENCH_SQLITE=path/to/kimochi.db and KIMOCHI_BENCH_POSTGRES=database use an existing
# database instead (a copy: opening it migrates it, and migration 0014 computes the segment
# facts of its customers once). KIMOCHI_BENCH_RUNS sets the number of timed runs (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."

engines=${1:-both}
customers=${2:-1000000}
runs=${KIMOCHI_BENCH_RUNS:-20}
pg_admin=${KIMOCHI_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_base=${pg_admin%/*}
bin=${KIMOCHI_BIN:-target/release/kimochi}
[ -n "${KIMOCHI_BIN:-}" ] || cargo build --release -p kimochi

rules=(
  'churn-prone subscribers|{"all":[{"field":"stage","op":"in","value":["subscription"]},{"field":"churn_probability","op":"gte","value":0.5}]}'
  'callable, unanswered twice|{"all":[{"field":"consent_phone","op":"eq","value":true},{"field":"do_not_call","op":"eq","value":false},{"field":"consecutive_no_contact","op":"gte","value":2}]}'
  'called 2+ times in 90 days, last call unanswered or hung up|{"all":[{"field":"call_attempts","op":"gte","value":2,"days":90},{"field":"last_call_outcome","op":"in","value":["no_contact","busy","hung_up"]}]}'
  'issue 6 acceptance: high-risk subscribers, unmet expectation, 2 no-contacts|{"all":[{"field":"stage","op":"in","value":["subscription"]},{"field":"churn_level","op":"in","value":["high"]},{"field":"unmet_expectation","op":"eq","value":true},{"field":"consecutive_no_contact","op":"gte","value":2}]}'
  'listened well last time, no order for 180 days|{"all":[{"field":"listened_well","op":"eq","value":true},{"field":"days_since_last_order","op":"gte","value":180}]}'
  'any: gratitude in 365 days or advocacy, not do-not-call|{"all":[{"any":[{"field":"kimochi_tag","op":"in","value":["gratitude","advocacy"],"days":365},{"field":"positive_dormant","op":"eq","value":true}]},{"not":{"field":"do_not_call","op":"eq","value":true}}]}'
)

run_one() {
  local engine=$1 db=$2 marker=$3 existing=${4:-}
  echo "== $engine: ${existing:-$customers customers}"
  if [ -n "$existing" ]; then
    :
  elif [ "${KIMOCHI_BENCH_FRESH:-0}" = 1 ]; then
    case $engine in
      sqlite) rm -rf "target/bench/segments-sqlite-$customers" ;;
      postgres) psql "$pg_admin" -qc "DROP DATABASE IF EXISTS kimochi_bench_segments_$customers WITH (FORCE)" ;;
    esac
  fi
  if [ "$engine" = postgres ] && [ -z "$existing" ]; then
    psql "$pg_admin" -tAc "SELECT 1 FROM pg_database WHERE datname = 'kimochi_bench_segments_$customers'" | grep -q 1 \
      || psql "$pg_admin" -qc "CREATE DATABASE kimochi_bench_segments_$customers"
  fi
  if [ ! -e "$marker" ]; then
    /usr/bin/time -f "demo load and scoring: %e s" "$bin" --db "$db" demo --customers "$customers" --seed 1
    touch "$marker"
  fi
  local token
  # Opening the database migrates it (timed: on an older database, migration 0014's backfill).
  token=$(/usr/bin/time -f "open, migrate and create a token: %e s wall, %U+%S s cpu" \
    "$bin" --db "$db" token create --tenant demo --role analyst --label bench-segments)
  local port=19$((RANDOM % 900 + 100))
  "$bin" --db "$db" serve --addr "127.0.0.1:$port" > "target/bench/serve-segments-$engine.log" 2>&1 &
  local pid=$!
  trap 'kill $pid 2>/dev/null || true' RETURN
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
  for entry in "${rules[@]}"; do
    local name=${entry%%|*} rule=${entry#*|} body times count
    body="{\"rule\":$rule}"
    count=$(curl -sf -H "authorization: Bearer $token" -H 'content-type: application/json' \
      -d "$body" "http://127.0.0.1:$port/api/v1/segments/count" | sed 's/.*"count":\([0-9]*\).*/\1/')
    times=$(for _ in $(seq $runs); do
      curl -sf -o /dev/null -w '%{time_total}\n' -H "authorization: Bearer $token" \
        -H 'content-type: application/json' -d "$body" "http://127.0.0.1:$port/api/v1/segments/count"
    done | sort -n)
    awk -v name="$name" -v count="$count" -v engine="$engine" '
      { t[NR] = $1 * 1000 }
      END { p95 = int(NR * 0.95); if (p95 < NR * 0.95) p95++;
            printf "%-8s %-75s count %8d  min %7.1f  p50 %7.1f  p95 %7.1f  max %7.1f ms\n",
            engine, name, count, t[1], (t[int((NR+1)/2)] + t[int(NR/2)+1]) / 2, t[p95], t[NR] }' <<< "$times"
  done
  ps -o cputime= -p $pid | sed 's/^/server CPU time (all requests, warm-ups included): /'
  kill $pid
  wait $pid 2>/dev/null || true
}

mkdir -p target/bench
uptime
case $engines in
  sqlite|both)
    if [ -n "${KIMOCHI_BENCH_SQLITE:-}" ]; then
      run_one sqlite "sqlite://$KIMOCHI_BENCH_SQLITE" "$KIMOCHI_BENCH_SQLITE" "$KIMOCHI_BENCH_SQLITE"
    else
      mkdir -p "target/bench/segments-sqlite-$customers"
      run_one sqlite "sqlite://target/bench/segments-sqlite-$customers/kimochi.db" "target/bench/segments-sqlite-$customers/loaded"
    fi ;;&
  postgres|both)
    if [ -n "${KIMOCHI_BENCH_POSTGRES:-}" ]; then
      run_one postgres "$pg_base/$KIMOCHI_BENCH_POSTGRES" /dev/null "$KIMOCHI_BENCH_POSTGRES"
    else
      run_one postgres "$pg_base/kimochi_bench_segments_$customers" "target/bench/segments-postgres-$customers.loaded"
    fi ;;
esac
uptime
