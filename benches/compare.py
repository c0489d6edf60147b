"""Reads the lines benches/compare.sh collected and prints, per workload, each library's median
over the rounds and keras-rs's ratio to the best peer (time: keras-rs / best, lower is better;
W4 images per second: best / keras-rs, lower is better), with the floor: the workload's FLOPs at
the measured matmul peak.

    python benches/compare.py target/compare.log
"""

import re
import statistics
import sys
from collections import defaultdict

# FLOPs per step (W1-W3: the forward's multiply-adds, the weight gradients' and the input
# gradients' except for the first layer, x 2) and per image (W4: forward only).
FLOPS = {
    "W1": 2 * 128 * (3 * (784 * 256 + 256 * 128 + 128 * 10) - 784 * 256),
    "W2": 2 * 64 * (26 * 26 * 32 * 9 * 2 + 11 * 11 * 64 * 288 * 3 + 1600 * 10 * 3),
    "W3": 3 * 2 * 128 * 100 * (64 * 128 + 32 * 128),
    "W4": 2 * (26 * 26 * 32 * 9 + 11 * 11 * 64 * 288 + 1600 * 10),
}


def lib_of(line):
    if "keras-rs" in line:
        return "keras-rs"
    if "torch" in line:
        return "PyTorch"
    m = re.search(r"keras [\d.]+ (\w+)", line)
    return {"jax": "Keras+JAX", "tensorflow": "Keras+TF"}.get(m.group(1), m.group(1)) if m else None


def main(path):
    ms = defaultdict(lambda: defaultdict(list))  # workload -> lib -> ms/step
    ips = defaultdict(lambda: defaultdict(list))  # batch -> lib -> images/s
    peak = None
    for line in open(path):
        if line.startswith("PEAK"):
            peak = max(peak or 0.0, float(re.search(r"best ([\d.]+) GFLOP/s", line).group(1)))
            continue
        m = re.match(r"(W[1-4]) ", line)
        lib = lib_of(line)
        if not m or not lib:
            continue
        w = m.group(1)
        if w == "W4":
            b = re.search(r"batch (\d+): (\d+) images/s", line)
            if b:
                ips[int(b.group(1))][lib].append(float(b.group(2)))
            continue
        t = re.search(r"median ([\d.]+) ms/step", line)
        if t:
            ms[w][lib].append(float(t.group(1)))
    print(f"f32 matmul peak (best of numpy, PyTorch, JAX, keras-rs on 2048^3): {peak:.0f} GFLOP/s" if peak else "matmul peak: not measured")
    print("| workload | " + " | ".join(LIBS) + " | keras-rs / best peer | floor at peak |")
    print("|---" * (len(LIBS) + 3) + "|")
    for w in ["W1", "W2", "W3"]:
        med = {l: statistics.median(v) for l, v in ms[w].items() if v}
        peers = [v for l, v in med.items() if l != "keras-rs"]
        ratio = med.get("keras-rs", float("nan")) / min(peers) if peers else float("nan")
        floor = f"{FLOPS[w] / (peak * 1e9) * 1e3:.2f} ms" if peak else "-"
        cells = [f"{med[l]:.3f}" if l in med else "-" for l in LIBS]
        print(f"| {w} ms/step | " + " | ".join(cells) + f" | {ratio:.2f}x | {floor} |")
    for b in sorted(ips):
        med = {l: statistics.median(v) for l, v in ips[b].items() if v}
        peers = [v for l, v in med.items() if l != "keras-rs"]
        ratio = max(peers) / med["keras-rs"] if peers and "keras-rs" in med else float("nan")
        floor = f"{peak * 1e9 / FLOPS['W4']:.0f} images/s" if peak else "-"
        cells = [f"{med[l]:.0f}" if l in med else "-" for l in LIBS]
        print(f"| W4 images/s, batch {b} | " + " | ".join(cells) + f" | {ratio:.2f}x | {floor} |")


LIBS = ["keras-rs", "Keras+JAX", "Keras+TF", "PyTorch"]

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/compare.log")
