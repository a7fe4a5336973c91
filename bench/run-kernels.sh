#!/usr/bin/env bash
# Kernel benchmarks (JMH) with a side-by-side OpenBLAS sgemm figure, written to
# bench/results/cpu-<date>.json. Usage: bench/run-kernels.sh [benchmark-regex] [--threads N] [--quick]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
./euterpe --help >/dev/null 2>&1 || true   # finds the JDK and builds the main jar if needed
JDK="${JAVA_HOME:-$(ls -d /usr/lib/jvm/*25* | head -n1)}"
export JAVA_HOME="$JDK" MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
mvn -B -q -DskipTests -Dstyle.color=never package -pl bench -am
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -jar bench/target/euterpe-bench.jar "$@"
