"""PyTorch (eager, CPU) reference timings for BENCHMARKS.md: the same models, shapes, optimizers,
batch sizes and step counts as benches/w1.rs .. w4.rs and benches/keras_bench.py.

    python benches/torch_bench.py w1|w2|w3|w4

PyTorch keeps images channels-first (NCHW), its native layout; the models are otherwise
Keras's (Keras's default initializers are not reproduced: timings do not depend on them).
"""

import sys
import time

import numpy as np
import torch
from torch import nn

torch.manual_seed(0)


def median(v):
    return float(np.median(np.asarray(v)))


def timed_steps(model, opt, loss_fn, x, y, warmup, steps):
    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1e3)
    return median(times)


def sparse_cce_on_probs(p, y):
    # Keras's sparse categorical cross-entropy on softmax outputs.
    return nn.functional.nll_loss(torch.log(p.clamp_min(1e-7)), y)


def w1():
    rng = np.random.default_rng(42)
    x = torch.from_numpy(rng.uniform(size=(128, 784)).astype("float32"))
    y = torch.from_numpy(rng.integers(0, 10, size=(128,)).astype("int64"))
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10), nn.Softmax(dim=-1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ms = timed_steps(model, opt, sparse_cce_on_probs, x, y, 20, 200)
    print(f"W1 torch {torch.__version__}: median {ms:.3f} ms/step (eager training step)")


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 10), nn.Softmax(dim=-1))


def w2():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(size=(64, 1, 28, 28)).astype("float32"))
    y = torch.from_numpy(rng.integers(0, 10, size=(64,)).astype("int64"))
    model = cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ms = timed_steps(model, opt, sparse_cce_on_probs, x, y, 5, 50)
    print(f"W2 torch {torch.__version__}: median {ms:.2f} ms/step (eager training step)")


class LstmModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10000, 64)
        self.lstm = nn.LSTM(64, 32, batch_first=True)
        self.out = nn.Linear(32, 1)

    def forward(self, x):
        _, (h, _) = self.lstm(self.emb(x))
        return torch.sigmoid(self.out(h[-1]))


def w3():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.integers(0, 10000, size=(128, 100)).astype("int64"))
    y = torch.from_numpy(rng.integers(0, 2, size=(128, 1)).astype("float32"))
    model = LstmModel()
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    ms = timed_steps(model, opt, nn.functional.binary_cross_entropy, x, y, 3, 20)
    print(f"W3 torch {torch.__version__}: median {ms:.2f} ms/step (eager training step)")


def w4():
    with np.load("data/mnist.npz") as f:
        x = torch.from_numpy((f["x_test"] / 255.0).astype("float32").reshape(10000, 1, 28, 28))
    model = cnn().eval()

    def predict(batch):
        with torch.inference_mode():
            return torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)]).numpy()

    for batch in [32, 64, 256, 1000, 10000]:
        predict(batch)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            predict(batch)
            times.append(time.perf_counter() - t)
        print(f"W4 torch {torch.__version__}: batch {batch}: {10000 / median(times):.0f} images/s "
              f"(predict of 10000 images, median {median(times) * 1e3:.1f} ms)")


if __name__ == "__main__":
    torch.set_num_threads(torch.get_num_threads())
    {"w1": w1, "w2": w2, "w3": w3, "w4": w4}[sys.argv[1]]()
