#!/usr/bin/env bash
# Runs keras-rs's benchmarks and Python Keras's (JAX and TensorFlow backends) one after the
# other on this machine, for BENCHMARKS.md's older sections (W1-W4 beside every peer, PyTorch
# included: benches/compare.sh). Needs a Python with keras, jax and tensorflow:
#   python3 -m venv /tmp/kvenv && /tmp/kvenv/bin/pip install "keras==3.15.*" "jax[cpu]" tensorflow-cpu
#   PY=/tmp/kvenv/bin/python benches/run_all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u +%F)"
for w in w1 w2 w3; do cargo bench --bench $w --no-run 2>/dev/null; done
# Three interleaved rounds: this 2-core VM is noisy, so compare rounds side by side.
for round in 1 2 3; do
  echo "## round $round"
  for w in w1 w2 w3; do
    W=$(echo $w | tr a-z A-Z)
    cargo bench --bench $w 2>/dev/null | grep -v '^$'
    for b in jax tensorflow; do
      KERAS_BACKEND=$b TF_CPP_MIN_LOG_LEVEL=3 "$PY" benches/keras_bench.py $w 2>/dev/null | grep $W
    done
  done
done
cargo build --release --example mnist_mlp 2>/dev/null
./target/release/examples/mnist_mlp 2>/dev/null | grep -E "training time|test accuracy"
for b in jax tensorflow; do
  KERAS_BACKEND=$b TF_CPP_MIN_LOG_LEVEL=3 "$PY" benches/keras_bench.py mnist_mlp 2>/dev/null | grep mnist_mlp
done
cargo bench --bench saving 2>/dev/null | grep SAVING
for b in jax tensorflow; do
  KERAS_BACKEND=$b TF_CPP_MIN_LOG_LEVEL=3 "$PY" benches/keras_bench.py saving 2>/dev/null | grep SAVING
done
cargo bench --bench data_pipeline 2>/dev/null | grep PIPELINE
for b in jax tensorflow; do
  KERAS_BACKEND=$b TF_CPP_MIN_LOG_LEVEL=3 "$PY" benches/keras_bench.py data_pipeline 2>/dev/null | grep PIPELINE
done
