#!/usr/bin/env bash
# A/B of the CPU kernels at the U-Net's shapes: the kernels module at git revision REV (A) against
# the working tree (B), alternating in one JVM (bench/src/main/java/org/euterpe/bench/ab/AbCompare.java).
# Usage: bench/ab-kernels.sh REV [rounds] [case-filter] [threads] [seconds-per-case]
# Prints per case B/A time ratios (below 1: the working tree is faster). Per-thread CPU time at 1 thread.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REV="${1:?usage: bench/ab-kernels.sh REV [rounds] [filter] [threads] [seconds]}"
JDK="${JAVA_HOME:-$(ls -d /usr/lib/jvm/*25* | head -n1)}"
export JAVA_HOME="$JDK" MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
mvn -B -q -o -DskipTests -Dstyle.color=never package -pl bench -am
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
git archive "$REV" kernels/src/main | tar -x -C "$WORK"
DEPS="$(find "$HOME/.m2/repository/org/jocl" "$HOME/.m2/repository/org/jcuda" -name '*.jar' 2>/dev/null | tr '\n' ':')"
mkdir -p "$WORK/a"
"$JDK/bin/javac" --add-modules jdk.incubator.vector -nowarn -d "$WORK/a" -cp "tensor/target/classes:$DEPS" \
  $(find "$WORK/kernels/src/main/java" -name '*.java') 2>&1 | grep -v -e '^Note:' -e 'warning' || true
[ -d "$WORK/kernels/src/main/resources" ] && cp -r "$WORK/kernels/src/main/resources/." "$WORK/a/"
COMMON="bench/target/classes:tensor/target/classes:$DEPS"
exec "$JDK/bin/java" --add-modules jdk.incubator.vector -Xmx6g -cp bench/target/classes \
  org.euterpe.bench.ab.AbCompare "$WORK/a:$COMMON" "kernels/target/classes:$COMMON" "${2:-4}" \
  org.euterpe.bench.ab.CpuOpCases "${4:-1}" "${3:-}" "${5:-0.3}" 2>&1 | grep -v 'Using incubator modules'
