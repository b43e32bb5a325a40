#!/usr/bin/env bash
# HTTP benchmark: wrk against the stock-position endpoint of a database
# holding at least 1,000,000 journal entries (the demo hub plus one inbound
# leg with a 1,000,000-line manifest). Prints wrk's requests/s and latency
# percentiles; the target is >= 10,000 requests/s with p99 <= 10 ms. Each
# run is followed by one on the static route `/` for comparison.
#
#   bash bench/api.sh                 # LINES=1000000 DURATION=20s CONNECTIONS=32 THREADS=2 RUNS=3
#   PROFILE=dev bash bench/api.sh     # the debug build (dependencies optimised, the
#                                     # hub's own crates not): no release build needed
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
if [ "${PROFILE:-release}" = dev ]; then
    cargo build -q -p reliefhub
    bin=$PWD/target/debug/reliefhub
else
    cargo build --release -q -p reliefhub
    bin=$PWD/target/release/reliefhub
fi
lines=${LINES:-1000000}
duration=${DURATION:-20s}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}
runs=${RUNS:-3}

work=$(mktemp -d)
server=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
db="sqlite:$work/hub.db"

echo "== seeding: demo hub + a $lines-line manifest"
"$bin" --db "$db" --quiet demo --no-serve >/dev/null
"$bin" --quiet bench-import --lines "$lines" --manifest "$work/manifest.csv" >/dev/null
"$bin" --db "$db" --quiet leg add --code BENCH-LEG --mode sea --origin RUNVS --node TARTUS-PORT \
    --carrier bench --vehicle bench --expected-arrival "$(date +%F)" >/dev/null
"$bin" --db "$db" --quiet manifest import BENCH-LEG "$work/manifest.csv" >/dev/null
"$bin" --db "$db" verify | tail -n 1

"$bin" --db "$db" --quiet user add --username bench-operator --role operator --password 'bench-password-1' >/dev/null
token=$("$bin" --db "$db" --quiet user token --username bench-operator | tail -n 1)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
RUST_LOG=warn "$bin" --db "$db" --quiet serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
    sleep 0.1
done
url="http://127.0.0.1:$port/api/stock/position"
curl -fs -H "Authorization: Bearer $token" "$url" >/dev/null || { echo "stock position request failed" >&2; cat "$work/server.log" >&2; exit 1; }

echo "== wrk: $threads threads, $connections connections, $duration, $runs runs, $(nproc) cores"
for run in $(seq 1 "$runs"); do
    wrk -t"$threads" -c"$connections" -d"$duration" --latency \
        -H "Authorization: Bearer $token" "$url" >"$work/wrk-$run.txt"
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$run.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$work/wrk-$run.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$work/wrk-$run.txt")
    echo "run $run: $rps requests/s, p50 $p50, p99 $p99"
    # The same server's static route (the dashboard's index, no database),
    # right after: what the machine gives HTTP at that moment.
    wrk -t"$threads" -c"$connections" -d"$duration" --latency \
        "http://127.0.0.1:$port/" >"$work/wrk-static-$run.txt"
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-static-$run.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$work/wrk-static-$run.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$work/wrk-static-$run.txt")
    echo "run $run, static route /: $rps requests/s, p50 $p50, p99 $p99"
done
