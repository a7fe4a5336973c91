#!/usr/bin/env bash
# Cold start to the first denoising step on the bundled model, as a user's first command meets it:
# N fresh JVMs of `euterpe generate x --seconds 0.25 --steps 1` (interleaved with an AOT-cache variant
# when --aot is given), printing each run's wall time to the end of step 1 (from the launcher's exec,
# JVM start-up included) and the medians. A benchmark, not a test: compare variants within one run.
#
# Usage: bench/startup.sh [--runs N] [--aot] [--device cpu]
#   --aot   also time the JVM with a JDK 25 AOT cache (-XX:AOTCache, JEP 483/514/515) trained by one
#           such run first (written to bench/results/tmp/euterpe.aot)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=5
AOT=0
DEVICE=cpu
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --aot) AOT=1; shift ;;
    --device) DEVICE="$2"; shift 2 ;;
    *) echo "usage: bench/startup.sh [--runs N] [--aot] [--device D]" >&2; exit 2 ;;
  esac
done
"$ROOT/euterpe" --help > /dev/null # builds the jar if needed
TMP="$ROOT/bench/results/tmp"
mkdir -p "$TMP"
CACHE="$TMP/euterpe.aot"
ARGS=(generate x --seconds 0.25 --steps 1 --device "$DEVICE" -o "$TMP/startup.wav" --force)
if [ "$AOT" = 1 ]; then
  rm -f "$CACHE"
  EUTERPE_JAVA_OPTS="-XX:AOTCacheOutput=$CACHE" "$ROOT/euterpe" "${ARGS[@]}" > /dev/null 2>&1
fi

# Milliseconds from exec to "first step done", measured outside the JVM (JVM start-up included).
first_step_ms() {
  local t0 line
  t0=$(date +%s%N)
  while IFS= read -r line; do
    case "$line" in
      "first step done"*) echo $(( ($(date +%s%N) - t0) / 1000000 )); ;;
    esac
  done < <(EUTERPE_JAVA_OPTS="${1:-}" "$ROOT/euterpe" "${ARGS[@]}" 2>&1)
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}'; }

base=(); aot=()
for i in $(seq "$RUNS"); do
  b=$(first_step_ms ""); base+=("$b")
  line="run $i: plain ${b} ms"
  if [ "$AOT" = 1 ]; then
    a=$(first_step_ms "-XX:AOTCache=$CACHE"); aot+=("$a")
    line="$line, AOT cache ${a} ms"
  fi
  echo "$line  (load $(cut -d' ' -f1 /proc/loadavg))"
done
echo "median plain: $(printf '%s\n' "${base[@]}" | median) ms"
if [ "$AOT" = 1 ]; then
  echo "median AOT cache: $(printf '%s\n' "${aot[@]}" | median) ms"
fi
