#!/usr/bin/env bash
# Dance Diffusion side by side with PyTorch on one machine: bench/time_dance_pytorch.py (diffusers 0.21.4 on
# Debian's CPU torch, random weights) and `./euterpe bench --json` on the same config folder, same thread
# count, same length and steps. Prints the ratios (engine / PyTorch; goal: U-Net step <= 0.5).
#
# Usage: bench/compare-dance-pytorch.sh [--model CONFIG_DIR] [--threads N] [--steps N] [--repeat N]
#   --model  default bench/configs/dance-diffusion-48k (the real checkpoints' layout, 65536 samples, stereo)
# Upstream sources as for bench/compare-pytorch.sh (reference-src/src/{diffusers,transformers,hfhub}, never
# committed), and the reference shim from ../shared/reference.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${EUTERPE_SHARED:-$ROOT/../shared}"
REF_SRC="${REF_SRC:-$ROOT/reference-src}"
MODEL="$ROOT/bench/configs/dance-diffusion-48k"; THREADS=2; STEPS=100; REPEAT=3
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL="$2"; shift 2 ;; --threads) THREADS="$2"; shift 2 ;;
    --steps) STEPS="$2"; shift 2 ;; --repeat) REPEAT="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "compare-dance-pytorch: unknown option $1" >&2; exit 2 ;;
  esac
done
WORK="$ROOT/bench/results/tmp/dance-$(date +%Y%m%d-%H%M%S)"; mkdir -p "$WORK/ref"
ln -s "$(cd "$SHARED/reference/shim" && pwd)" "$WORK/ref/shim"
ln -s "$(cd "$REF_SRC/src" && pwd)" "$WORK/ref/src"
echo "== PyTorch ($THREADS threads)" >&2
( export REF_ROOT="$WORK/ref"; . "$SHARED/reference/env.sh"
  /usr/bin/python3 "$ROOT/bench/time_dance_pytorch.py" "$MODEL" --threads "$THREADS" --steps "$STEPS" \
    --repeat "$REPEAT" ) >"$WORK/torch.json"
echo "== Euterpe ($THREADS threads)" >&2
"$ROOT/euterpe" bench --model "$MODEL" --threads "$THREADS" --steps "$STEPS" --repeat "$REPEAT" --json >"$WORK/euterpe.json"
/usr/bin/python3 - "$WORK/torch.json" "$WORK/euterpe.json" <<'PY'
import json, sys
t = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["stages"]
o = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])["stages"]
for k, goal in (("unet", 0.5), ("total", None)):
    r = o[k]["median_s"] / t[k]["median_s"]
    print(f"{k:6} torch {t[k]['median_s']:9.3f} s  euterpe {o[k]['median_s']:9.3f} s  ratio {r:6.3f}"
          + (f"  goal <= {goal}" + ("" if r <= goal else " (missed)") if goal else ""))
PY
echo "reports: $WORK" >&2
