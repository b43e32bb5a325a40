#!/usr/bin/env bash
# Runs the dispatch planner and the greedy baseline on every family of
# generated shapes (`planner-bench families`) at the given sizes and seeds,
# checks every plan, and prints per size and family the WORST seed (lowest
# share of the best known objective, widest gap) beside the median, then the
# worst family of each size.
#
# usage: bench/planner/families.sh [SIZES...]      (default: S M)
# environment: SEEDS (default "1 2 3 4 5"), FAMILIES (default: all),
#              LIMIT (planner seconds; default by size: S 2, M 10, L 10, XL 60),
#              HIGHS_LIMIT (seconds of HiGHS per S and M instance, 0 = none;
#              default 0), HIGHS_GAP (default 0.0001), HIGHS_SEEDS (the seeds
#              HiGHS runs on, default SEEDS),
#              CHECK (path of an independent check_plan.py; by default the
#              project's own checker, `planner-bench check`),
#              OUT (work directory, default target/planner-families).
# Results are also appended as JSON lines to $OUT/results.jsonl; HiGHS's
# results are kept in $OUT/*.highs.line and reused while the file exists.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES=("${@:-S M}")
read -r -a SIZES <<<"${SIZES[*]}"
SEEDS=${SEEDS:-1 2 3 4 5}
HIGHS_LIMIT=${HIGHS_LIMIT:-0}
HIGHS_GAP=${HIGHS_GAP:-0.0001}
HIGHS_SEEDS=${HIGHS_SEEDS:-$SEEDS}
OUT=${OUT:-target/planner-families}
mkdir -p "$OUT"
cargo build --release -q -p reliefhub-planner-bench --bin planner-bench
BIN=${CARGO_TARGET_DIR:-target}/release/planner-bench
FAMILIES=${FAMILIES:-$("$BIN" families | tr '\n' ' ')}
CHECK=${CHECK:-}
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"

limit_for() {
  if [ -n "${LIMIT:-}" ]; then echo "$LIMIT"; return; fi
  case "$1" in S) echo 2 ;; M|L) echo 10 ;; XL) echo 60 ;; esac
}

# Runs a command under /usr/bin/time and prints its JSON line with peak_mb added.
measure() {
  local log="$OUT/time.log" line kb
  line=$(/usr/bin/time -f "%M" -o "$log" "$@" | tail -1)
  kb=$(tail -1 "$log")
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["peak_mb"]=int(sys.argv[2])/1024; print(json.dumps(d))' "$line" "$kb"
}

verdict() {
  if [ -n "$CHECK" ]; then
    python3 "$CHECK" "$1" "$2" | tail -1
  else
    "$BIN" check "$1" "$2" | tail -1
  fi
}

for size in "${SIZES[@]}"; do
  limit=$(limit_for "$size")
  for family in $FAMILIES; do
    for seed in $SEEDS; do
      inst="$OUT/$size-$family-$seed.json"
      [ -f "$inst" ] || "$BIN" generate "$size" "$seed" "$inst" "$family"
      greedy=$(measure "$BIN" greedy "$inst" "$OUT/greedy.json")
      highs="null"
      hline="$OUT/$size-$family-$seed.highs.line"
      if [ "$HIGHS_LIMIT" != 0 ] && [ "$size" != L ] && [ "$size" != XL ] \
        && [[ " $HIGHS_SEEDS " == *" $seed "* ]]; then
        if [ ! -s "$hline" ]; then
          measure python3 bench/planner/highs_peer.py "$inst" --out "$OUT/highs.json" \
            --time-limit "$HIGHS_LIMIT" --gap "$HIGHS_GAP" --json >"$hline" || : >"$hline"
        fi
      fi
      [ -s "$hline" ] && highs=$(cat "$hline")
      planner=$(measure "$BIN" solve "$inst" "$OUT/plan.json" "$limit" "$seed")
      check=$(verdict "$inst" "$OUT/plan.json")
      python3 -c 'import json,sys
size, family, seed, greedy, highs, planner, check = sys.argv[1:]
print(json.dumps({"size": size, "family": family, "seed": int(seed), "greedy": json.loads(greedy),
                  "highs": json.loads(highs), "planner": json.loads(planner), "check": check}))' \
        "$size" "$family" "$seed" "$greedy" "$highs" "$planner" "$check" >>"$RESULTS"
      printf '.' >&2
    done
  done
  echo >&2
done

python3 - "$RESULTS" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def pct(x): return "-" if x is None else f"{100 * x:.2f}%"
print("| size | family | seeds | worst gap (seed) | median gap | worst % of HiGHS's bound (seed) | worst % of best known (seed) | median x greedy | worst x greedy | max s | max MB | feasible | bound >= best known |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
worst_family = {}
for size in dict.fromkeys(r["size"] for r in rows):
    for family in dict.fromkeys(r["family"] for r in rows if r["size"] == size):
        rs = [r for r in rows if r["size"] == size and r["family"] == family]
        gaps = [(r["planner"]["gap"], r["seed"]) for r in rs]
        # Best known: the best of the planner's bound-free figures and HiGHS's plan.
        shares = []
        for r in rs:
            best = r["planner"]["objective"]
            h = r["highs"]
            if h and h.get("objective"):
                best = max(best, h["objective"])
            shares.append((r["planner"]["objective"] / best if best > 0 else 1.0, r["seed"], bool(h and h.get("objective"))))
        ratios = [r["planner"]["objective"] / r["greedy"]["objective"] for r in rs if r["greedy"]["objective"] > 0]
        wg = max(gaps)
        ws = min(shares)
        ok = sum(1 for r in rs if r["check"].split()[:1] == ["feasible"])
        bound_ok = 0
        for r in rs:
            best = r["planner"]["objective"]
            if r["highs"] and r["highs"].get("objective"):
                best = max(best, r["highs"]["objective"])
            bound_ok += r["planner"]["bound"] >= best - 1e-6 * (1 + abs(best))
        # HiGHS's bound: no plan exceeds it, so objective / bound is at most
        # the share of the optimum the planner reached.
        of_bound = [(r["planner"]["objective"] / min(r["highs"]["bound"], r["planner"]["bound"]), r["seed"])
                    for r in rs if r["highs"] and r["highs"].get("bound")]
        bound_text = f"{100 * min(of_bound)[0]:.2f}% ({min(of_bound)[1]})" if of_bound else "-"
        share_text = f"{100 * ws[0]:.2f}% ({ws[1]})" if any(s[2] for s in shares) else "-"
        print(f"| {size} | {family} | {len(rs)} | {pct(wg[0])} ({wg[1]}) | {pct(statistics.median(g for g, _ in gaps))} | {bound_text} | {share_text} | "
              f"{statistics.median(ratios) if ratios else float('nan'):.2f} | {min(ratios) if ratios else float('nan'):.2f} | "
              f"{max(r['planner']['seconds'] for r in rs):.2f} | {max(r['planner']['peak_mb'] for r in rs):.0f} | {ok}/{len(rs)} | {bound_ok}/{len(rs)} |")
        if size not in worst_family or wg[0] > worst_family[size][0]:
            worst_family[size] = (wg[0], family, wg[1])
for size, (gap, family, seed) in worst_family.items():
    print(f"worst family at {size}: {family} (gap {pct(gap)}, seed {seed})")
print(f"cores: {__import__('os').cpu_count()}")
PY
