#!/usr/bin/env bash
# Times re-planning after a small change on the demo hub: a plan is built
# and accepted, an inbound leg then runs two days late and a charter is
# cancelled, and `plan build --keep-accepted` re-plans (each run on a fresh
# copy of the same database). Prints every run's wall time, the median, and
# the change list's counts.
#
# usage: bench/planner/replan.sh
# environment: RUNS (default 7), OUT (work directory), BIN (a reliefhub
#              binary to use instead of building the release one),
#              TIME_LIMIT (the re-plan's search limit, default the command's 0.5 s).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-7}
OUT=${OUT:-target/replan-bench}
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p reliefhub
  BIN=${CARGO_TARGET_DIR:-target}/release/reliefhub
fi
BIN=$(realpath "$BIN")
ON=2025-03-31
rm -rf "$OUT" && mkdir -p "$OUT/base"
cd "$OUT/base"
hub() { "$BIN" --db sqlite:hub.db -q "$@"; }
hub demo --no-serve >/dev/null
hub leg add --code IN-LATE-1 --mode sea --origin AEJEA --node TARTUS-PORT \
  --carrier "Gulf Feeder Line" --vehicle "MV Bench voy. 1" --expected-arrival 2025-04-04 --donor QA-QFFD >/dev/null
printf 'Item code,Qty,Lot,Expiry date,Packs,Earmark\nWHEAT-FLOUR-50KG,400,W1,2027-06-30,40,\n' >flour.csv
hub manifest import IN-LATE-1 flour.csv --on "$ON" >/dev/null
hub request add --code RQ-KEMBA-W1 --destination KEMBA --item WHEAT-FLOUR-50KG --quantity 400 \
  --priority 1 --needed-by 2025-04-20 --grace-days 5 >/dev/null
hub plan build --on "$ON" --time-limit 2 --json >plan1.json
hub plan accept 1 --on "$ON" >/dev/null
hub leg reschedule IN-LATE-1 --expected-arrival 2025-04-06 >/dev/null
# The first departure of the plan that does not carry the flour is cancelled.
victim=$(python3 -c '
import json, sys
v = json.load(open("plan1.json"))
used = [d for d in v["departures"] if d["used"]]
print(next(d["code"] for d in used if all(a["request"] != "RQ-KEMBA-W1" for a in d["allocations"])))')
# (Unloaded first when the acceptance put cargo on it.)
hub departure unload "$victim" --reason "charter cancelled" --on "$ON" >/dev/null 2>&1 || true
hub departure cancel "$victim" --reason "aircraft grounded" >/dev/null
cd ..
limit=()
[ -n "${TIME_LIMIT:-}" ] && limit=(--time-limit "$TIME_LIMIT")
times=()
for run in $(seq 1 "$RUNS"); do
  rm -rf "run$run" && cp -r base "run$run"
  start=$(date +%s.%N)
  "$BIN" --db "sqlite:run$run/hub.db" -q plan build --on "$ON" --keep-accepted "${limit[@]}" --json >"run$run/plan2.json"
  end=$(date +%s.%N)
  times+=("$(python3 -c "print(f'{$end - $start:.3f}')")")
done
python3 - . "${times[@]}" <<'PY'
import json, statistics, sys
out, times = sys.argv[1], [float(t) for t in sys.argv[2:]]
c = json.load(open(f"{out}/run1/plan2.json"))["changes"]
print("runs (s):", " ".join(f"{t:.3f}" for t in times))
print(f"median {statistics.median(times):.3f} s for `plan build --keep-accepted` (whole command: open, build the instance, plan, check, store)")
print(f"against plan {c['based_on']}: {c['kept']} loads kept, {c['moved']} moved, {c['dropped']} dropped, {c['added']} new")
PY
