"""PyTorch (eager) reference timings for BENCHMARKS.md: the same models, shapes, optimizers,
batch sizes and step counts as benches/w1.rs .. w4.rs, benches/gpu.rs and benches/keras_bench.py.

    python benches/torch_bench.py w1|w2|w2bn|w3|w4
    TORCH_DEVICE=cuda python benches/torch_bench.py w1|w2|w3|resnet50|resnet50_bf16|transformer

PyTorch keeps images channels-first (NCHW), its native layout; the models are otherwise
Keras's (Keras's default initializers are not reproduced: timings do not depend on them).
"""

import os
import sys
import time

import numpy as np
import torch
from torch import nn

torch.manual_seed(0)
DEV = torch.device(os.environ.get("TORCH_DEVICE", "cpu"))
SMALL = os.environ.get("BENCH_SMALL") == "1"  # shrunken sizes, to check the script on a CPU


def median(v):
    return float(np.median(np.asarray(v)))


def timed_steps(model, opt, loss_fn, x, y, warmup, steps, autocast=None):
    # On DEV; `.to` moves the parameters in place, so `opt` keeps them. `loss.item()`
    # waits for the device each step.
    model.to(DEV)
    x, y = x.to(DEV), y.to(DEV)

    def step():
        opt.zero_grad(set_to_none=True)
        if autocast is None:
            loss = loss_fn(model(x), y)
        else:
            with torch.autocast(DEV.type, dtype=autocast):
                loss = loss_fn(model(x).float(), y)
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


def cnn(bn=False):
    # bn: a BatchNormalization after each convolution's ReLU (Keras's epsilon and momentum).
    def norm(c):
        return [nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)] if bn else []
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), *norm(32), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), *norm(64), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 10), nn.Softmax(dim=-1))


def w2(bn=False):
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(size=(64, 1, 28, 28)).astype("float32"))
    y = torch.from_numpy(rng.integers(0, 10, size=(64,)).astype("int64"))
    model = cnn(bn)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ms = timed_steps(model, opt, sparse_cce_on_probs, x, y, 5, 50)
    name = "W2+BN" if bn else "W2"
    print(f"{name} torch {torch.__version__}: median {ms:.2f} ms/step (eager training step)")


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


class Bottleneck(nn.Module):
    # Keras's ResNet50 block: 1x1, 3x3, 1x1 convolutions with BatchNormalization (eps 1.001e-5).
    def __init__(self, cin, filters, stride, project):
        super().__init__()
        f1, f2, f3 = filters
        bn = lambda c: nn.BatchNorm2d(c, eps=1.001e-5)
        self.body = nn.Sequential(
            nn.Conv2d(cin, f1, 1, stride), bn(f1), nn.ReLU(),
            nn.Conv2d(f1, f2, 3, padding=1), bn(f2), nn.ReLU(),
            nn.Conv2d(f2, f3, 1), bn(f3))
        self.short = nn.Sequential(nn.Conv2d(cin, f3, 1, stride), bn(f3)) if project else nn.Identity()

    def forward(self, x):
        return torch.relu(self.body(x) + self.short(x))


def resnet50_model():
    layers_ = [nn.ZeroPad2d(3), nn.Conv2d(3, 64, 7, 2), nn.BatchNorm2d(64, eps=1.001e-5), nn.ReLU(),
               nn.ZeroPad2d(1), nn.MaxPool2d(3, 2)]
    cin = 64
    for filters, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for i in range(blocks):
            f = (filters, filters, filters * 4)
            layers_.append(Bottleneck(cin, f, stride if i == 0 else 1, i == 0))
            cin = filters * 4
    layers_ += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    return nn.Sequential(*layers_)


def resnet50(autocast=None, name="resnet50"):
    batch, side = (2, 64) if SMALL else (64, 224)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(size=(batch, 3, side, side)).astype("float32"))
    y = torch.from_numpy(rng.integers(0, 1000, size=(batch,)).astype("int64"))
    model = resnet50_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps = 2 if SMALL else 10
    ms = timed_steps(model, opt, nn.functional.cross_entropy, x, y, 3, steps, autocast)
    print(f"{name} torch {torch.__version__} on {DEV}: median {ms:.2f} ms/step "
          f"(eager training step, {steps} steps after 3 warm-up; batch {batch})")


def resnet50_bf16():
    resnet50(torch.bfloat16, "resnet50_bf16")


def transformer():
    blocks, d, heads, ff, seq, batch = (2, 64, 8, 128, 32, 4) if SMALL else (6, 512, 8, 2048, 256, 32)
    enc = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0, activation="relu", batch_first=True,
                                   layer_norm_eps=1e-6),
        blocks, enable_nested_tensor=False)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc, self.out = enc, nn.Linear(d, 10)

        def forward(self, x):
            return self.out(self.enc(x).mean(1))

    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(batch, seq, d)).astype("float32"))
    y = torch.from_numpy(rng.integers(0, 10, size=(batch,)).astype("int64"))
    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps = 2 if SMALL else 20
    ms = timed_steps(model, opt, nn.functional.cross_entropy, x, y, 3, steps)
    print(f"transformer torch {torch.__version__} on {DEV}: median {ms:.2f} ms/step "
          f"(eager training step, {steps} steps after 3 warm-up; batch {batch})")


if __name__ == "__main__":
    torch.set_num_threads(torch.get_num_threads())
    {"w1": w1, "w2": w2, "w2bn": lambda: w2(True), "w3": w3, "w4": w4, "resnet50": resnet50, "resnet50_bf16": resnet50_bf16,
     "transformer": transformer}[sys.argv[1]]()
