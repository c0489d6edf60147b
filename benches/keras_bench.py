"""Python Keras 3 reference timings for BENCHMARKS.md, on the same machine as keras-rs.

    KERAS_BACKEND=jax        python benches/keras_bench.py w1
    KERAS_BACKEND=tensorflow python benches/keras_bench.py w1
    KERAS_BACKEND=jax        python benches/keras_bench.py mnist_mlp

w1: median ms per `train_on_batch` step (200 steps after 20 warm-up), the same model, data
sizes and optimizer as benches/w1.rs, plus the median step time inside `fit` (a callback timing
each batch) for comparison.
mnist_mlp: the mnist_mlp example (5 epochs, batch 32), seconds per epoch.
"""

import os
import sys
import time

import numpy as np
import keras
from keras import layers


def median(v):
    return float(np.median(np.asarray(v)))


def w1():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(42)
    x = rng.uniform(size=(128, 784)).astype("float32")
    y = rng.integers(0, 10, size=(128,)).astype("int32")
    model = keras.Sequential([
        keras.Input((784,)),
        layers.Dense(256, activation="relu"),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    for _ in range(20):
        model.train_on_batch(x, y)
    times = []
    for _ in range(200):
        t = time.perf_counter()
        model.train_on_batch(x, y)
        times.append((time.perf_counter() - t) * 1e3)

    # Inside fit: JAX dispatches steps asynchronously, so per-batch callbacks under-count;
    # time whole epochs of 200 steps instead (one warm-up epoch, then the median of 5).
    xs = np.tile(x, (200, 1))
    ys = np.tile(y, 200)
    model.fit(xs, ys, batch_size=128, epochs=1, shuffle=False, verbose=0)
    epochs = []
    for _ in range(5):
        t = time.perf_counter()
        model.fit(xs, ys, batch_size=128, epochs=1, shuffle=False, verbose=0)
        epochs.append((time.perf_counter() - t) * 1e3 / 200)
    print(f"W1 keras {keras.__version__} {keras.backend.backend()}: median {median(times):.3f} ms/step "
          f"(train_on_batch), {median(epochs):.3f} ms/step inside fit (epochs of 200 steps)")


def timed_steps(model, x, y, warmup, steps):
    for _ in range(warmup):
        model.train_on_batch(x, y)
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        model.train_on_batch(x, y)
        times.append((time.perf_counter() - t) * 1e3)
    return median(times)


def w2(bn=False):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(64, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, size=(64,)).astype("int32")
    model = cnn(bn)
    model.compile("adam", "sparse_categorical_crossentropy")
    name = "W2+BN" if bn else "W2"
    print(f"{name} keras {keras.__version__} {keras.backend.backend()}: median {timed_steps(model, x, y, 5, 50):.2f} ms/step (train_on_batch)")


def cnn(bn=False):
    # bn: a BatchNormalization after each convolution (benches/distributed.rs's W2+BN).
    norm = (lambda: [layers.BatchNormalization()]) if bn else (lambda: [])
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        *norm(),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"),
        *norm(),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


def w4():
    # predict of the W2 CNN on the 10,000 MNIST test images (the repository's copy), images per
    # second at each batch size: median of 5 calls after one warm-up call (which compiles).
    keras.utils.set_random_seed(0)
    with np.load("data/mnist.npz") as f:
        x = (f["x_test"] / 255.0).astype("float32").reshape(10000, 28, 28, 1)
    model = cnn()
    for batch in [32, 64, 256, 1000, 10000]:
        model.predict(x, batch_size=batch, verbose=0)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            model.predict(x, batch_size=batch, verbose=0)
            times.append(time.perf_counter() - t)
        print(f"W4 keras {keras.__version__} {keras.backend.backend()}: batch {batch}: "
              f"{10000 / median(times):.0f} images/s (predict of 10000 images, median {median(times) * 1e3:.1f} ms)")


def w3():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10000, size=(128, 100)).astype("int32")
    y = rng.integers(0, 2, size=(128, 1)).astype("float32")
    model = keras.Sequential([
        keras.Input((100,), dtype="int32"),
        layers.Embedding(10000, 64),
        layers.LSTM(32),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(keras.optimizers.RMSprop(1e-3), "binary_crossentropy")
    print(f"W3 keras {keras.__version__} {keras.backend.backend()}: median {timed_steps(model, x, y, 3, 20):.2f} ms/step (train_on_batch)")


def mnist_mlp():
    # The repository's copy (the same file Keras downloads), read as load_data() reads it.
    with np.load("data/mnist.npz") as f:
        x_train, y_train = f["x_train"], f["y_train"]
        x_test, y_test = f["x_test"], f["y_test"]
    x_train, x_test = x_train / 255.0, x_test / 255.0
    model = keras.Sequential([
        keras.Input((28, 28)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(10),
    ])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    t = time.perf_counter()
    model.fit(x_train, y_train, epochs=5, verbose=2)
    secs = time.perf_counter() - t
    acc = model.evaluate(x_test, y_test, verbose=0)[1]
    print(f"mnist_mlp keras {keras.__version__} {keras.backend.backend()}: {secs / 5:.2f} s/epoch "
          f"(5 epochs {secs:.1f} s, first epoch includes compilation), test accuracy {acc:.4f}")


def data_pipeline():
    """The mnist_mlp model, 3 epochs on arrays and on a tf.data pipeline (shuffle(10000),
    batch(32), prefetch(2)): seconds per epoch, the mean of epochs 2 and 3; then predict on
    the 60000 training images as an array and as a batched tf.data Dataset (median of 3)."""
    import tensorflow as tf

    with np.load("data/mnist.npz") as f:
        x, y = f["x_train"].astype("float32") / 255.0, f["y_train"]

    class Times(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.t = []

        def on_epoch_begin(self, epoch, logs=None):
            self.s = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.t.append(time.perf_counter() - self.s)

    def model():
        keras.utils.set_random_seed(1)
        m = keras.Sequential([
            keras.Input((28, 28)), layers.Flatten(), layers.Dense(128, activation="relu"),
            layers.Dropout(0.2), layers.Dense(10),
        ])
        m.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        return m

    t1, t2 = Times(), Times()
    model().fit(x, y, epochs=3, verbose=0, callbacks=[t1])
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(10000).batch(32).prefetch(2)
    m = model()
    m.fit(ds, epochs=3, verbose=0, callbacks=[t2])
    mean = lambda t: (t[1] + t[2]) / 2
    b = keras.backend.backend()
    print(f"PIPELINE fit keras-{b}: tensors {mean(t1.t):.3f} s/epoch, tf.data shuffle+batch+prefetch {mean(t2.t):.3f} s/epoch")
    xs = tf.data.Dataset.from_tensor_slices(x).batch(32)
    pt, pd = [], []
    for _ in range(3):
        s = time.perf_counter()
        m.predict(x, verbose=0)
        pt.append(time.perf_counter() - s)
        s = time.perf_counter()
        m.predict(xs, verbose=0)
        pd.append(time.perf_counter() - s)
    print(f"PIPELINE predict keras-{b}: tensors {median(pt):.3f} s, tf.data {median(pd):.3f} s (60000 images, batch 32)")


def saving():
    import os
    import tempfile

    for name, make in [("Xception", keras.applications.Xception), ("ResNet50", keras.applications.ResNet50)]:
        model = make(weights=None)
        path = os.path.join(tempfile.gettempdir(), f"keras_bench_{name}.keras")
        save, load = [], []
        for _ in range(3):
            t = time.perf_counter()
            model.save(path)
            save.append(time.perf_counter() - t)
            t = time.perf_counter()
            keras.saving.load_model(path)
            load.append(time.perf_counter() - t)
        mb = os.path.getsize(path) / 1e6
        print(f"SAVING {name}: keras-{keras.backend.backend()} save {median(save):.3f} s, load {median(load):.3f} s ({mb:.1f} MB)")
        os.remove(path)


SMALL = os.environ.get("BENCH_SMALL") == "1"  # shrunken sizes, to check the script on a CPU


def gpu_steps(name, model, x, y, warmup, steps):
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    ms = timed_steps(model, x, y, warmup, steps)
    dev = "gpu" if any(d.platform == "gpu" for d in __import__("jax").devices()) else "cpu"
    print(f"{name} keras {keras.__version__} {keras.backend.backend()} on {dev}: median {ms:.2f} ms/step "
          f"(train_on_batch, {steps} steps after {warmup} warm-up; batch {len(x)})")


def resnet50(policy="float32", name="resnet50"):
    # benches/gpu.rs: ResNet50 (random weights, 1000 classes), synthetic images, batch 64, Adam.
    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    batch, side = (2, 64) if SMALL else (64, 224)
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(batch, side, side, 3)).astype("float32")
    y = rng.integers(0, 1000, size=(batch,)).astype("int32")
    model = keras.applications.ResNet50(weights=None, input_shape=(side, side, 3), classes=1000)
    keras.mixed_precision.set_global_policy("float32")
    gpu_steps(name, model, x, y, 3, 2 if SMALL else 10)


def resnet50_bf16():
    resnet50("mixed_bfloat16", "resnet50_bf16")


def transformer():
    # benches/gpu.rs: 6 post-norm encoder blocks, d_model 512, 8 heads, ff 2048, seq 256, batch 32.
    keras.utils.set_random_seed(0)
    blocks, d, heads, ff, seq, batch = (2, 64, 8, 128, 32, 4) if SMALL else (6, 512, 8, 2048, 256, 32)
    inputs = keras.Input((seq, d))
    x = inputs
    for _ in range(blocks):
        a = layers.MultiHeadAttention(heads, d // heads)(x, x)
        x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, a]))
        f = layers.Dense(ff, activation="relu")(x)
        f = layers.Dense(d)(f)
        x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, f]))
    x = layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(batch, seq, d)).astype("float32")
    ys = rng.integers(0, 10, size=(batch,)).astype("int32")
    gpu_steps("transformer", model, xs, ys, 3, 2 if SMALL else 20)


if __name__ == "__main__":
    {"w1": w1, "w2": w2, "w2bn": lambda: w2(True), "w3": w3, "w4": w4, "mnist_mlp": mnist_mlp, "saving": saving,
     "data_pipeline": data_pipeline, "resnet50": resnet50,
     "resnet50_bf16": resnet50_bf16, "transformer": transformer}[sys.argv[1]]()
