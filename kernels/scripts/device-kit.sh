#!/usr/bin/env bash
# Builds the device kit: one compressed archive holding everything a bare GPU machine (no Java, no
# Maven, no network; CUDA, python3 with torch and transformers) needs to run the engine's CUDA
# checks with kernels/scripts/device-run.sh:
#   jre/        a JDK 25 runtime cut down with jlink (java.base, java.logging, jdk.unsupported,
#               jdk.incubator.vector; --strip-debug, native symbols stripped)
#   lib/        the engine's jars (the pipeline jar without its bundled tiny model, which the
#               checks read from the in-repo conformance case instead), JCuda with only the
#               driver API's linux-x86_64 native library
#   test/       the op harness's test classes and the JUnit console launcher (JUnit 4/vintage removed)
#   configs/    the full-size audioldm-s-full-v2 configs (random weights are built from them; the
#               tokenizer's vocabulary comes from the tracked tiny-audioldm case at run time)
#   diffusers/  diffusers' pure-Python src/ for the PyTorch side of the benchmark, exported from the
#               local mirror (never committed; see DIFFUSERS_TAG below)
#   MANIFEST.txt
# The tiny conformance cases are not copied: they are tracked in the repository
# (pipeline/src/test/conformance/), which travels to the GPU machine with the kit anyway.
#
# Every member is stored uncompressed (jlink --compress=zip-0, jars repacked with no compression)
# and the whole archive is xz-compressed, which makes it smaller than compressing each part:
# the runtime alone is 12.3 MB this way and 24.8 MB with jlink's zip-6.
#
# Usage: kernels/scripts/device-kit.sh [--out DIR] [--no-build] [--no-diffusers] [--limit-mib N] [--ci]
#   --out DIR        where to put kit.tar.xz and MANIFEST.txt (default: device-kit/ at the repo root,
#                    git-ignored); carry that folder to the GPU machine
#   --no-build       use the jars already under */target when an earlier build listed their
#                    classpath (default: mvn -DskipTests package first)
#   --no-diffusers   leave diffusers out (the PyTorch side of the benchmark is then skipped)
#   --limit-mib N    fail when tracked files + the archive exceed N MiB (default 64: what travels
#                    with a GPU run)
#   --ci             CI's check that the kit stays buildable: no diffusers (CI has no mirror), a
#                    temporary --out, fail when the archive exceeds 16 MiB (the tree's total is
#                    only reported), then unpack it and run its op harness on the cpu backend
# Environment: JAVA_HOME (a JDK 25 with jlink; default: the one ./euterpe finds),
#   DIFFUSERS_GIT (a git dir of huggingface/diffusers; default: the fetch tool's mirror),
#   DIFFUSERS_TAG (default v0.40.0), EUTERPE_SHARED (default ../shared beside the repo).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/device-kit"
BUILD=1
DIFFUSERS=1
LIMIT_MIB=64
CI_CHECK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-diffusers) DIFFUSERS=0; shift ;;
    --limit-mib) LIMIT_MIB="$2"; shift 2 ;;
    --ci) CI_CHECK=1; DIFFUSERS=0; shift ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    *) echo "device-kit: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
die() { echo "device-kit: $*" >&2; exit 1; }

[ "$CI_CHECK" = 1 ] && [ "$OUT" = "$ROOT/device-kit" ] && OUT="$(mktemp -d)/device-kit"
SHARED="${EUTERPE_SHARED:-$ROOT/../shared}"
CONFIGS="$SHARED/model-configs/audioldm-s-full-v2"
# diffusers v0.40.0 (2026-08-20) is the newest tag in the mirror and the first whose pins match the
# GPU machine's packages: huggingface-hub>=1.23,<2 (it has 1.33), torch>=2.6 (2.11), safetensors
# >=0.8 (0.8.0). The engine's reference, v0.21.4, cannot be imported there: its utils import
# huggingface_hub.cached_download and HfFolder, which hub 1.x removed. The modules the benchmark
# times (UNet2DConditionModel, AutoencoderKL; transformers' SpeechT5HifiGan and ClapTextModel) compute
# the same functions in both; the AudioLDM pipeline moved to pipelines/deprecated/ in v0.38.
DIFFUSERS_TAG="${DIFFUSERS_TAG:-v0.40.0}"
DIFFUSERS_GIT="${DIFFUSERS_GIT:-/work/.mirror/huggingface+diffusers/repo}"

if [ -z "${JAVA_HOME:-}" ]; then
  for d in /usr/lib/jvm/*25*; do [ -x "$d/bin/jlink" ] && JAVA_HOME="$d" && break; done
fi
[ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/jlink" ] || die "no JDK with jlink (set JAVA_HOME to a JDK 25)"
export JAVA_HOME
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
[ -d "$CONFIGS/unet" ] || die "no audioldm-s-full-v2 configs at $CONFIGS (set EUTERPE_SHARED)"
command -v xz >/dev/null || die "xz is required"

cd "$ROOT"
JUNIT_VERSION="$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml | head -n1)"
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
mvn_q() { mvn -B -q "$@" || mvn -B -q -o "$@"; }  # online first: a fresh machine lacks the plugin
if [ "$BUILD" = 1 ] || [ ! -f pipeline/target/device-kit-classpath.txt ]; then
  echo "device-kit: building the jars (mvn -DskipTests package)" >&2
  mvn_q -DskipTests package "$DEP_PLUGIN:build-classpath" -pl pipeline -am \
    -Dmdep.outputFile=target/device-kit-classpath.txt -DincludeScope=runtime >&2
fi
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
mvn_q "$DEP_PLUGIN:copy" -Dartifact="org.junit.platform:junit-platform-console-standalone:$JUNIT_VERSION" \
  -DoutputDirectory="$STAGE/dl" -N >&2

KIT="$STAGE/euterpe-kit"
mkdir -p "$KIT/lib" "$KIT/test" "$KIT/configs"
JAR="$JAVA_HOME/bin/jar"

# repack SRC DEST [paths to drop...]: the jar's entries stored uncompressed, minus the dropped paths.
repack() {
  local src="$1" dest="$2" tmp; shift 2
  tmp="$(mktemp -d "$STAGE/x.XXXX")"
  (cd "$tmp" && unzip -q -o "$src")
  for p in "$@"; do rm -rf "${tmp:?}/$p"; done
  if [ -f "$tmp/META-INF/MANIFEST.MF" ]; then
    "$JAR" --create --no-compress --file "$dest" --manifest "$tmp/META-INF/MANIFEST.MF" -C "$tmp" .
  else
    "$JAR" --create --no-compress --no-manifest --file "$dest" -C "$tmp" .
  fi
  rm -rf "$tmp"
}

ver=0.1.0-SNAPSHOT
for m in tensor kernels nn weights-converter; do
  repack "$ROOT/$m/target/euterpe-$m-$ver.jar" "$KIT/lib/euterpe-$m.jar"
done
# The bundled tiny model (10 MB) is the tracked conformance case; the checks read that instead.
repack "$ROOT/pipeline/target/euterpe-pipeline-$ver.jar" "$KIT/lib/euterpe-pipeline.jar" org/euterpe/bundled
for dep in $(tr ':' ' ' < pipeline/target/device-kit-classpath.txt); do
  case "$(basename "$dep")" in
    jcuda-natives-*linux-x86_64.jar)
      # Only the driver API's library: the backend loads PTX through it and uses nothing else.
      tmp="$(mktemp -d "$STAGE/n.XXXX")"; (cd "$tmp" && unzip -q "$dep")
      find "$tmp/lib" -type f ! -name 'libJCudaDriver-*' -delete
      "$JAR" --create --no-compress --no-manifest --file "$KIT/lib/$(basename "$dep")" -C "$tmp" .
      rm -rf "$tmp" ;;
    jcuda-[0-9]*.jar) repack "$dep" "$KIT/lib/$(basename "$dep")" ;;
    # JOCL: the kit checks CUDA only; without it the OpenCL backend reports itself absent.
    # JCublas: a declared dependency the engine's code does not call.
    jocl-*|jcublas*|euterpe-*) ;;
    *) die "unexpected runtime dependency $dep: decide whether the kit needs it" ;;
  esac
done
repack "$ROOT/kernels/target/euterpe-kernels-$ver-tests.jar" "$KIT/test/euterpe-kernels-tests.jar"
repack "$ROOT/tensor/target/euterpe-tensor-$ver-tests.jar" "$KIT/test/euterpe-tensor-tests.jar"
# The JUnit console without JUnit 4 and its vintage engine (the suite is all Jupiter).
repack "$STAGE/dl/junit-platform-console-standalone-$JUNIT_VERSION.jar" "$KIT/test/junit-console.jar" \
  org/junit/vintage org/junit/internal org/junit/runner org/junit/runners org/junit/experimental \
  org/junit/rules org/junit/validator org/junit/matchers org/junit/function org/hamcrest junit \
  META-INF/maven/junit
svc="$STAGE/svc"; mkdir -p "$svc/META-INF/services"
(cd "$svc" && unzip -q -o "$KIT/test/junit-console.jar" META-INF/services/org.junit.platform.engine.TestEngine)
grep -v vintage "$svc/META-INF/services/org.junit.platform.engine.TestEngine" > "$svc/engines"
cp "$svc/engines" "$svc/META-INF/services/org.junit.platform.engine.TestEngine"
"$JAR" --update --no-compress --file "$KIT/test/junit-console.jar" -C "$svc" META-INF/services/org.junit.platform.engine.TestEngine

echo "device-kit: jlink" >&2
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,jdk.unsupported,jdk.incubator.vector \
  --strip-debug --no-header-files --no-man-pages --compress=zip-0 --output "$KIT/jre" 2>&1 \
  | grep -v 'Using incubator modules' >&2 || true
[ -x "$KIT/jre/bin/java" ] || die "jlink made no runtime"
if command -v strip >/dev/null; then
  find "$KIT/jre" -name '*.so' -exec strip --strip-unneeded {} \;
fi

# Configs: JSON only. The tokenizer's vocab.json and merges.txt are those of the tracked tiny-audioldm
# case (the same vocabulary and merges; only merges.txt's comment line differs), so device-run.sh takes
# them from the tree instead of carrying 1.2 MB more; the 2 MB fast-tokenizer file is not needed.
C="$KIT/configs/audioldm-s-full-v2"
mkdir -p "$C/tokenizer"
cp "$CONFIGS/model_index.json" "$C/"
for c in unet vae vocoder text_encoder scheduler; do
  mkdir -p "$C/$c"; cp "$CONFIGS/$c/"*.json "$C/$c/"
done
for f in special_tokens_map.json tokenizer_config.json; do
  cp "$CONFIGS/tokenizer/$f" "$C/tokenizer/"
done
TINY_TOK="$ROOT/pipeline/src/test/conformance/tiny-audioldm/tokenizer"
python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
    "$CONFIGS/tokenizer/vocab.json" "$TINY_TOK/vocab.json" \
  && [ "$(tail -n +2 "$CONFIGS/tokenizer/merges.txt" | md5sum)" = "$(tail -n +2 "$TINY_TOK/merges.txt" | md5sum)" ] \
  || die "the tiny-audioldm case's tokenizer is no longer audioldm-s's: copy vocab.json and merges.txt into the kit"

if [ "$DIFFUSERS" = 1 ]; then
  [ -d "$DIFFUSERS_GIT" ] || die "no diffusers mirror at $DIFFUSERS_GIT (bring github:huggingface/diffusers with the fetch tool, set DIFFUSERS_GIT, or pass --no-diffusers)"
  mkdir -p "$KIT/diffusers"
  git --git-dir="$DIFFUSERS_GIT" archive "$DIFFUSERS_TAG" src/diffusers | tar -x -C "$KIT/diffusers"
  diffusers_commit="$(git --git-dir="$DIFFUSERS_GIT" rev-list -n1 "$DIFFUSERS_TAG")"
else
  diffusers_commit="(not included)"
fi

{
  echo "euterpe device kit"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo '+uncommitted')"
  echo "jdk: $("$KIT/jre/bin/java" -version 2>&1 | sed -n 2p)"
  echo "modules: $("$KIT/jre/bin/java" --list-modules | tr '\n' ' ')"
  echo "junit: $JUNIT_VERSION (console, Jupiter only)"
  echo "diffusers: $DIFFUSERS_TAG $diffusers_commit"
  echo "configs: audioldm-s-full-v2 from $CONFIGS"
  echo "files:"
  (cd "$KIT" && find . -path ./jre -prune -o -path ./diffusers -prune -o -type f -printf '  %p %s\n' | sort)
  echo "  ./jre $(du -sb "$KIT/jre" | cut -f1)"
  [ -d "$KIT/diffusers" ] && echo "  ./diffusers $(du -sb "$KIT/diffusers" | cut -f1)"
} > "$KIT/MANIFEST.txt"

mkdir -p "$OUT"
echo "device-kit: compressing" >&2
tar -C "$STAGE" -cf - euterpe-kit | xz -9 -T2 > "$OUT/kit.tar.xz.part"
mv -f "$OUT/kit.tar.xz.part" "$OUT/kit.tar.xz"
cp "$KIT/MANIFEST.txt" "$OUT/MANIFEST.txt"

kit_bytes=$(stat -c %s "$OUT/kit.tar.xz")
tracked_bytes=$(git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 stat -c %s 2>/dev/null) | awk '{s+=$1} END {print s+0}')
untracked_bytes=$(git -C "$ROOT" ls-files -z --others --exclude-standard | (cd "$ROOT" && xargs -0 -r stat -c %s 2>/dev/null) | awk '{s+=$1} END {print s+0}')
total=$((kit_bytes + tracked_bytes + untracked_bytes))
limit=$((LIMIT_MIB * 1048576))
unpacked_bytes=$(du -sb "$KIT" | cut -f1)
awk -v k="$kit_bytes" -v u="$unpacked_bytes" -v w="$((tracked_bytes + untracked_bytes))" -v t="$total" \
    -v l="$LIMIT_MIB" -v f="$OUT/kit.tar.xz" 'BEGIN { m = 1048576
  printf "device-kit: %s is %.1f MiB (unpacked %.1f MiB); with the working tree (%.1f MiB) %.1f of %d MiB\n",
    f, k / m, u / m, w / m, t / m, l }' | tee -a "$OUT/MANIFEST.txt"
if [ "$CI_CHECK" = 1 ]; then
  [ "$kit_bytes" -le $((16 * 1048576)) ] || die "the kit grew past 16 MiB; what travels to a GPU machine is 64 MiB in all"
  [ "$total" -le "$limit" ] || echo "device-kit: warning: the working tree plus the kit exceed $LIMIT_MIB MiB" >&2
  echo "device-kit: smoke run of the kit (op harness on the cpu backend)" >&2
  mkdir -p "$OUT/unpacked"
  tar -xJf "$OUT/kit.tar.xz" -C "$OUT/unpacked"
  KIT_HOME="$OUT/unpacked/euterpe-kit" bash "$ROOT/kernels/scripts/device-run.sh" "$OUT/run" --device cpu \
    --only ops --scale 4 || die "the kit's op harness failed on the cpu backend (log: $OUT/run/log.txt)"
  rm -rf "$OUT/unpacked"
elif [ "$total" -gt "$limit" ]; then
  # The GPU run reads only the two tiny cases from the tree; anything else large can be left out of
  # the working tree for that run (and restored after it with git checkout).
  echo "device-kit: the working tree plus the kit exceed $LIMIT_MIB MiB, so they would not travel to a GPU machine." >&2
  echo "device-kit: the run reads only pipeline/src/test/conformance/{tiny-audioldm,tiny-musicldm} from the tree;" >&2
  echo "device-kit: the largest tracked folders it does not read (MiB), to remove for the run and restore after:" >&2
  git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 stat -c '%s %n') \
    | grep -v ' pipeline/src/test/conformance/tiny-\(audioldm\|musicldm\)/' \
    | awk '{ n = split($2, p, "/"); d = p[1]; for (i = 2; i < n && i < 6; i++) d = d "/" p[i]; s[d] += $1 }
           END { for (d in s) if (s[d] > 262144) printf "  %6.1f  %s\n", s[d] / 1048576, d }' | sort -rn | head -8 >&2
  die "over the $LIMIT_MIB MiB that travel with a GPU run"
fi
