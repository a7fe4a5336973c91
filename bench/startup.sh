#!/usr/bin/env bash
# Cold start to the first denoising step on the bundled model, as a user's first command meets it:
# N fresh JVMs of `euterpe generate x --seconds 0.25 --steps 1` without the launcher's start-up cache
# (EUTERPE_AOT=0), interleaved with N using it when --aot is given, printing each run's wall times (from
# the launcher's exec, JVM start-up included) to two milestones: the first denoising step beginning
# (model loaded, prompt encoded) and the first step done, the CPU time the engine reports at the second,
# and the medians. A benchmark, not a test: compare variants within one run.
#
# Usage: bench/startup.sh [--runs N] [--aot] [--device cpu] [--seconds S]
#   --seconds  clip length (default 0.25; `generate`'s own default on the bundled model is 1 s, whose
#           first step is ~4x the work: it moves the second milestone, not the first)
#   --aot   also time the JVM with the launcher's JDK 25 AOT cache (-XX:AOTCache, JEP 483/514/515;
#           pipeline/target/euterpe.aot, recorded by the launcher if missing)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=5
AOT=0
DEVICE=cpu
SECONDS_ARG=0.25
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --aot) AOT=1; shift ;;
    --device) DEVICE="$2"; shift 2 ;;
    --seconds) SECONDS_ARG="$2"; shift 2 ;;
    *) echo "usage: bench/startup.sh [--runs N] [--aot] [--device D] [--seconds S]" >&2; exit 2 ;;
  esac
done
"$ROOT/euterpe" --help > /dev/null # builds the jar if needed
TMP="$ROOT/bench/results/tmp"
mkdir -p "$TMP"
ARGS=(generate x --seconds "$SECONDS_ARG" --steps 1 --device "$DEVICE" -o "$TMP/startup.wav" --force)
if [ "$AOT" = 1 ]; then
  "$ROOT/euterpe" "${ARGS[@]}" > /dev/null 2>&1 # records the start-up cache if it is missing
fi

# "BEGAN DONE CPU": milliseconds from exec to the denoising loop beginning (load and encode done: the
# issue's "first step starts") and to "first step done", both measured outside the JVM (JVM start-up
# included; the beginning is the outside time of "first step done" less the engine's own interval between
# the two), and the process's CPU milliseconds at the end of step 1 as the engine reports them (all
# threads: JIT compilers and GC too; on a shared machine this moves far less than the wall time).
first_step_ms() {
  local t0 line wall="" began="-" cpu="-"
  t0=$(date +%s%N)
  while IFS= read -r line; do
    case "$line" in
      "first step done"*)
        wall=$(( ($(date +%s%N) - t0) / 1000000 ))
        c=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9.]*\) s of CPU.*/\1/p')
        [ -n "$c" ] && cpu=$(awk -v c="$c" 'BEGIN {printf "%d", c * 1000}')
        d=$(printf '%s\n' "$line" | sed -n 's/^first step done \([0-9.]*\) s after start (denoising began at \([0-9.]*\) s).*/\1 \2/p')
        [ -n "$d" ] && began=$(awk -v w="$wall" -v d="$d" 'BEGIN {split(d, a, " "); printf "%d", w - (a[1] - a[2]) * 1000}') ;;
    esac
  done < <(EUTERPE_AOT="$1" "$ROOT/euterpe" "${ARGS[@]}" 2>&1)
  echo "$began $wall $cpu"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}'; }

basebegan=(); base=(); basecpu=(); aotbegan=(); aot=(); aotcpu=()
for i in $(seq "$RUNS"); do
  read -r bb b bc < <(first_step_ms 0); basebegan+=("$bb"); base+=("$b"); basecpu+=("$bc")
  line="run $i: plain began ${bb} ms, done ${b} ms (CPU ${bc} ms)"
  if [ "$AOT" = 1 ]; then
    read -r ab a ac < <(first_step_ms 1); aotbegan+=("$ab"); aot+=("$a"); aotcpu+=("$ac")
    line="$line; AOT cache began ${ab} ms, done ${a} ms (CPU ${ac} ms)"
  fi
  echo "$line  (load $(cut -d' ' -f1 /proc/loadavg))"
done
m() { printf '%s\n' "$@" | median; }
echo "median plain: first step began $(m "${basebegan[@]}") ms, done $(m "${base[@]}") ms, CPU $(m "${basecpu[@]}") ms"
if [ "$AOT" = 1 ]; then
  echo "median AOT cache: first step began $(m "${aotbegan[@]}") ms, done $(m "${aot[@]}") ms, CPU $(m "${aotcpu[@]}") ms"
fi
