#!/usr/bin/env bash
# Server time and weight of the main pages over a scored demo tenant:
#
#   browser-tests/measure.sh target/release/kimochi 1000000
#
# Loads `kimochi demo --customers N` into a fresh SQLite file, scores it, serves it on a free
# port, logs in as op01 / analyst01 with curl, then times 200 karte pages of customers spread
# over the id range and 20 heat map pages (curl's time_total on localhost: the server's time
# plus a loopback round trip). Prints p50 / p95 / max and the bytes of each page and asset.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 path/to/kimochi CUSTOMERS" >&2
    exit 2
fi
kimochi="$(realpath "$1")"
customers="$2"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
export KIMOCHI_DB="sqlite://$work/kimochi.db"
export KIMOCHI_CONFIG="$work/none.toml"
: > "$KIMOCHI_CONFIG"

start=$SECONDS
"$kimochi" demo --customers "$customers" > "$work/demo.log" 2>&1 || { cat "$work/demo.log" >&2; exit 1; }
"$kimochi" analyze --as-of 2026-10-31 --quiet > "$work/analyze.log" 2>&1 || { cat "$work/analyze.log" >&2; exit 1; }
echo "loaded and scored $customers customers in $((SECONDS - start)) s" >&2

port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
base="http://127.0.0.1:$port"
"$kimochi" serve --addr "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "$base/healthz" > /dev/null 2>&1 && break
    sleep 0.1
done

login() { # login-id cookie-jar
    local form csrf
    form="$(curl -fsS -c "$2" "$base/login")"
    csrf="$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' <<< "$form")"
    curl -fsS -b "$2" -c "$2" -o /dev/null \
        --data-urlencode "csrf=$csrf" --data-urlencode "tenant=demo" \
        --data-urlencode "login=$1" --data-urlencode "password=kimochi-demo" "$base/login"
}
login op01 "$work/agent.jar"
login analyst01 "$work/analyst.jar"

# p50, p95 and max of a column of seconds, printed in milliseconds.
summary() {
    sort -n | awk '{ v[NR] = $1 } END {
        p50 = v[int((NR - 1) * 0.50) + 1]; p95 = v[int((NR - 1) * 0.95) + 1];
        printf "n=%d p50=%.1f ms p95=%.1f ms max=%.1f ms\n", NR, p50 * 1000, p95 * 1000, v[NR] * 1000 }'
}

# Customers spread over the whole id range (ids start at 1 in a fresh database).
step=$(( customers / 200 > 0 ? customers / 200 : 1 ))
for i in $(seq 1 200); do
    id=$(( (i - 1) * step + 1 ))
    curl -fsS -b "$work/agent.jar" -o /dev/null -w '%{time_total} %{size_download}\n' "$base/agent/customers/$id"
done > "$work/karte.txt"
echo "karte page:    $(cut -d' ' -f1 "$work/karte.txt" | summary)  bytes: $(cut -d' ' -f2 "$work/karte.txt" | sort -n | tail -1) max"

curl -fsS -b "$work/analyst.jar" -o /dev/null "$base/analyst/rfm"  # warm the summary read once
for _ in $(seq 1 20); do
    curl -fsS -b "$work/analyst.jar" -o /dev/null -w '%{time_total} %{size_download}\n' "$base/analyst/rfm"
done > "$work/rfm.txt"
echo "heat map page: $(cut -d' ' -f1 "$work/rfm.txt" | summary)  bytes: $(cut -d' ' -f2 "$work/rfm.txt" | tail -1)"

page="$(curl -fsS -b "$work/agent.jar" "$base/agent")"
for asset in $(grep -o '/static/[0-9a-f]*/[a-z.]*' <<< "$page" | sort -u); do
    echo "asset $(basename "$asset"): $(curl -fsS -o /dev/null -w '%{size_download}' "$base$asset") bytes"
done
