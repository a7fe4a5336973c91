#!/usr/bin/env bash
# Stable Audio Open side by side with PyTorch on one machine: ../shared/reference-sao/time_fullsize_sao.py
# (diffusers 0.32.2 on Debian's CPU torch 1.13, random weights; the whole clip by bench/compare_sao_pytorch.py
# --torch-total on the same library) and `./euterpe bench --model CONFIGS --json` on the same config folder,
# same threads and stages: T5 on 2 x 128 tokens, one CFG DiT step (batch 2) at each --seconds, the Oobleck
# decode of each --seconds, the whole clip (full length, 47.55 s) at each --steps. One fresh process per side
# and measurement (so its peak RSS is that stage's), rounds interleaved. Prints Euterpe / PyTorch ratios against
# the goals (DiT step <= 0.5, Oobleck decode <= 0.6, T5 <= 0.5, peak RSS <= 1.0) and writes
# bench/results/cpu-sao-vs-pytorch-DATE.json (per-run files and a log under bench/results/tmp/).
#
# Usage: bench/compare-sao-pytorch.sh [--stages text_encoder,dit,vae_decode,total] [--seconds 10,47.55]
#          [--steps 8,25,100] [--rounds 3] [--repeat 2] [--threads 2] [--model CONFIG_DIR] [--out FILE]
#          [--engine-dtypes f16,int8] [--engine-only]
# --engine-dtypes also times the engine's dit and vae_decode with f16/bf16/int8 weights (as `convert --dtype`
# stores them), interleaved with its f32 runs, against the f32 time (goal <= 1.3); --engine-only skips PyTorch.
# Needs: /usr/bin/python3 with Debian's python3-torch (and the packages ../shared/reference-sao/env.sh lists);
# the upstream sources diffusers v0.32.2, transformers 0ed6729b, huggingface_hub v0.26.5 extracted under
# $REF_SRC/src/{diffusers,transformers,hfhub} (default: the first of reference-src-sao/ beside the repository
# root or one level up; never committed). The full DiT needs ~4.2 GB per process on each side; a full run
# (defaults) takes a few hours on 2 threads. Smoke test: --stages text_encoder --rounds 1 --repeat 1.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${EUTERPE_SHARED:-$ROOT/../shared}"
for cand in "${REF_SRC:-}" "$ROOT/reference-src-sao" "$ROOT/../reference-src-sao" "$ROOT/../../reference-src-sao"; do
  if [ -n "$cand" ] && [ -d "$cand/src/diffusers/src/diffusers" ]; then REF_SRC="$(cd "$cand" && pwd)"; break; fi
done
case " $* " in *" -h "*|*" --help "*) sed -n '2,20p' "$0"; exit 0 ;; esac
case " $* " in *" --engine-only "*)
  "$ROOT/euterpe" --help >/dev/null
  exec /usr/bin/python3 "$ROOT/bench/compare_sao_pytorch.py" --root "$ROOT" "$@" ;;
esac
if [ -z "${REF_SRC:-}" ] || [ ! -d "$REF_SRC/src/diffusers/src/diffusers" ]; then
  echo "compare-sao-pytorch: no upstream sources (set REF_SRC to a folder with src/{diffusers,transformers,hfhub})" >&2
  exit 2
fi
REF_ROOT="$(cd "$SHARED/reference-sao" && pwd)"
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "compare-sao-pytorch: /usr/bin/python3 cannot import torch (apt-get install python3-torch)" >&2; exit 2; }
export EUTERPE_SHARED="$SHARED" REF_ROOT
export SAO_PYTHONPATH="$REF_ROOT:$REF_ROOT/shim:$REF_SRC/src/diffusers/src:$REF_SRC/src/transformers/src:$REF_SRC/src/hfhub/src"
# Build the jar now, so no build runs inside a measured process.
"$ROOT/euterpe" --help >/dev/null
exec /usr/bin/python3 "$ROOT/bench/compare_sao_pytorch.py" --root "$ROOT" "$@"
