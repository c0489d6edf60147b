#!/usr/bin/env bash
# Packs what the GPU machine needs into target/gpu-carry (carried with the tree, 64 MiB at
# most): the cuda-built gpu_check binary (the check and every benchmark: one binary, since
# each stripped cuda binary is ~64 MB, ~16 MB gzipped) and the Keras 3.15.1 wheels the machine
# lacks (it has JAX and PyTorch with CUDA, no Keras). Run after
#   scripts/build-cuda.sh --example gpu_check
# then on the GPU machine: scripts/gpu-run.sh (see it for what it runs).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
R="$ROOT/target/cuda/release"
C="$ROOT/target/gpu-carry"
rm -rf "$C" && mkdir -p "$C/bin" "$C/wheels"
cp "$R/examples/gpu_check" "$C/bin/"
strip "$C/bin/gpu_check"
gzip -9 "$C/bin/gpu_check"
# Keras and the pure-Python packages it needs; binary ones (optree, h5py) for CPython 3.10-3.13.
PIP="${PYTHON:-python3} -m pip"
$PIP download -q --no-deps -d "$C/wheels" keras==3.15.1 namex absl-py rich markdown-it-py mdurl pygments
for v in 3.10 3.11 3.12 3.13; do
  $PIP download -q --no-deps --only-binary=:all: --python-version "$v" --platform manylinux2014_x86_64 \
    --platform manylinux_2_17_x86_64 -d "$C/wheels" optree h5py || true
done
du -sh "$C" "$C"/bin/* "$C/wheels"
