#!/usr/bin/env bash
# Builds keras-rs with the `cuda` feature on an x86_64 Linux machine that has no GPU and no
# CUDA toolkit, for NVIDIA Hopper GPUs (sm_90) with driver 580 (CUDA 13.0).
#
#   scripts/build-cuda.sh                      # the library, examples and benches
#   scripts/build-cuda.sh --example gpu_check  # any `cargo build` arguments
#
# On a machine with a CUDA toolkit installed, `cargo build --release --features cuda` is
# enough (candle links libcuda / libcublas / libcurand dynamically at link time). This script
# is for building where there is no toolkit and running the binary elsewhere:
#
#  1. nvcc 13.0 from PyPI wheels (stay on 13.0.x: candle-kernels ships PTX, and the 580
#     driver cannot JIT PTX newer than ISA 9.0, which is what nvcc 13.0 writes);
#  2. a CUDA_ROOT-like folder over the wheels;
#  3. cudart linked statically (candle-kernels asks for `-l dylib=cudart`; a libcudart.so
#     that is a GNU ld script pointing at libcudart_static.a answers it);
#  4. candle-core 0.11.1 with one line changed, used through `--config patch`: cudarc's
#     "dynamic-linking" becomes "dynamic-loading", so the binary dlopen()s libcuda.so.1,
#     libcublas.so.13, libcublasLt.so.13 and libcurand.so.10 when it first uses the GPU
#     and runs (on the CPU) where they are absent;
#  5. cargo build --release --features cuda, in a copy of the tree (the patch rewrites
#     Cargo.lock), into target/cuda.
#
# The result needs glibc >= 2.34 and no CUDA library at link time. At run time put the CUDA 13
# libraries on LD_LIBRARY_PATH (PyTorch's cu130 wheels ship them in site-packages/nvidia/cu13/lib;
# scripts/gpu-env.sh finds them). Adapted from the recipe in ../shared/cuda (verified on an H100).
# Wall time from scratch on 2 cores: ~15-40 min, most of it nvcc building candle-kernels' MoE
# kernels; after that, our own changes rebuild in a minute or two.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
W="${KERAS_CUDA_TOOLCHAIN:-$ROOT/target/cuda-toolchain}"
mkdir -p "$W"
cd "$W"
NICE="nice -n 10"

# 1. nvcc and the CUDA runtime headers from PyPI.
[ -x venv/bin/pip ] || python3 -m venv venv
if ! [ -f venv/.nvcc-13.0 ]; then
  $NICE venv/bin/pip install -q \
    nvidia-cuda-nvcc==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-nvvm==13.0.88 \
    nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85
  touch venv/.nvcc-13.0
fi
CU=$(venv/bin/python -c 'import os,nvidia; print([os.path.join(p,"cu13") for p in nvidia.__path__ if os.path.isdir(os.path.join(p,"cu13"))][0])')

# 2. CUDA_ROOT-like folder: bin/nvcc, include/, nvvm/, lib64/.
mkdir -p cuda/lib64
ln -sfn "$CU/bin" cuda/bin
ln -sfn "$CU/include" cuda/include
ln -sfn "$CU/nvvm" cuda/nvvm
for f in "$CU"/lib/*; do ln -sfn "$f" cuda/lib64/; done
ln -sfn libcudart.so.13 cuda/lib64/libcudart.so

# 3. -lcudart resolves to the static runtime.
mkdir -p cudart-static
printf 'INPUT(%s)\n' "$W/cuda/lib64/libcudart_static.a" > cudart-static/libcudart.so

# 4. candle-core 0.11.1 with cudarc in dynamic-loading mode.
if [ ! -f vendor/candle-core/Cargo.toml ]; then
  (cd "$ROOT" && cargo fetch -q)
  SRC=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/candle-core-0.11.1 | head -1)
  mkdir -p vendor && cp -a "$SRC" vendor/candle-core
  sed -i 's/^    "dynamic-linking",$/    "dynamic-loading",/' vendor/candle-core/Cargo.toml
  grep -q '"dynamic-loading"' vendor/candle-core/Cargo.toml
fi

# 5. Build.
export CUDA_ROOT=$W/cuda CUDA_HOME=$W/cuda CUDA_PATH=$W/cuda
export NVCC=$W/cuda/bin/nvcc PATH=$W/cuda/bin:$PATH
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90}   # cudaforge makes 90 into sm_90a / compute_90a
export CUDARC_CUDA_VERSION=13000                  # cudarc's bindings for CUDA 13.0
export CUDAFORGE_THREADS=${CUDAFORGE_THREADS:-2} CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
export CARGO_TARGET_DIR="$ROOT/target/cuda"
export RUSTFLAGS="${RUSTFLAGS:-} -L native=$W/cudart-static"
# The patch rewrites Cargo.lock, so the build runs in a copy of the tree (tracked and
# untracked files, as git sees them): the checkout and its CPU builds are never touched.
rm -rf "$W/tree" && mkdir -p "$W/tree"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$W/tree"
cd "$W/tree"
ARGS=("$@")
[ ${#ARGS[@]} -gt 0 ] || ARGS=(--lib --examples --benches)
$NICE cargo build --release --features cuda \
  --config "patch.crates-io.candle-core.path=\"$W/vendor/candle-core\"" "${ARGS[@]}"

# 6. No CUDA library may be a link-time dependency.
for b in "$CARGO_TARGET_DIR"/release/examples/* "$CARGO_TARGET_DIR"/release/deps/*; do
  [ -f "$b" ] && [ -x "$b" ] || continue
  if readelf -d "$b" 2>/dev/null | grep NEEDED | grep -E 'libcuda|libcudart|libcublas|libcurand|libnvrtc'; then
    echo "unexpected CUDA NEEDED entry in $b" >&2
    exit 1
  fi
done
echo "built into $CARGO_TARGET_DIR/release"
