#!/usr/bin/env python3
"""Benchmark peer: solve a reliefhub-plan-instance/1 as a MIP with HiGHS.

usage: highs_peer.py INSTANCE.json [--out PLAN.json] [--time-limit S] [--gap G] [--json]

Requires the PyPI package highspy (`pip install highspy`). This is a
benchmark peer for the planner, not a dependency of the product.

Model: integer packs n[l,d] of lot l loaded on departure d, integer units
z[d,r] delivered to request r from departure d, binary y[d] for every
departure with a fixed cost. Per (departure, item) the units loaded equal the
units delivered; lots, requests and departure capacities are respected.
"""
import argparse
import json
import sys
import time
from collections import defaultdict
from datetime import date

import numpy as np
import highspy


def day(s):
    return date.fromisoformat(s).toordinal()


def build(inst):
    items = {i["id"]: i for i in inst["items"]}
    transfer = {(t["from"], t["to"]): t["days"] for t in inst.get("transfers", [])}
    deps = inst["departures"]
    reqs = inst["requests"]
    lots = inst["lots"]

    cost, lower, upper, integ = [], [], [], []
    names = []  # (kind, payload)

    def col(c, up, kind, payload):
        cost.append(c)
        lower.append(0.0)
        upper.append(up)
        integ.append(1)
        names.append((kind, payload))
        return len(cost) - 1

    y = {}
    for di, d in enumerate(deps):
        if d["fixed_cost"] > 0:
            y[di] = col(-d["fixed_cost"], 1.0, "y", di)

    # Deliveries.
    z = defaultdict(list)  # (di, item) -> [(col, ri)]
    dep_items = defaultdict(set)
    for di, d in enumerate(deps):
        arr = day(d["arrives"])
        for ri, r in enumerate(reqs):
            if r["destination"] != d["destination"]:
                continue
            late = max(0, arr - day(r["needed_by"]))
            if late > r["grace_days"]:
                continue
            it = items[r["item"]]
            if it["dangerous_goods"] and not d["dangerous_goods"]:
                continue
            tl = 1.0 if late == 0 else 1.0 - late / (r["grace_days"] + 1)
            u = r["value_per_unit"] * tl - it["unit_weight_kg"] * d["cost_per_kg"]
            if u <= 0:
                continue
            c = col(u, float(r["quantity"]), "z", (di, ri))
            z[(di, r["item"])].append((c, ri))
            dep_items[di].add(r["item"])

    # Loads.
    n = defaultdict(list)  # (di, item) -> [(col, li)]
    lot_cols = defaultdict(list)
    for li, l in enumerate(lots):
        it = items[l["item"]]
        for di, d in enumerate(deps):
            if l["item"] not in dep_items[di]:
                continue
            t = 0 if l["node"] == d["node"] else transfer.get((l["node"], d["node"]))
            if t is None or day(l["available"]) + t > day(d["departs"]):
                continue
            if l.get("expires") is not None and day(l["expires"]) < day(d["arrives"]) + it["min_shelf_life_days"]:
                continue
            if l["earmark"] and d["destination"][:2] not in l["earmark"]:
                continue
            c = col(0.0, float(l["quantity"] // l["pack_size"]), "n", (li, di))
            n[(di, l["item"])].append((c, li))
            lot_cols[li].append(c)

    rows_lo, rows_up, starts, index, value = [], [], [], [], []

    def row(lo, up, entries):
        rows_lo.append(lo)
        rows_up.append(up)
        starts.append(len(index))
        for c, v in entries:
            index.append(c)
            value.append(v)

    inf = highspy.kHighsInf
    for li, cols in lot_cols.items():
        p = lots[li]["pack_size"]
        row(-inf, float(lots[li]["quantity"]), [(c, float(p)) for c in cols])
    req_cols = defaultdict(list)
    for (di, item), lst in z.items():
        for c, ri in lst:
            req_cols[ri].append(c)
    for ri, cols in req_cols.items():
        row(-inf, float(reqs[ri]["quantity"]), [(c, 1.0) for c in cols])
    for key, zl in z.items():
        entries = [(c, 1.0) for c, _ in zl]
        entries += [(c, -float(lots[li]["pack_size"])) for c, li in n.get(key, [])]
        row(0.0, 0.0, entries)
    for di, d in enumerate(deps):
        its = dep_items[di]
        if not its:
            continue
        for cap_key, attr, cold_only in (("payload_kg", "unit_weight_kg", False),
                                         ("volume_m3", "unit_volume_m3", False),
                                         ("cold_volume_m3", "unit_volume_m3", True)):
            entries = []
            for item in its:
                if cold_only and not items[item]["cold_chain"]:
                    continue
                for c, _ in z[(di, item)]:
                    entries.append((c, items[item][attr]))
            if not entries:
                continue
            cap = float(d[cap_key])
            if di in y:
                entries.append((y[di], -cap))
                row(-inf, 0.0, entries)
            else:
                row(-inf, cap, entries)
        if di in y:
            # Variable upper bounds: nothing is delivered on a charter that does not fly.
            for item in its:
                for c, ri in z[(di, item)]:
                    row(-inf, 0.0, [(c, 1.0), (y[di], -float(reqs[ri]["quantity"]))])
    return (cost, lower, upper, integ, names, rows_lo, rows_up, starts, index, value)


def extract(inst, names, x):
    """Turn (loads, deliveries) into allocations by matching per (departure, item)."""
    lots, deps, reqs = inst["lots"], inst["departures"], inst["requests"]
    loads = defaultdict(list)
    dels = defaultdict(list)
    for (kind, payload), v in zip(names, x):
        k = int(round(v))
        if k <= 0:
            continue
        if kind == "n":
            li, di = payload
            loads[(di, lots[li]["item"])].append([li, k * lots[li]["pack_size"]])
        elif kind == "z":
            di, ri = payload
            dels[(di, reqs[ri]["item"])].append([ri, k])
    allocs = []
    for key, ll in loads.items():
        dl = dels.get(key, [])
        i = 0
        for lot in ll:
            while lot[1] > 0 and i < len(dl):
                q = min(lot[1], dl[i][1])
                allocs.append({"lot": lots[lot[0]]["id"], "departure": deps[key[0]]["id"],
                               "request": reqs[dl[i][0]]["id"], "quantity": q})
                lot[1] -= q
                dl[i][1] -= q
                if dl[i][1] == 0:
                    i += 1
    return allocs


def objective(inst, allocs):
    items = {i["id"]: i for i in inst["items"]}
    lots = {l["id"]: l for l in inst["lots"]}
    deps = {d["id"]: d for d in inst["departures"]}
    reqs = {r["id"]: r for r in inst["requests"]}
    val = fr = 0.0
    used = set()
    for a in allocs:
        l, d, r, q = lots[a["lot"]], deps[a["departure"]], reqs[a["request"]], a["quantity"]
        late = max(0, day(d["arrives"]) - day(r["needed_by"]))
        tl = 1.0 if late == 0 else 1.0 - late / (r["grace_days"] + 1)
        val += q * r["value_per_unit"] * tl
        fr += q * items[l["item"]]["unit_weight_kg"] * d["cost_per_kg"]
        used.add(d["id"])
    return val - fr - sum(deps[d]["fixed_cost"] for d in used)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance")
    ap.add_argument("--out")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--gap", type=float, default=1e-4, help="relative MIP gap at which HiGHS stops")
    ap.add_argument("--json", action="store_true", help="print a one-line JSON summary")
    opts = ap.parse_args()
    t0 = time.monotonic()
    inst = json.load(open(opts.instance))
    cost, lower, upper, integ, names, rlo, rup, starts, index, value = build(inst)
    build_s = time.monotonic() - t0

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", max(1.0, opts.time_limit - build_s))
    h.setOptionValue("mip_rel_gap", opts.gap)
    ncol = len(cost)
    h.addVars(ncol, np.array(lower), np.array(upper))
    h.changeColsCost(ncol, np.arange(ncol, dtype=np.int32), np.array(cost))
    h.changeColsIntegrality(ncol, np.arange(ncol, dtype=np.int32), np.array(integ, dtype=np.uint8))
    h.addRows(len(rlo), np.array(rlo), np.array(rup), len(index),
              np.array(starts, dtype=np.int32), np.array(index, dtype=np.int32), np.array(value))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    # When HiGHS found each better plan, by its own clock (model building
    # in Python not counted): the time to compare with is when it found
    # the plan it ends with, not when it stopped.
    found = []
    h.cbMipImprovingSolution.subscribe(
        lambda e: found.append((e.data_out.running_time, e.data_out.objective_function_value)))
    h.run()
    info = h.getInfo()
    sol = h.getSolution()
    allocs = extract(inst, names, sol.col_value) if (info.primal_solution_status == 2 or sol.value_valid) else []
    obj = objective(inst, allocs)
    bound = info.mip_dual_bound
    secs = time.monotonic() - t0
    if opts.out:
        with open(opts.out, "w") as f:
            json.dump({"format": "reliefhub-plan/1", "instance": inst.get("name", ""),
                       "allocations": allocs, "objective": obj, "upper_bound": bound}, f)
    summary = {"solver": "highs", "objective": obj, "bound": bound,
               "gap": (bound - obj) / abs(bound) if bound else None,
               "seconds": secs, "found_seconds": found[-1][0] if found else None,
               "columns": ncol, "rows": len(rlo),
               "status": h.modelStatusToString(h.getModelStatus())}
    if opts.json:
        print(json.dumps(summary))
    else:
        print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
