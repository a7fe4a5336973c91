#!/usr/bin/env bash
# Side by side with the runtimes a JVM user would pick instead: PyTorch (Debian's torch 1.13 running
# diffusers 0.21.4 / transformers 4.35), ONNX Runtime's Java API (1.29, CPU) and DJL on libtorch (0.36 /
# libtorch 2.7.1, CPU), and the engine, on the same full-size audioldm-s-full-v2 components with the same
# seeded random weights and the same inputs.
#
#  1. export (bench/runtimes/runtimes.py export, once per work folder): builds each component from its
#     config with torch.manual_seed(SEED), writes the stage inputs and PyTorch's outputs (.npy), the ONNX
#     graph (torch.onnx.export, opset 17, constant folding, fixed shapes), the TorchScript graph
#     (torch.jit.trace, for DJL) and the weights as a diffusers folder (model/) that the engine maps.
#     The U-Net is wrapped with AudioLDM's call, unet(sample, t, encoder_hidden_states=None, class_labels=...).
#  2. builds the bench module with -Pruntimes (ORT and DJL exist only in that profile).
#  3. rounds: in each round every stage on every runtime, the order of runtimes rotated each round,
#     each run a fresh process (warm-up, then --repeat timed runs; session/model creation untimed),
#     started only when the 1-minute load average is below --max-load (waits up to --load-timeout,
#     then runs anyway and records it). Every output is checked against PyTorch's.
#  4. prints medians over rounds, engine/best ratios, agreement and peak RSS; writes
#     bench/results/runtimes-<date>.json (or -o FILE). Exits non-zero when a run failed or disagreed.
#
# Usage: bench/compare-runtimes.sh [options]
#   --stages LIST     of unet,vae_decode,vocoder,text_encoder,clip (default unet,vae_decode,vocoder,text_encoder);
#                     clip = the whole clip (text encoder, --steps DDIM steps with CFG, VAE, vocoder)
#   --runtimes LIST   of torch,ort,djl,engine (default all)
#   --rounds N        interleaved rounds (default 5)
#   --repeat N        timed runs per process (default 3; each round's figure is their median)
#   --warmup N        untimed runs per process before them (default 2: libtorch's JIT profiles, then optimises;
#                     the whole clip: 1)
#   --seconds S       audio length (default 10)
#   --steps N         DDIM steps of the clip stage (default 10)
#   --threads N       threads of every runtime (default 2; ORT inter-op 1)
#   --quantized       also: the engine's int8 and bf16 weight files, and ORT on a dynamically int8-quantised
#                     graph where one can be made (needs Python onnx; see the README), with SNR against f32
#   --profile         after the rounds, one ORT U-Net run with profiling on: per-operator-class totals
#   --max-load L      load average under which a run starts (default 1.3); --load-timeout S (default 600)
#   --work DIR        export folder (default bench/results/tmp/runtimes-<seconds>s-seed<seed>; reused when
#                     it holds the stages asked for; generated, never committed)
#   --seed N          weights' and inputs' seed (default 0)
#   --model DIR       config folder (default ../shared/model-configs/audioldm-s-full-v2)
#   -o FILE           result JSON (default bench/results/runtimes-<date>.json)
#   --install         apt-get install the Debian packages the PyTorch side needs
# Upstream Python sources: as bench/compare-pytorch.sh (REF_SRC, default reference-src/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${EUTERPE_SHARED:-$ROOT/../shared}"
REF_SRC="${REF_SRC:-$ROOT/reference-src}"
MODEL="$SHARED/model-configs/audioldm-s-full-v2"
STAGES="unet,vae_decode,vocoder,text_encoder"
RUNTIMES="torch,ort,djl,engine"
ROUNDS=5 REPEAT=3 WARMUP=2 SECONDS_=10 STEPS=10 THREADS=2 SEED=0 MAXLOAD=1.3 LOADTIMEOUT=600
QUANT=0 PROFILE=0 INSTALL=0 WORK="" RESULT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --stages) STAGES="$2"; shift 2 ;;
    --runtimes) RUNTIMES="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --seconds) SECONDS_="$2"; shift 2 ;;
    --steps) STEPS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --quantized) QUANT=1; shift ;;
    --profile) PROFILE=1; shift ;;
    --max-load) MAXLOAD="$2"; shift 2 ;;
    --load-timeout) LOADTIMEOUT="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --model) MODEL="$2"; shift 2 ;;
    -o) RESULT="$2"; shift 2 ;;
    --install) INSTALL=1; shift ;;
    -h|--help) sed -n '2,42p' "$0" | sed '$d'; exit 0 ;;
    *) echo "compare-runtimes: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
die() { echo "compare-runtimes: $*" >&2; exit 1; }
for s in ${STAGES//,/ }; do
  case "$s" in unet|vae_decode|vocoder|text_encoder|clip) ;; *) die "unknown stage $s" ;; esac
done
for r in ${RUNTIMES//,/ }; do
  case "$r" in torch|ort|djl|engine) ;; *) die "unknown runtime $r" ;; esac
done
for n in "$ROUNDS" "$REPEAT" "$WARMUP" "$THREADS" "$STEPS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "--rounds, --repeat, --warmup, --threads and --steps take positive integers, got $n"
done
[[ "$SEED" =~ ^[0-9]+$ ]] || die "--seed takes a non-negative integer, got $SEED"
[[ "$SECONDS_" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--seconds takes a positive number, got $SECONDS_"
[ -d "$MODEL" ] || die "no config folder $MODEL (set EUTERPE_SHARED or --model)"

# ---- the PyTorch side: Debian's torch and the upstream sources
if [ "$INSTALL" = 1 ]; then
  apt-get install -y python3-torch python3-numpy python3-regex python3-yaml python3-requests \
    python3-filelock python3-tqdm python3-packaging python3-scipy python3-onnx
fi
/usr/bin/python3 -c 'import torch, numpy, regex, yaml' 2>/dev/null \
  || die "/usr/bin/python3 lacks torch or its companions; rerun with --install (Debian packages)"
for d in diffusers/src/diffusers transformers/src/transformers hfhub/src/huggingface_hub; do
  [ -d "$REF_SRC/src/$d" ] || die "missing upstream sources $REF_SRC/src/$d (see the top of bench/compare-pytorch.sh)"
done
[ -n "$WORK" ] || WORK="$ROOT/bench/results/tmp/runtimes-${SECONDS_}s-seed$SEED"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
REF_ROOT="$WORK/ref"; mkdir -p "$REF_ROOT"
ln -sfn "$(cd "$SHARED/reference/shim" && pwd)" "$REF_ROOT/shim"
ln -sfn "$(cd "$REF_SRC/src" && pwd)" "$REF_ROOT/src"
export REF_ROOT
# shellcheck disable=SC1091
. "$SHARED/reference/env.sh"
PY=(/usr/bin/python3 "$ROOT/bench/runtimes/runtimes.py")

EXPORT_STAGES="$STAGES"
[[ ",$STAGES," == *",clip,"* ]] && EXPORT_STAGES="$STAGES,unet,vae_decode,vocoder,text_encoder"
EXPORT_STAGES="$(tr ',' '\n' <<<"$EXPORT_STAGES" | awk '!seen[$0]++' | paste -sd,)"
missing="$(/usr/bin/python3 - "$WORK/manifest.json" "$EXPORT_STAGES" "$MODEL" "$SECONDS_" "$SEED" "$STEPS" <<'PY'
import json, os, sys
p, stages, model, sec, seed, steps = sys.argv[1:]
m = json.load(open(p)) if os.path.exists(p) else {}
same = m.get("configs") == os.path.abspath(model) and m.get("seconds") == float(sec) and m.get("seed") == int(seed)
have = set(m.get("stages", {})) if same else set()
if m.get("steps") != int(steps):  # only the whole clip's reference depends on the steps
    have.discard("clip")
print(",".join(s for s in stages.split(",") if s not in have))
PY
)"
FULL=()
[ "$QUANT" = 1 ] && FULL=(--full-model)
if [ -n "$missing" ] || { [ "$QUANT" = 1 ] && ! [ -f "$WORK/model/unet/diffusion_pytorch_model.safetensors" -a \
    -f "$WORK/model/text_encoder/model.safetensors" -a -f "$WORK/model/vae/diffusion_pytorch_model.safetensors" -a \
    -f "$WORK/model/vocoder/model.safetensors" ]; }; then
  [ -n "$missing" ] || missing=unet  # only the full model's weights are missing: any stage writes them
  echo "== export ($missing, ${SECONDS_} s, seed $SEED) to $WORK" >&2
  "${PY[@]}" export --configs "$MODEL" --work "$WORK" --stages "$missing" --seconds "$SECONDS_" \
    --steps "$STEPS" --seed "$SEED" --threads "$THREADS" "${FULL[@]}"
  rm -f "$WORK"/model-int8.safetensors "$WORK"/model-bf16.safetensors  # converted from the old weights
fi

if [ "$QUANT" = 1 ]; then
  # The engine's own weight files, converted from the same diffusers folder (before the build below:
  # the launcher rebuilds the modules without the runtimes profile).
  for d in int8 bf16; do
    if [ ! -f "$WORK/model-$d.safetensors" ]; then
      echo "== euterpe convert --dtype $d" >&2
      "$ROOT/euterpe" convert "$WORK/model" "$WORK/model-$d.safetensors" --dtype "$d" >&2
    fi
  done
fi

# ---- the Java side: the bench module with ORT and DJL (profile runtimes)
echo "== building the bench module (-Pruntimes)" >&2
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
export JAVA_HOME MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
( cd "$ROOT" && mvn -q -Pruntimes -pl bench -am test-compile \
    org.apache.maven.plugins:maven-dependency-plugin:3.9.0:build-classpath \
    -Dmdep.outputFile=target/runtimes.classpath -Dmdep.includeScope=runtime ) >"$WORK/build.log" 2>&1 \
  || { tail -20 "$WORK/build.log" >&2; die "building the bench module failed (log: $WORK/build.log)"; }
# A private copy of the bench classes: a build without the profile (the launcher's, CI's) while the rounds
# run would delete the ORT and DJL runners from bench/target/classes.
rm -rf "$WORK/bench-classes" && cp -r "$ROOT/bench/target/classes" "$WORK/bench-classes"
CP="$WORK/bench-classes:$(cat "$ROOT/bench/target/runtimes.classpath")"
JAVA=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m
      -Dai.djl.offline=true -cp "$CP")
export PYTORCH_VERSION=2.7.1 PYTORCH_FLAVOR=cpu

VARIANTS=""
if [ "$QUANT" = 1 ]; then
  VARIANTS="int8,bf16"
  if ! /usr/bin/python3 -c 'import onnx' 2>/dev/null; then
    echo "compare-runtimes: no python3-onnx (apt-get install python3-onnx, or --install): no ORT int8 graphs;" \
      "the int8 comparison is then the engine's int8 against ORT f32" >&2
  elif "${PY[@]}" quantize --work "$WORK" --stages "$STAGES" >&2; then
    VARIANTS="$VARIANTS,ort-int8"
  else
    echo "compare-runtimes: no ORT int8 graphs (see above); the int8 comparison is the engine's int8 vs ORT f32" >&2
  fi
fi
PROF=()
[ "$PROFILE" = 1 ] && PROF=(--profile)
OUT=()
[ -n "$RESULT" ] && OUT=(-o "$RESULT")
JAVA_JOINED="$(printf '%s\x1f' "${JAVA[@]}")"
"${PY[@]}" compare --work "$WORK" --stages "$STAGES" --runtimes "$RUNTIMES" --variants "$VARIANTS" \
  --rounds "$ROUNDS" --repeat "$REPEAT" --warmup "$WARMUP" --threads "$THREADS" --max-load "$MAXLOAD" --load-timeout "$LOADTIMEOUT" \
  --java "${JAVA_JOINED%$'\x1f'}" "${PROF[@]}" "${OUT[@]}"
