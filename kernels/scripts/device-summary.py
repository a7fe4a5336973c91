#!/usr/bin/env python3
"""The device kit's last step: merges the parts' results into OUT/results.json and prints the table.

Usage (device-run.sh calls it): device-summary.py STAGES_TSV OUT DEVICE TOTAL_SECONDS
STAGES_TSV has one line per part: name, status, seconds, summary, and a JSON file of its data (or
nothing). The benchmark's ratios are engine / PyTorch per stage, from OUT/bench-euterpe.json and
OUT/bench-torch.json when both exist.
"""
import json
import os
import sys

# The goals: the U-Net step at most 0.7x PyTorch eager fp16, a whole 10 s clip in under 0.5 s.
GOALS = {"unet": ("ratio", 0.7), "total": ("seconds", 0.5)}
BENCH_STAGES = ("unet", "vae_decode", "vocoder", "total")


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def bench_rows(out):
    ours = load(os.path.join(out, "bench-euterpe.json"))
    torch = load(os.path.join(out, "bench-torch.json"))
    if not ours:
        return None, []
    rows = []
    for k in BENCH_STAGES:
        e = ours.get("stages", {}).get(k)
        t = (torch or {}).get("stages", {}).get(k)
        if not e:
            continue
        row = {"stage": k, "euterpe_s": e["median_s"], "euterpe_gflops_per_s": e.get("gflops_per_s")}
        if t:
            row.update(torch_s=t["median_s"], torch_gflops_per_s=t.get("gflops_per_s"),
                       ratio=e["median_s"] / t["median_s"])
        goal = GOALS.get(k)
        if goal:
            kind, v = goal
            value = row.get("ratio") if kind == "ratio" else e["median_s"]
            row["goal"] = ("<= %.2fx PyTorch" % v) if kind == "ratio" else ("< %.2f s" % v)
            row["goal_met"] = None if value is None else (value <= v if kind == "ratio" else value < v)
        rows.append(row)
    return {"euterpe": ours, "torch": torch}, rows


def main():
    stages_tsv, out, device, total_s = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    parts = []
    with open(stages_tsv) as f:
        for line in f:
            name, status, secs, summary, data = (line.rstrip("\n").split("\t") + [""] * 5)[:5]
            part = {"name": name, "status": status, "seconds": int(secs or 0), "summary": summary}
            if data:
                d = load(data)
                if d is not None and not data.startswith(out):
                    part["data"] = d
            parts.append(part)
    bench, rows = bench_rows(out)
    result = {"device": device, "total_s": total_s, "parts": parts, "bench": rows}
    if bench:
        for side in ("euterpe", "torch"):
            if bench[side]:
                result.setdefault("bench_context", {})[side] = {
                    k: v for k, v in bench[side].items() if k not in ("stages",)}
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(result, f, indent=1)

    print()
    print("device kit on %s, %d s in all" % (device, total_s))
    print("%-26s %-8s %5s  %s" % ("part", "status", "s", "result"))
    for p in parts:
        print("%-26s %-8s %5d  %s" % (p["name"], p["status"], p["seconds"], p["summary"][:110]))
    if rows:
        print()
        print("%-11s %10s %10s %7s %11s %11s  %s" % ("stage", "euterpe s", "torch s", "ratio", "ours GF/s",
                                                   "torch GF/s", "goal"))
        for r in rows:
            fmt = lambda v, f: (f % v) if isinstance(v, (int, float)) else "-"  # noqa: E731
            goal = ""
            if "goal" in r:
                goal = r["goal"] + (" (met)" if r["goal_met"] else " (missed)" if r["goal_met"] is False else "")
            print("%-11s %10s %10s %7s %11s %11s  %s" % (
                r["stage"], fmt(r["euterpe_s"], "%.4f"), fmt(r.get("torch_s"), "%.4f"), fmt(r.get("ratio"), "%.3f"),
                fmt(r.get("euterpe_gflops_per_s"), "%.1f"), fmt(r.get("torch_gflops_per_s"), "%.1f"), goal))
    print("results: %s" % os.path.join(out, "results.json"))


if __name__ == "__main__":
    main()
