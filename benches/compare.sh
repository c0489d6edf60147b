#!/usr/bin/env bash
# The side-by-side comparison of BENCHMARKS.md: W1-W4 for keras-rs, Keras 3 + JAX, Keras 3 +
# TensorFlow and PyTorch, interleaved rounds on this machine, then the ratios to the best peer.
#
#   benches/compare.sh              # makes target/bench-venv (Keras, JAX, TensorFlow, PyTorch)
#   PY=/path/to/python benches/compare.sh   # a Python that has them already
#   ROUNDS=3 benches/compare.sh
#
# Writes the raw lines to target/compare.log and prints the table (benches/compare.py).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-2}
if [ -z "${PY:-}" ]; then
  VENV=target/bench-venv
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "keras==3.15.1" "jax[cpu]" tensorflow-cpu torch numpy
  fi
  PY=$VENV/bin/python
fi
LOG=target/compare.log
mkdir -p target
{
  echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u +%F)"
  "$PY" - <<'PYEOF' 2>/dev/null
# The machine's f32 matmul peak: the best of numpy (OpenBLAS), PyTorch and JAX on 2048^3.
import time, numpy as np
def best(f, reps=5):
    f(); ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return 2 * 2048**3 / min(ts) / 1e9
a = np.random.rand(2048, 2048).astype("float32"); b = np.random.rand(2048, 2048).astype("float32")
rates = {"numpy": best(lambda: a @ b)}
try:
    import torch
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    rates["torch"] = best(lambda: ta @ tb)
except ImportError:
    pass
try:
    import jax
    ja, jb = jax.numpy.asarray(a), jax.numpy.asarray(b)
    mm = jax.jit(lambda x, y: x @ y)
    rates["jax"] = best(lambda: mm(ja, jb).block_until_ready())
except ImportError:
    pass
print("PEAK f32 matmul 2048: " + ", ".join(f"{k} {v:.0f}" for k, v in rates.items())
      + f"; best {max(rates.values()):.0f} GFLOP/s")
PYEOF
} | tee "$LOG"
for w in w1 w2 w3 w4; do cargo bench --bench $w --no-run 2>/dev/null; done
for round in $(seq 1 "$ROUNDS"); do
  echo "## round $round" | tee -a "$LOG"
  for w in w1 w2 w3 w4; do
    W=$(echo $w | tr a-z A-Z)
    cargo bench --bench $w 2>/dev/null | grep -E "^$W|^PEAK|inside fit" | tee -a "$LOG"
    for b in jax tensorflow; do
      KERAS_BACKEND=$b TF_CPP_MIN_LOG_LEVEL=3 "$PY" benches/keras_bench.py $w 2>/dev/null | grep $W | tee -a "$LOG"
    done
    "$PY" benches/torch_bench.py $w 2>/dev/null | grep $W | tee -a "$LOG"
  done
done
"$PY" benches/compare.py "$LOG"
