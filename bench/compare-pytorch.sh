#!/usr/bin/env bash
# Side by side with PyTorch on one machine, in one run: the reference harness
# (../shared/reference/time_fullsize.py: diffusers 0.21.4 / transformers 4.35.0.dev0 on Debian's CPU torch)
# and `./euterpe bench --json` on the same full-size configuration with random weights, both at the same
# thread count. Prints per-stage times and ratios (engine / PyTorch) and writes both JSON reports plus a
# combined one to bench/results/tmp/.
#
# Usage: bench/compare-pytorch.sh [--model CONFIG_DIR] [--threads N] [--install] [-o RESULT.json]
#                                 [--torch-json FILE] [--euterpe-json FILE]
#   --model    config folder (default ../shared/model-configs/audioldm-s-full-v2; the harness only knows
#              that model's component set, so others change only the engine side)
#   --install  apt-get install the Debian packages the harness needs (python3-torch, ...)
#   -o FILE    also write the combined report (machine, both reports, ratios) to FILE
#   --torch-json / --euterpe-json FILE: reuse a report of an earlier run instead of running that side
#              (e.g. when both were run at the same time by hand)
#
# The upstream Python sources cannot be downloaded by this script (they are fetched with the
# project's `fetch` tool and must never be committed). Put them, extracting only `src/`, at
#   reference-src/src/diffusers/src/diffusers        (huggingface/diffusers, tag v0.21.4)
#   reference-src/src/transformers/src/transformers  (NielsRogge/transformers, commit 0ed6729bb130cb1d43fb2ede60b0c50f9ee14d68)
#   reference-src/src/hfhub/src/huggingface_hub      (huggingface/huggingface_hub, tag v0.17.3)
# e.g. `git --git-dir=<fetched repo> archive v0.21.4 src | tar -x -C reference-src/src/diffusers`.
# reference-src/ (at the repository root) is git-ignored; REF_SRC overrides its location.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${EUTERPE_SHARED:-$ROOT/../shared}"
REF_SRC="${REF_SRC:-$ROOT/reference-src}"
MODEL="$SHARED/model-configs/audioldm-s-full-v2"
THREADS=2
INSTALL=0
RESULT=""
TORCH_JSON=""
OURS_JSON=""
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --install) INSTALL=1; shift ;;
    -o) RESULT="$2"; shift 2 ;;
    --torch-json) TORCH_JSON="$2"; shift 2 ;;
    --euterpe-json) OURS_JSON="$2"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "compare-pytorch: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "compare-pytorch: $*" >&2; exit 1; }

WORK="$ROOT/bench/results/tmp/compare-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$WORK/out"
if [ -n "$TORCH_JSON" ]; then
  cp "$TORCH_JSON" "$WORK/out/fullsize_timing.json"
else
  [ -f "$SHARED/reference/time_fullsize.py" ] || die "no reference harness at $SHARED/reference (set EUTERPE_SHARED)"
  for d in diffusers/src/diffusers transformers/src/transformers hfhub/src/huggingface_hub; do
    [ -d "$REF_SRC/src/$d" ] || die "missing upstream sources $REF_SRC/src/$d — fetch them as described at the top of $0"
  done
  if [ "$INSTALL" = 1 ]; then
    apt-get install -y python3-torch python3-numpy python3-regex python3-yaml python3-requests \
      python3-filelock python3-tqdm python3-packaging python3-scipy
  fi
  /usr/bin/python3 -c 'import torch, numpy, scipy, regex, yaml' 2>/dev/null \
    || die "/usr/bin/python3 lacks torch or its companions; rerun with --install (Debian packages)"

  mkdir -p "$WORK/assets/configs/audioldm-s-full-v2"
  for c in unet vae vocoder text_encoder; do
    src="$SHARED/model-configs/audioldm-s-full-v2/$c/config.json"
    cp "$src" "$WORK/assets/configs/audioldm-s-full-v2/$c.json"
  done
  # env.sh expects shim/ and src/ side by side under REF_ROOT.
  REF_ROOT="$WORK/ref"; mkdir -p "$REF_ROOT"
  ln -s "$(cd "$SHARED/reference/shim" && pwd)" "$REF_ROOT/shim"
  ln -s "$(cd "$REF_SRC/src" && pwd)" "$REF_ROOT/src"

  echo "== PyTorch reference ($THREADS threads; the harness fixes 2)" >&2
  [ "$THREADS" = 2 ] || echo "compare-pytorch: warning: time_fullsize.py always uses 2 threads" >&2
  ( export REF_ROOT; . "$SHARED/reference/env.sh"; cd "$WORK"
    REF_ASSETS=assets GOLDEN_OUT=out /usr/bin/python3 -c '
import resource, runpy, sys, json, os
runpy.run_path(sys.argv[1], run_name="__main__")
p = os.path.join("out", "fullsize_timing.json")
r = json.load(open(p)); r["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
json.dump(r, open(p, "w"), indent=1)' "$SHARED/reference/time_fullsize.py" >"$WORK/torch.log" 2>&1 ) \
    || { tail -20 "$WORK/torch.log" >&2; die "the PyTorch harness failed (log: $WORK/torch.log)"; }
fi
if [ -n "$OURS_JSON" ]; then
  cp "$OURS_JSON" "$WORK/euterpe.json"
else
  echo "== Euterpe ($THREADS threads)" >&2
  "$ROOT/euterpe" bench --model "$MODEL" --threads "$THREADS" --seconds 10 --steps 10 --json >"$WORK/euterpe.json"
fi
/usr/bin/python3 - "$WORK/out/fullsize_timing.json" "$WORK/euterpe.json" "$RESULT" <<'PY'
import json, os, platform, sys
torch = json.load(open(sys.argv[1]))
ours = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
s = ours["stages"]
parts = ("text_encoder", "unet", "vae_decode", "vocoder")
t = {k: torch[k]["timing"]["median_s"] for k in parts if k in torch}
tg = {k: torch[k]["gflops"] for k in t}
# The harness times no whole clip: PyTorch's is the sum of its stages as the pipeline runs them
# (text encoder once, the U-Net once per step, VAE decode, vocoder).
steps = ours.get("steps", 10)
if all(k in t for k in parts):
    t["total"] = t["text_encoder"] + steps * t["unet"] + t["vae_decode"] + t["vocoder"]
    tg["total"] = tg["text_encoder"] + steps * tg["unet"] + tg["vae_decode"] + tg["vocoder"]
targets = {"text_encoder": 0.1, "unet": 0.45, "vae_decode": 1.0, "vocoder": 1.0, "total": 0.6}
rows = {}
print(f"{'stage':14} {'torch s':>9} {'euterpe s':>10} {'ratio':>7} {'target':>7} {'torch GF/s':>11} {'ours GF/s':>10}")
for k in ("text_encoder", "unet", "vae_decode", "vocoder", "total"):
    if k not in s or k not in t:
        print(f"{k:14} " + ("(no PyTorch figure)" if k in s else "(not run by euterpe)"))
        continue
    r = s[k]["median_s"] / t[k]
    rows[k] = {"torch_s": t[k], "euterpe_s": s[k]["median_s"], "ratio": r, "target": targets[k],
               "torch_gflop": tg[k], "euterpe_gflop": s[k]["gflop"]}
    print(f"{k:14} {t[k]:9.3f} {s[k]['median_s']:10.3f} {r:7.3f} {targets[k]:7.2f} {tg[k]/t[k]:11.1f} {s[k]['gflops_per_s']:10.1f}"
          + ("" if r <= targets[k] else "   (missed)"))
rss = {"torch": torch.get("peak_rss_mb"), "euterpe": ours.get("peak_rss_mb")}
print(f"peak RSS MiB: torch {rss['torch']}, euterpe {rss['euterpe']:.0f}")
if sys.argv[3]:
    cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")]
    report = {"machine": {"cpu": cpu[0] if cpu else platform.processor(), "cores": os.cpu_count(),
                          "load_avg_at_end": os.getloadavg()},
              "ratios": rows, "peak_rss_mb": rss, "torch": torch, "euterpe": ours}
    json.dump(report, open(sys.argv[3], "w"), indent=1)
    print("wrote", sys.argv[3])
PY
