#!/usr/bin/env bash
# The device kit's entry script: runs the engine's CUDA checks and the GPU benchmark on a bare GPU
# machine from the archive kernels/scripts/device-kit.sh builds, and writes the results to OUT.
# Run it from a checkout of the repository (the tiny conformance cases are read from
# pipeline/src/test/conformance/) with the kit folder beside it, e.g. on the GPU machine:
#   bash kernels/scripts/device-run.sh "$OUT"
# Proof without a GPU (everything but the CUDA calls):  kernels/scripts/device-run.sh /tmp/out --device cpu
#
# Parts, in this order, each under its own time limit and each leaving a result line even when an
# earlier one failed:
#   facts        nvidia-smi, the machine, the kit's manifest, python3's torch
#   ops          the op harness (BackendOpsTest: every op, f32/f16/bf16/int8 weights) on DEVICE
#                against the scalar reference
#   conformance  the tiny conformance cases (tiny-audioldm, tiny-musicldm) on DEVICE
#   agree        one full-size audioldm-s U-Net step (random weights, CFG batch 2, 10 s) on DEVICE vs
#                the cpu backend; on cuda also with f16 weights on the tensor cores (agree_tc)
#   bench        the engine (f16 weights; tensor cores on cuda) and PyTorch eager fp16 running diffusers'
#                own modules (bench/torch_gpu_bench.py, diffusers from the kit): U-Net step, VAE decode,
#                vocoder, a whole 10 s clip at 20 steps; ratios engine / PyTorch
#   leak         20 generations of the tiny model: live device buffers and device memory after the
#                first and the last
# OUT gets log.txt (everything), results.json (one record per part), bench-euterpe.json and
# bench-torch.json; a short table is printed last.
#
# Usage: kernels/scripts/device-run.sh OUT [--device cuda|cuda:N|cpu] [--kit FILE] [--repeat N] [--steps N]
#                                          [--only PARTS] [--scale X] [--deadline S] [--leak-runs N]
#   --kit FILE   the archive (default device-kit/kit.tar.xz at the repo root); KIT_HOME=DIR uses an
#                unpacked kit instead
#   --repeat N   timed runs per benchmark stage (default 3)
#   --steps N    denoising steps of the benchmark's whole clip (default 20)
#   --leak-runs N generations of the leak check (default 20)
#   --only PARTS comma-separated subset of facts,ops,conformance,agree,bench,leak
#   --scale X    multiplies every part's time limit (default 1; the limits are sized for a GPU:
#                about 6 minutes in all)
#   --deadline S seconds from the start by which every part has ended (default 540, so the table
#                is printed inside a 10-minute command); a part gets at most what is left of it
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[ $# -ge 1 ] || { sed -n '2,30p' "$0"; exit 2; }
OUT="$1"; shift
DEVICE=cuda
ARCHIVE="$ROOT/device-kit/kit.tar.xz"
REPEAT=3
STEPS=20
LEAK_RUNS=20
ONLY="facts,ops,conformance,agree,bench,leak"
SCALE=1
DEADLINE=540
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE="$2"; shift 2 ;;
    --kit) ARCHIVE="$2"; shift 2 ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    --steps) STEPS="$2"; shift 2 ;;
    --leak-runs) LEAK_RUNS="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --scale) SCALE="$2"; shift 2 ;;
    --deadline) DEADLINE="$2"; shift 2 ;;
    *) echo "device-run: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
LOG="$OUT/log.txt"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/euterpe-device-run.XXXX")"
STAGES="$WORK/stages.tsv"
: > "$LOG"; : > "$STAGES"
cd "$ROOT"
T_START=$(date +%s)

log() { echo "$*" | tee -a "$LOG"; }
# result NAME STATUS SECONDS SUMMARY [JSON_FILE]: one line per part for results.json and the table;
# results.json is rewritten after every part, so it is there even if the command is killed later.
result() {
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4//$'\t'/ }" "${5:-}" >> "$STAGES"
  log "== $1: $2 (${3}s) $4"
  python3 "$ROOT/kernels/scripts/device-summary.py" "$STAGES" "$OUT" "$DEVICE" "$(( $(date +%s) - T_START ))" \
    >/dev/null 2>&1 || true
}
want() { [[ ",$ONLY," == *",$1,"* ]]; }
limit() { awk -v s="$1" -v k="$SCALE" 'BEGIN { printf "%d", s * k }'; }
# run_part NAME LIMIT_S CMD...: runs CMD with its output in the log and in $WORK/NAME.out; sets RC, SECS.
run_part() {
  local name="$1" lim left; lim="$(limit "$2")"; shift 2
  left=$(( DEADLINE - ($(date +%s) - T_START) - 15 ))  # 15 s kept for the summary
  [ "$lim" -le "$left" ] || lim=$left
  if [ "$lim" -lt 5 ]; then
    log "== $name: no time left before the ${DEADLINE}s deadline"
    : > "$WORK/$name.out"; RC=124; SECS=0; TIMED_OUT=1
    return
  fi
  log "== $name (limit ${lim}s): $*"
  local t0; t0=$(date +%s)
  timeout --kill-after=15 "$lim" "$@" > "$WORK/$name.out" 2>&1
  RC=$?
  SECS=$(( $(date +%s) - t0 ))
  cat "$WORK/$name.out" >> "$LOG"
  if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then TIMED_OUT=1; else TIMED_OUT=0; fi
}
last_json() { grep '^{' "$1" | tail -n1; }

# ---------------------------------------------------------------- the kit
if [ -n "${KIT_HOME:-}" ] && [ -x "$KIT_HOME/jre/bin/java" ]; then
  KIT="$KIT_HOME"
else
  [ -f "$ARCHIVE" ] || { result kit fail 0 "no kit at $ARCHIVE (build it with kernels/scripts/device-kit.sh)"; }
  t0=$(date +%s)
  mkdir -p "$WORK/kit"
  if ! tar -xJf "$ARCHIVE" -C "$WORK/kit" 2>>"$LOG"; then
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$ARCHIVE" "$WORK/kit" 2>>"$LOG"
  fi
  KIT="$WORK/kit/euterpe-kit"
  [ -x "$KIT/jre/bin/java" ] && log "kit unpacked in $(( $(date +%s) - t0 ))s"
fi
# libjsig first, as ./euterpe starts the JVM: native drivers that install signal handlers then chain
# to the JVM's instead of replacing them.
JAVA=(env LD_PRELOAD="$KIT/jre/lib/libjsig.so" "$KIT/jre/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m
      -XX:GCTimeRatio=4 -Djava.io.tmpdir="$WORK")
CP="$KIT/lib/*"
CONFIGS="$KIT/configs/audioldm-s-full-v2"
# The kit leaves out the tokenizer's vocabulary: it is the tracked tiny-audioldm case's (device-kit.sh checks).
for f in vocab.json merges.txt; do
  [ -f "$CONFIGS/tokenizer/$f" ] || cp "pipeline/src/test/conformance/tiny-audioldm/tokenizer/$f" "$CONFIGS/tokenizer/" 2>/dev/null
done
if [ ! -x "$KIT/jre/bin/java" ]; then
  result kit fail 0 "the kit's runtime is missing ($KIT/jre/bin/java)"
  ONLY="facts"
fi
TC=()
case "$DEVICE" in cuda*) TC=(-Deuterpe.cuda.tensorCores=true) ;; esac

# ---------------------------------------------------------------- facts
if want facts; then
  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
    if command -v nvidia-smi >/dev/null; then
      nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,clocks.max.sm --format=csv 2>&1
      nvidia-smi 2>&1
    else
      echo "nvidia-smi: not found (no NVIDIA driver on this machine)"
    fi
    [ -x "$KIT/jre/bin/java" ] && "$KIT/jre/bin/java" -version 2>&1
    # The backends as the kit's runtime sees them (on cuda: whether JCuda's library loaded and the device opened).
    [ -x "$KIT/jre/bin/java" ] && timeout 60 "${JAVA[@]}" -cp "$CP" org.euterpe.pipeline.cli.Main devices 2>&1 \
      | grep -E '^(cpu|opencl|cuda) '
    [ -f "$KIT/MANIFEST.txt" ] && sed -n '1,6p' "$KIT/MANIFEST.txt"
    python3 -c 'import torch; print("torch", torch.__version__, "cuda" if torch.cuda.is_available() else "no cuda", torch.version.cuda)' 2>&1 | tail -n1
    python3 -c 'import transformers; print("transformers", transformers.__version__)' 2>&1 | tail -n1
  } > "$WORK/facts.out" 2>&1
  cat "$WORK/facts.out" >> "$LOG"
  gpu="$(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n1)"
  result facts info 0 "device $DEVICE; ${gpu:-no NVIDIA GPU}; $(grep -m1 '^torch' "$WORK/facts.out" || echo 'no torch'); $(grep -m1 '^cuda ' "$WORK/facts.out" | tr -s ' ' | cut -c1-160)"
fi

# ---------------------------------------------------------------- op harness
if want ops; then
  run_part ops 150 "${JAVA[@]}" -Deuterpe.test.devices="$DEVICE" -cp "$CP:$KIT/test/*" \
    org.junit.platform.console.ConsoleLauncher execute --disable-banner --details=summary \
    --details-theme=ascii --select-class org.euterpe.kernels.BackendOpsTest
  ok=$(grep -Eo '[0-9]+ tests successful' "$WORK/ops.out" | grep -Eo '^[0-9]+' || echo 0)
  failed=$(grep -Eo '[0-9]+ tests failed' "$WORK/ops.out" | grep -Eo '^[0-9]+' || echo 0)
  aborted=$(grep -Eo '[0-9]+ tests aborted' "$WORK/ops.out" | grep -Eo '^[0-9]+' || echo 0)
  worst=$(grep -E "^\[$DEVICE" "$WORK/ops.out" | sed -n 's/.*max rel \([0-9.e+-]*\).*/\1/p' | sort -g | tail -n1)
  summary="$ok passed, $failed failed, $aborted skipped; worst max rel ${worst:-n/a}"
  if [ "$TIMED_OUT" = 1 ]; then st=timeout
  elif [ "$RC" = 0 ] && [ "$failed" = 0 ] && [ "$aborted" = 0 ] && [ "$ok" -gt 0 ]; then st=pass
  else st=fail; summary="$summary; $(grep -m1 'SKIPPED\|Exception' "$WORK/ops.out" | cut -c1-200)"; fi
  result ops "$st" "$SECS" "$summary"
fi

# ---------------------------------------------------------------- conformance
if want conformance; then
  for c in tiny-audioldm tiny-musicldm; do
    run_part "conformance-$c" 90 "${JAVA[@]}" -cp "$CP" org.euterpe.pipeline.cli.Main conformance \
      "pipeline/src/test/conformance/$c" --device "$DEVICE"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/conformance-$c.out" | tail -n1)
    if [ "$TIMED_OUT" = 1 ]; then st=timeout; elif [ "$RC" = 0 ]; then st=pass; else st=fail; fi
    [ -n "$line" ] || line="$(tail -n2 "$WORK/conformance-$c.out" | tr '\n' ' ' | cut -c1-200)"
    result "conformance-$c" "$st" "$SECS" "$line"
  done
fi

# ---------------------------------------------------------------- agreement
agree_part() { # NAME DTYPE MAX_REL_L2 [JVM flags...]
  local name="$1" dtype="$2" tol="$3"; shift 3
  run_part "$name" 150 "${JAVA[@]}" "$@" -cp "$CP" org.euterpe.pipeline.bench.DeviceChecks agree "$CONFIGS" \
    --device "$DEVICE" --reference cpu --dtype "$dtype" --max-rel-l2 "$tol"
  last_json "$WORK/$name.out" > "$WORK/$name.json"
  local s; s=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["error"][:200]) if "error" in r else print("rel L2 %.2e, max abs %.2e of max |ref| (%s weights; limit %.0e)" % (r["rel_l2"], r["max_abs_rel"], r["weights"], r["max_rel_l2"]))' "$WORK/$name.json" 2>/dev/null)
  if [ "$TIMED_OUT" = 1 ]; then st=timeout; elif [ "$RC" = 0 ]; then st=pass; else st=fail; fi
  result "$name" "$st" "$SECS" "${s:-$(tail -n1 "$WORK/$name.out" | cut -c1-200)}" "$WORK/$name.json"
}
if want agree; then
  agree_part agree f32 1e-3
  # Tensor cores round activations to f16 (5e-4 relative each); the reference is f16 weights on the cpu.
  case "$DEVICE" in cuda*) agree_part agree_tc f16 3e-2 "${TC[@]}" ;; esac
fi

# ---------------------------------------------------------------- benchmark
CUDA_DOWN=""
case "$DEVICE" in cuda*) CUDA_DOWN="$(grep -m1 '^cuda .*unavailable' "$WORK/facts.out" 2>/dev/null)" ;; esac
if want bench && [ -n "$CUDA_DOWN" ]; then
  # euterpe bench would fall back to the CPU and spend the GPU's minutes there.
  result bench-euterpe fail 0 "not run: $(echo "$CUDA_DOWN" | tr -s ' ' | cut -c1-180)"
elif want bench; then
  run_part bench-euterpe 240 "${JAVA[@]}" "${TC[@]}" -cp "$CP" \
    org.euterpe.pipeline.cli.Main bench "$CONFIGS" --random --device "$DEVICE" --dtype f16 --seconds 10 \
    --steps "$STEPS" --stage unet,vae_decode,vocoder,total --repeat "$REPEAT" --json
  last_json "$WORK/bench-euterpe.out" > "$OUT/bench-euterpe.json"
  if [ "$TIMED_OUT" = 1 ]; then st=timeout; elif [ "$RC" = 0 ] && [ -s "$OUT/bench-euterpe.json" ]; then st=pass; else st=fail; fi
  result bench-euterpe "$st" "$SECS" "$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["stages"]; print(", ".join("%s %.3f s" % (k, v["median_s"]) for k, v in s.items()))' "$OUT/bench-euterpe.json" 2>/dev/null || tail -n1 "$WORK/bench-euterpe.out" | cut -c1-200)" "$OUT/bench-euterpe.json"

fi
if want bench; then
  tdev=cuda; case "$DEVICE" in cuda*) ;; *) tdev=cpu ;; esac
  if ! python3 -c 'import torch' 2>/dev/null; then
    result bench-torch skip 0 "python3 has no torch here"
  elif [ ! -d "$KIT/diffusers/src/diffusers" ]; then
    result bench-torch skip 0 "the kit has no diffusers (built with --no-diffusers)"
  else
    run_part bench-torch 240 env PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
      DIFFUSERS_NO_ADVISORY_WARNINGS=1 python3 bench/torch_gpu_bench.py --configs "$CONFIGS" \
      --diffusers "$KIT/diffusers/src" --device "$tdev" --seconds 10 --steps "$STEPS" --repeat "$REPEAT" \
      --out "$OUT/bench-torch.json"
    if [ "$TIMED_OUT" = 1 ]; then st=timeout; elif [ "$RC" = 0 ] && [ -s "$OUT/bench-torch.json" ]; then st=pass; else st=fail; fi
    result bench-torch "$st" "$SECS" "$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["stages"]; print(", ".join("%s %.3f s" % (k, v["median_s"]) for k, v in s.items()))' "$OUT/bench-torch.json" 2>/dev/null || tail -n1 "$WORK/bench-torch.out" | cut -c1-200)" "$OUT/bench-torch.json"
  fi
fi

# ---------------------------------------------------------------- leak
if want leak; then
  run_part leak 120 "${JAVA[@]}" -cp "$CP" org.euterpe.pipeline.bench.DeviceChecks leak \
    pipeline/src/test/conformance/tiny-audioldm --device "$DEVICE" --runs "$LEAK_RUNS"
  last_json "$WORK/leak.out" > "$WORK/leak.json"
  s=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
f, l = (r["samples"][2], r["samples"][3]) if "samples" in r else (None, None)
if "error" in r:
    print(r["error"][:200])
elif "live_buffers" in f:
    print("live buffers %d -> %d, device used %+.1f MiB after %d generations" % (f["live_buffers"], l["live_buffers"], r.get("device_used_growth_mib", 0), r["runs"]))
else:
    print("%d generations; heap %.1f -> %.1f MiB (no device memory on %s)" % (r["runs"], f["heap_used_bytes"] / 2**20, l["heap_used_bytes"] / 2**20, r["device"].split(",")[0]))' "$WORK/leak.json" 2>/dev/null)
  if [ "$TIMED_OUT" = 1 ]; then st=timeout; elif [ "$RC" = 0 ]; then st=pass; else st=fail; fi
  result leak "$st" "$SECS" "${s:-$(tail -n1 "$WORK/leak.out" | cut -c1-200)}" "$WORK/leak.json"
fi

# ---------------------------------------------------------------- summary
python3 "$ROOT/kernels/scripts/device-summary.py" "$STAGES" "$OUT" "$DEVICE" "$(( $(date +%s) - T_START ))" \
  2>&1 | tee -a "$LOG" || { log "(no python3 for the summary; the parts:)"; cat "$STAGES" | tee -a "$LOG"; }
bad=$(awk -F'\t' '$2 == "fail" || $2 == "timeout"' "$STAGES" | wc -l)
rm -rf "$WORK"
[ "$bad" = 0 ]
