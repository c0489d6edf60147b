#!/usr/bin/env bash
# Issue 14's GPU run, in one go on the GPU machine (NVIDIA driver 580 / CUDA 13.0, PyTorch and
# JAX with CUDA installed), from the repository root, with target/gpu-carry from
# scripts/gpu-pack.sh. About 8 minutes on an H200. Writes $OUT/gpu-run.log (default
# target/gpu-out), whose lines BENCHMARKS.md and the issue's notes quote:
#   1. examples/gpu_check gpu:0: every layer family, loss and optimizer on CUDA against the CPU
#      (1e-4), mnist_mlp / mnist_cnn trained on CUDA to the CPU's accuracy, save / load;
#      and the device plumbing with a driver present (default device, a bad ordinal);
#   2-4. W1-W3 and the ResNet50 (f32, mixed_bfloat16) / Transformer workloads: keras-rs, then
#      PyTorch (TORCH_DEVICE=cuda), then Keras 3 with JAX, all on the same GPU.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
C=target/gpu-carry
OUT=${OUT:-target/gpu-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-run.log") 2>&1
PY=${PYTHON:-python3}
run() { # run <seconds> <command...>: its output, then its exit status and wall time
  local s=$SECONDS
  timeout "$1" "${@:2}"
  echo "[rc=$? ${*:2}: $((SECONDS - s)) s]"
}
date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
nproc; $PY --version
# The CUDA 13 libraries candle loads (libcublas, libcublasLt, libcurand) from PyTorch's wheels.
CU13=$($PY - <<'PYEOF' 2>/dev/null
import os, nvidia
for p in nvidia.__path__:
    d = os.path.join(p, "cu13", "lib")
    if os.path.exists(os.path.join(d, "libcublas.so.13")):
        print(d); break
PYEOF
)
[ -n "$CU13" ] && export LD_LIBRARY_PATH="$CU13${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"

B=$(mktemp -d)/gpu_check
gunzip -c "$C/bin/gpu_check.gz" > "$B" && chmod +x "$B"
echo "== 1. gpu_check"
run 300 "$B" gpu:0
echo "== 2. keras-rs benchmarks"
for w in w1 w2 w3 resnet50 resnet50_bf16 transformer; do run 180 "$B" --bench "$w"; done
echo "== 3. PyTorch"
for w in w1 w2 w3 resnet50 resnet50_bf16 transformer; do
  TORCH_DEVICE=cuda run 180 $PY benches/torch_bench.py "$w"
done
echo "== 4. Keras 3 (JAX)"
$PY -m pip install -q --no-index --find-links "$C/wheels" keras==3.15.1 2>&1 | tail -2
$PY -c 'import jax; print("jax", jax.__version__, jax.devices())'
for w in w1 w2 w3 resnet50 resnet50_bf16 transformer; do
  KERAS_BACKEND=jax run 300 $PY benches/keras_bench.py "$w"
done
date -u
