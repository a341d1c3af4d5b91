#!/usr/bin/env bash
# Crisis-word alerts (issue 4 F5): ingest-to-alert latency through the real server.
#
#   bench/alerts.sh [contacts] [in-flight]
#
# Builds the release binary, starts `kimochi serve` on a fresh SQLite file with one tenant, opens
# the supervisors' live stream (GET /api/v1/events) as a supervisor, posts `contacts` contacts
# (default 2,000) carrying crisis words through POST /api/v1/customers/{id}/contacts,
# `in-flight` at a time (default 1), and measures for each one the time from sending the POST to
# receiving its `alert` event on the stream (bench/alerts-latency.mjs, node ≥ 18). The client
# runs on the same two cores as the server.
set -euo pipefail
cd "$(dirname "$0")/.."

contacts=${1:-2000}
in_flight=${2:-1}
bin=target/release/kimochi
cargo build --release -p kimochi

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
export KIMOCHI_LOG=error
: > "$KIMOCHI_CONFIG"
"$bin" tenant create bench --name "Bench化粧品" > /dev/null
token="$("$bin" token create --tenant bench --role supervisor)"

port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
"$bin" serve --addr "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
    sleep 0.1
done

BASE_URL="http://127.0.0.1:$port" TOKEN="$token" CONTACTS="$contacts" IN_FLIGHT="$in_flight" \
    node bench/alerts-latency.mjs
