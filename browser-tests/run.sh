#!/usr/bin/env bash
# Runs the browser tests against a kimochi binary that is already built:
#
#   browser-tests/run.sh target/debug/kimochi
#
# A fresh SQLite database gets the demo tenant (2,000 customers) and its scores, `kimochi serve`
# listens on a free local port, the tests drive Chromium against it, and screenshots of each
# main screen land in ci-artifacts/screenshots/. Needs /usr/bin/chromium and `npm ci` done here.
# Every `*.test.mjs` here runs, one file after another, against the same server; what the files
# share (launching Chromium, logging in, screenshots, the problems list) is in `common.mjs`.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 path/to/kimochi" >&2
    exit 2
fi
kimochi="$(realpath "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
screenshots="$root/ci-artifacts/screenshots"
mkdir -p "$screenshots"

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

echo "browser tests: loading the demo tenant" >&2
"$kimochi" demo --customers 2000 > "$work/demo.log" 2>&1 || { cat "$work/demo.log" >&2; exit 1; }
"$kimochi" analyze --as-of 2026-10-31 --quiet > "$work/analyze.log" 2>&1 || { cat "$work/analyze.log" >&2; exit 1; }

# A free port: bind port 0, read what the kernel chose, release it for the server.
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
base_url="http://127.0.0.1:$port"
"$kimochi" serve --addr "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    if curl -fsS "$base_url/healthz" > /dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "kimochi serve exited:" >&2
        cat "$work/serve.log" >&2
        exit 1
    fi
    sleep 0.1
done
curl -fsS "$base_url/healthz" > /dev/null

echo "browser tests: server at $base_url" >&2
status=0
(cd "$here" && BASE_URL="$base_url" SCREENSHOT_DIR="$screenshots" \
    node --test --test-concurrency=1 ./*.test.mjs) || status=$?
if [[ $status -ne 0 ]]; then
    echo "--- kimochi serve log ---" >&2
    tail -n 50 "$work/serve.log" >&2
fi
exit "$status"
