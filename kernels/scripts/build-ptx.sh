#!/usr/bin/env bash
# Regenerates the committed PTX of the CUDA backend from kernels/src/main/cuda/*.cu.
#
# Every kernel file becomes <name>.ptx for compute_75 (the lowest target of CUDA 13; loads on
# Turing and newer with an R580+ driver), except mma.cu, whose m16n8k16 tensor-core
# instructions need sm_80: it becomes mma.sm80.ptx for compute_80. The output depends only on
# the sources and the nvcc release (no paths, no timestamps), so a rerun reproduces the files
# byte for byte; PtxSourcesTest checks that.
#
# Usage: kernels/scripts/build-ptx.sh [output-dir]   (default: the resources folder)
# NVCC may name the compiler; otherwise nvcc on PATH, then /usr/local/cuda/bin/nvcc.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$here/src/main/cuda"
out="${1:-$here/src/main/resources/org/euterpe/kernels/cuda}"
nvcc="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

cd "$src"
for cu in *.cu; do
    name="${cu%.cu}"
    if [ "$name" = mma ]; then
        "$nvcc" -ptx -arch=compute_80 -o "$out/$name.sm80.ptx" "$cu"
    else
        "$nvcc" -ptx -arch=compute_75 -o "$out/$name.ptx" "$cu"
    fi
done
