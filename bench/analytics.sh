#!/usr/bin/env bash
# Analytics benchmarks (issue 3), side by side in one run:
#   1. RFM summary + 5-level scores of a transactions CSV: kimochi rfm vs DuckDB, Polars (both
#      limited to 2 threads) and pandas, every output checked byte-identical to kimochi's;
#   2. BG/NBD + Gamma-Gamma fit and per-customer predictions on the same summary (made
#      beforehand by DuckDB, not timed): kimochi clv predict --summary vs lifetimes; and kimochi
#      from the transactions file (reading, summarising, fitting, predicting). Predictions are
#      compared customer by customer.
# Wall time by hyperfine (median of RUNS), peak RSS by /usr/bin/time.
#
#   bench/analytics.sh [ROWS=10000000] [RUNS=3] [LIFETIMES_RUNS=1] [PARTS="rfm clv"]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-10000000}
RUNS=${2:-3}
LIFETIMES_RUNS=${3:-1}
PARTS=${4:-rfm clv}
THREADS=2
AS_OF=2024-12-31
HORIZON_WEEKS=52.14   # twelve months of 4.345 weeks: lifetimes' CLV horizon for weekly data
OUT=target/bench
mkdir -p "$OUT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

VENV=bench/analytics/.venv
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r bench/analytics/requirements.txt
fi
PY=$VENV/bin/python
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null

# KIMOCHI=path/to/kimochi skips the build (to measure a binary built elsewhere).
if [ -z "${KIMOCHI:-}" ]; then
    cargo build --release -p kimochi
    KIMOCHI=$CARGO_TARGET_DIR/release/kimochi
fi

DATA=$OUT/transactions-$ROWS.csv
[ -f "$DATA" ] || "$PY" bench/analytics/generate.py --rows "$ROWS" --customers $((ROWS / 10)) --out "$DATA"

declare -A RFM=(
    [kimochi]="$KIMOCHI rfm --transactions $DATA --as-of $AS_OF --threads $THREADS --out $OUT/rfm-kimochi.csv"
    [duckdb]="$PY bench/analytics/rfm_peers.py duckdb $DATA $AS_OF $OUT/rfm-duckdb.csv --threads $THREADS"
    [polars]="$PY bench/analytics/rfm_peers.py polars $DATA $AS_OF $OUT/rfm-polars.csv --threads $THREADS"
    [pandas]="$PY bench/analytics/rfm_peers.py pandas $DATA $AS_OF $OUT/rfm-pandas.csv"
)
SUMMARY=$OUT/summary-$ROWS.csv
"$PY" bench/analytics/clv_lifetimes.py summarize "$DATA" "$AS_OF" "$SUMMARY"
declare -A CLV=(
    [kimochi]="$KIMOCHI clv predict --summary $SUMMARY --horizon-weeks $HORIZON_WEEKS --threads $THREADS --out $OUT/clv-kimochi.csv"
    [kimochi-transactions]="$KIMOCHI clv predict --transactions $DATA --calibration-end $AS_OF --horizon-weeks $HORIZON_WEEKS --threads $THREADS --out $OUT/clv-kimochi-transactions.csv"
    [lifetimes]="$PY bench/analytics/clv_lifetimes.py predict $SUMMARY $HORIZON_WEEKS $OUT/clv-lifetimes.csv"
)

# Every timed run also goes through /usr/bin/time, appending its peak RSS; the table shows the
# largest.
rm -f "$OUT"/rss-*
timed() { echo "/usr/bin/time -a -f %M -o $OUT/rss-$1-$2 ${3}"; }
if [[ " $PARTS " == *" rfm "* ]]; then
    hyperfine --style basic --runs "$RUNS" --export-json "$OUT/rfm.json" \
        -n kimochi "$(timed rfm kimochi "${RFM[kimochi]}")" -n duckdb "$(timed rfm duckdb "${RFM[duckdb]}")" \
        -n polars "$(timed rfm polars "${RFM[polars]}")" -n pandas "$(timed rfm pandas "${RFM[pandas]}")"
    for name in duckdb polars pandas; do
        cmp -s "$OUT/rfm-kimochi.csv" "$OUT/rfm-$name.csv" || { echo "rfm: $name's output differs from kimochi's" >&2; exit 1; }
    done
fi
if [[ " $PARTS " == *" clv "* ]]; then
    hyperfine --style basic --runs "$RUNS" --export-json "$OUT/clv-kimochi.json" -n kimochi "$(timed clv kimochi "${CLV[kimochi]}")" \
        -n kimochi-transactions "$(timed clv kimochi-transactions "${CLV[kimochi-transactions]}")"
    hyperfine --style basic --runs "$LIFETIMES_RUNS" --export-json "$OUT/clv-lifetimes.json" \
        -n lifetimes "$(timed clv lifetimes "${CLV[lifetimes]}")"

    # The predictions must agree before their speed means anything: kimochi's (from the summary and
    # from the transactions) against lifetimes', customer by customer.
    "$PY" bench/analytics/clv_lifetimes.py compare "$OUT/clv-lifetimes.csv" "$OUT/clv-kimochi.csv" "$OUT/clv-kimochi-transactions.csv"
fi

"$PY" - "$OUT" "$ROWS" "$(git rev-parse --short HEAD)" <<'PY'
import json, sys
out, rows, commit = sys.argv[1:]
def rss(kind, name):
    return max(int(line) for line in open(f"{out}/rss-{kind}-{name}") if line.strip().isdigit()) / 1024
def table(title, kind, results):
    base = next(r for r in results if r["command"] == "kimochi")["median"]
    print(f"\n{title} ({int(rows):,} rows, commit {commit})\n")
    # CPU time (user + system) is the steadier figure on a shared machine: waiting for a core
    # inflates the wall time but not the work done.
    print("| engine | runs | median wall | min | max | vs kimochi | CPU (user+sys) | peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['command']} | {len(r['times'])} | {r['median']:.2f} s | {r['min']:.2f} s | {r['max']:.2f} s "
              f"| {r['median'] / base:.1f}× | {r['user'] + r['system']:.2f} s | {rss(kind, r['command']):,.0f} MB |")
import os
if os.path.exists(f"{out}/rss-rfm-kimochi"):
    table("RFM summary + scores", "rfm", json.load(open(f"{out}/rfm.json"))["results"])
if os.path.exists(f"{out}/rss-clv-kimochi"):
    clv = json.load(open(f"{out}/clv-kimochi.json"))["results"] + json.load(open(f"{out}/clv-lifetimes.json"))["results"]
    table("BG/NBD + Gamma-Gamma fit and predictions", "clv", clv)
PY
