#!/usr/bin/env bash
# Cold start to the first denoising step on the bundled model, as a user's first command meets it:
# N fresh JVMs of `euterpe generate x --seconds 0.25 --steps 1` without the launcher's start-up cache
# (EUTERPE_AOT=0), interleaved with N using it when --aot is given, printing each run's wall time to the
# end of step 1 (from the launcher's exec, JVM start-up included), the CPU time the engine reports at
# that point, and the medians. A benchmark, not a test: compare variants within one run.
#
# Usage: bench/startup.sh [--runs N] [--aot] [--device cpu]
#   --aot   also time the JVM with the launcher's JDK 25 AOT cache (-XX:AOTCache, JEP 483/514/515;
#           pipeline/target/euterpe.aot, recorded by the launcher if missing)
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
ARGS=(generate x --seconds 0.25 --steps 1 --device "$DEVICE" -o "$TMP/startup.wav" --force)
if [ "$AOT" = 1 ]; then
  "$ROOT/euterpe" "${ARGS[@]}" > /dev/null 2>&1 # records the start-up cache if it is missing
fi

# "WALL CPU": milliseconds from exec to "first step done", measured outside the JVM (JVM start-up
# included), and the process's CPU milliseconds at that point as the engine reports them (all threads:
# JIT compilers and GC too; on a shared machine this moves far less than the wall time).
first_step_ms() {
  local t0 line wall="" cpu="-"
  t0=$(date +%s%N)
  while IFS= read -r line; do
    case "$line" in
      "first step done"*)
        wall=$(( ($(date +%s%N) - t0) / 1000000 ))
        c=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9.]*\) s of CPU.*/\1/p')
        [ -n "$c" ] && cpu=$(awk -v c="$c" 'BEGIN {printf "%d", c * 1000}') ;;
    esac
  done < <(EUTERPE_AOT="$1" "$ROOT/euterpe" "${ARGS[@]}" 2>&1)
  echo "$wall $cpu"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}'; }

base=(); basecpu=(); aot=(); aotcpu=()
for i in $(seq "$RUNS"); do
  read -r b bc < <(first_step_ms 0); base+=("$b"); basecpu+=("$bc")
  line="run $i: plain ${b} ms (CPU ${bc} ms)"
  if [ "$AOT" = 1 ]; then
    read -r a ac < <(first_step_ms 1); aot+=("$a"); aotcpu+=("$ac")
    line="$line, AOT cache ${a} ms (CPU ${ac} ms)"
  fi
  echo "$line  (load $(cut -d' ' -f1 /proc/loadavg))"
done
echo "median plain: $(printf '%s\n' "${base[@]}" | median) ms, CPU $(printf '%s\n' "${basecpu[@]}" | median) ms"
if [ "$AOT" = 1 ]; then
  echo "median AOT cache: $(printf '%s\n' "${aot[@]}" | median) ms, CPU $(printf '%s\n' "${aotcpu[@]}" | median) ms"
fi
