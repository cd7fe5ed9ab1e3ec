"""Writes small REAL Keras / TensorFlow trainings, logged by Keras' own TensorBoard callback and by
TF2 / TF1 summary writers, for the diagnosis benchmark; labels each run from what it logged.

    python3 -m venv /work/venv-tf && /work/venv-tf/bin/pip install tensorflow-cpu numpy tensorboard
    /work/venv-tf/bin/python benchmarks/diagnosis/generate_keras.py   # about 1 minute on one core

(tensorflow-cpu 2.21 no longer pulls in tensorboard; it is needed here only to read the logs back.)
TensorFlow runs on one thread (intra/inter op parallelism 1). Data is synthetic numpy with fixed
seeds. The script does not import reportgen.

Runs go to benchmarks/diagnosis/logs/keras/<run>/ (git-ignored) and labels to
logs/keras/labels.json. A run is the logdir handed to the callback: it holds the sub-runs
`train/` (epoch_loss, epoch_accuracy, epoch_learning_rate, a `keras` graph-config tensor and one
TF2 tensor histogram per weight, `sequential/<layer>/<weight>/histogram`, step = epoch) and
`validation/` (epoch_loss, epoch_accuracy, evaluation_loss_vs_iterations,
evaluation_accuracy_vs_iterations). Every run has validation data. Runs:

- healthy_mlp_relu: 4-class Gaussian blobs (10-d, 8192 training / 512 validation examples), Dense
  64-64-64 ReLU, softmax output, Adam 1e-3, 10 epochs.
- healthy_bn_cnn: 12x12 "bars" images (3 classes, 2048 / 256), functional Conv-BN-ReLU x2 (conv
  without bias, BN momentum 0.9), global average pooling, Adam 1e-3, 8 epochs; BN gamma/beta/
  moving_mean/moving_variance are logged as histograms (`bn1/gamma/histogram`: a functional
  model's weight paths have no model prefix).
- overfitting_big_mlp: 20-d noisy blobs, 300 training examples with 30% of labels redrawn at random
  (1000 validation examples drawn the same way), Dense 512-512 ReLU, Adam 2e-4, 30 epochs: the
  validation loss has a minimum early, then rises while the training loss keeps falling.
- elu_floor_negative_bias: Dense 64-64-64 ELU with bias_initializer=Constant(-5), SGD 0.01 momentum
  0.9: the hidden activations pile at ELU's floor -1 and the loss stays near ln 4. The callback logs
  only weights, so a custom callback runs a fixed batch through a sub-model and writes
  `hidden<i>/activations` with its OWN tf.summary file writer into `train/` (so train/ holds two
  event files: the callback's and this one). (With Adam 1e-3 the same net escapes the floor.)
- sigmoid_deep_vanishing: ten Dense(32, sigmoid) layers, SGD 0.1, 10 epochs; a subclass of the
  callback writes `hidden<i>/kernel_grad` and `output/kernel_grad` from a GradientTape on a fixed
  batch into the callback's own train writer (`self._train_writer`, one event file).
- lr_far_too_high_sgd: Dense 64-64 ReLU on logits (from_logits=True), plain SGD with learning rate
  5; no TerminateOnNaN, so the logging goes on after the loss turns NaN. update_freq=2 adds
  `batch_loss`/`batch_accuracy` (Keras' running mean within the epoch) every 2nd batch, the only
  place the finite, rising loss shows before NaN: every epoch value is already NaN.
- l2_far_too_strong: Dense 64-64-64 ReLU with kernel_regularizer=l2(1.0) on every kernel, SGD 0.01,
  15 epochs: the kernels shrink by orders of magnitude and the loss ends stuck at ln 4 (Keras
  adds the penalty to epoch_loss, train and validation, so the logged loss first falls steeply).
- frozen_first_layer: the healthy MLP with `trainable=False` set on hidden1 after build (before
  compile); the rest trains.
- tf1_graph_elu_mlp: TF1 graph mode (tf.compat.v1, Session, FileWriter to `train/` and `test/` as in
  the mnist_with_summaries tutorial), its idioms: name scopes `layer1/weights`, `variable_summaries`
  giving `layer1/weights/summaries/histogram` and `layer1/biases/summaries_1/histogram` (a sparsity
  scalar took `summaries` first) with mean/stddev/max/min scalars (TF's case-insensitive op-name
  uniquifying makes them `mean_1`, `stddev_1`, `max_1`, `min_1`), `layer1/Wx_plus_b/pre_activations`,
  `layer1/activations`; a healthy ELU MLP, Adam 1e-3, 600 steps, with Estimator-style `loss`
  (train, a summary op every 20 steps) and `loss`/`average_loss`/`accuracy` (test, Summary protos
  every 50 steps). Histograms here are legacy HistogramProto, scalars simple_value (not tensors).

labels.json: {"<run>": {"healthy", "expected", "allowed", "expected_layers" (optional),
"any_of" (optional: symptoms any one of which counts, as in the torch set), "evidence", "why"}}.
`expected`, `healthy` and the numbers in `evidence` are computed from the logs read back with
tensorboard's EventAccumulator, not from what was planned; `why` says when a plan did not
materialise.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
import keras  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, "logs", "keras")
CLASSES = 4


# Data ------------------------------------------------------------------------------------


def blobs(n: int, rng: np.random.Generator, dims: int = 10, classes: int = CLASSES, noise: float = 1.5):
    centers = rng.normal(0, 2.0, (classes, dims))
    y = rng.integers(0, classes, n)
    return (centers[y] + rng.normal(0, noise, (n, dims))).astype("float32"), y.astype("int32")


def bars(n: int, rng: np.random.Generator, size: int = 12):
    """Noisy images of a horizontal, vertical or diagonal bar (channels last): 3 classes."""
    y = rng.integers(0, 3, n)
    x = rng.normal(0, 0.5, (n, size, size, 1))
    pos = rng.integers(2, size - 2, n)
    for i in range(n):
        if y[i] == 0:
            x[i, pos[i], :, 0] += 2
        elif y[i] == 1:
            x[i, :, pos[i], 0] += 2
        else:
            x[i, np.arange(size), (np.arange(size) + pos[i]) % size, 0] += 2
    return x.astype("float32"), y.astype("int32")


def split(x, y, n_train):
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


# Helpers ---------------------------------------------------------------------------------


def fresh(seed: int) -> None:
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)


def mlp(inputs: int, hidden, activation: str, outputs: int = CLASSES, softmax: bool = True, **dense_kwargs):
    layers = [keras.Input((inputs,))]
    for i, units in enumerate(hidden, 1):
        layers.append(keras.layers.Dense(units, activation=activation, name=f"hidden{i}", **dense_kwargs))
    layers.append(
        keras.layers.Dense(
            outputs,
            activation="softmax" if softmax else None,
            name="output",
            **{k: v for k, v in dense_kwargs.items() if k == "kernel_regularizer"},
        )
    )
    return keras.Sequential(layers, name="sequential")


def tensorboard(run: str, cls=keras.callbacks.TensorBoard):
    return cls(os.path.join(LOGS, run), histogram_freq=1)


class ActivationLogger(keras.callbacks.Callback):
    """Writes the post-activation outputs of the named layers on a fixed batch, once per epoch,
    with its own file writer into <logdir>/train (the Keras callback logs only weights)."""

    def __init__(self, logdir: str, layer_names, batch):
        super().__init__()
        self.names, self.batch = list(layer_names), batch
        self.writer = tf.summary.create_file_writer(os.path.join(logdir, "train"))

    def on_train_begin(self, logs=None):
        self.probe = keras.Model(self.model.inputs[0], [self.model.get_layer(n).output for n in self.names])

    def on_epoch_end(self, epoch, logs=None):
        outputs = self.probe(self.batch, training=False)
        with self.writer.as_default():
            for name, value in zip(self.names, outputs):
                tf.summary.histogram(f"{name}/activations", value, step=epoch)
        self.writer.flush()

    def on_train_end(self, logs=None):
        self.writer.close()


class TensorBoardWithGradients(keras.callbacks.TensorBoard):
    """The Keras callback plus `<layer>/kernel_grad` histograms from a GradientTape on a fixed
    batch, written into the callback's own train writer (the usual subclassing recipe)."""

    def __init__(self, log_dir, batch, loss_fn, **kwargs):
        super().__init__(log_dir, **kwargs)
        self.batch, self.loss_fn = batch, loss_fn

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        x, y = self.batch
        dense = [layer for layer in self.model.layers if layer.weights]
        with tf.GradientTape() as tape:
            loss = self.loss_fn(y, self.model(x, training=True))
        grads = tape.gradient(loss, [layer.kernel for layer in dense])
        with self._train_writer.as_default():
            for layer, grad in zip(dense, grads):
                tf.summary.histogram(f"{layer.name}/kernel_grad", grad, step=epoch)
        self._train_writer.flush()


# Runs ------------------------------------------------------------------------------------


def blobs_data(seed: int, n_train: int = 8192, n_val: int = 512, **kw):
    rng = np.random.default_rng(seed)
    x, y = blobs(n_train + n_val, rng, **kw)
    return split(x, y, n_train)


def compile_adam(model, lr=1e-3):
    model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])


def run_healthy_mlp(run: str) -> dict:
    fresh(0)
    (x, y), val = blobs_data(0)
    model = mlp(10, (64, 64, 64), "relu")
    compile_adam(model)
    model.fit(x, y, batch_size=64, epochs=10, validation_data=val, verbose=0, callbacks=[tensorboard(run)])
    return {"plan": "healthy", "kernels": ["hidden1", "hidden2", "hidden3", "output"]}


def run_healthy_bn_cnn(run: str) -> dict:
    fresh(1)
    rng = np.random.default_rng(1)
    x, y = bars(2048 + 256, rng)
    (x, y), val = split(x, y, 2048)
    inputs = keras.Input((12, 12, 1))
    h = keras.layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv1")(inputs)
    h = keras.layers.BatchNormalization(momentum=0.9, name="bn1")(h)
    h = keras.layers.ReLU(name="relu1")(h)
    h = keras.layers.MaxPooling2D(name="pool1")(h)
    h = keras.layers.Conv2D(16, 3, padding="same", use_bias=False, name="conv2")(h)
    h = keras.layers.BatchNormalization(momentum=0.9, name="bn2")(h)
    h = keras.layers.ReLU(name="relu2")(h)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    outputs = keras.layers.Dense(3, activation="softmax", name="output")(h)
    model = keras.Model(inputs, outputs, name="bn_cnn")
    compile_adam(model, 1e-3)
    model.fit(x, y, batch_size=64, epochs=8, validation_data=val, verbose=0, callbacks=[tensorboard(run)])
    return {"plan": "healthy", "kernels": ["conv1", "conv2", "output"]}


def run_overfitting(run: str) -> dict:
    fresh(2)
    rng = np.random.default_rng(2)
    x, y = blobs(300 + 1000, rng, dims=20, noise=2.5)
    flip = rng.random(len(y)) < 0.3  # 30% of labels redrawn at random (about 22% wrong), validation too
    y = np.where(flip, rng.integers(0, CLASSES, len(y)), y).astype("int32")
    (x, y), val = split(x, y, 300)
    model = mlp(20, (512, 512), "relu")
    compile_adam(model, 2e-4)
    model.fit(x, y, batch_size=32, epochs=30, validation_data=val, verbose=0, callbacks=[tensorboard(run)])
    return {"plan": "overfitting", "kernels": ["hidden1", "hidden2", "output"]}


def run_elu_floor(run: str) -> dict:
    fresh(3)
    (x, y), val = blobs_data(3, n_train=2048)
    model = mlp(10, (64, 64, 64), "elu", bias_initializer=keras.initializers.Constant(-5.0))
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy", metrics=["accuracy"])
    names = ["hidden1", "hidden2", "hidden3"]
    model.fit(
        x,
        y,
        batch_size=64,
        epochs=10,
        validation_data=val,
        verbose=0,
        callbacks=[tensorboard(run), ActivationLogger(os.path.join(LOGS, run), names, val[0][:256])],
    )
    return {"plan": "elu_floor", "kernels": names + ["output"], "activations": names}


def run_sigmoid_deep(run: str) -> dict:
    fresh(4)
    (x, y), val = blobs_data(4, n_train=2048)
    model = mlp(10, (32,) * 10, "sigmoid")
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    callback = TensorBoardWithGradients(os.path.join(LOGS, run), (x[:256], y[:256]), loss_fn, histogram_freq=1)
    model.fit(x, y, batch_size=64, epochs=10, validation_data=val, verbose=0, callbacks=[callback])
    return {"plan": "vanishing", "kernels": [f"hidden{i}" for i in range(1, 11)] + ["output"]}


def run_high_lr(run: str) -> dict:
    fresh(5)
    (x, y), val = blobs_data(5, n_train=2048)
    model = mlp(10, (64, 64), "relu", softmax=False)
    model.compile(
        keras.optimizers.SGD(5.0), keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    # update_freq=2: batch_loss / batch_accuracy every 2nd batch as well (Keras' running mean over the epoch)
    callback = keras.callbacks.TensorBoard(os.path.join(LOGS, run), histogram_freq=1, update_freq=2)
    model.fit(x, y, batch_size=64, epochs=8, validation_data=val, verbose=0, callbacks=[callback])
    return {"plan": "high_lr", "kernels": ["hidden1", "hidden2", "output"]}


def run_l2_strong(run: str) -> dict:
    fresh(6)
    (x, y), val = blobs_data(6, n_train=2048)
    model = mlp(10, (64, 64, 64), "relu", kernel_regularizer=keras.regularizers.l2(1.0))
    model.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=15, validation_data=val, verbose=0, callbacks=[tensorboard(run)])
    return {"plan": "weight_collapse", "kernels": ["hidden1", "hidden2", "hidden3", "output"]}


def run_frozen(run: str) -> dict:
    fresh(7)
    (x, y), val = blobs_data(7)
    model = mlp(10, (64, 64, 64), "relu")
    model.get_layer("hidden1").trainable = False  # after build (Input given), before compile
    compile_adam(model)
    model.fit(x, y, batch_size=64, epochs=10, validation_data=val, verbose=0, callbacks=[tensorboard(run)])
    return {"plan": "frozen", "frozen": "hidden1", "kernels": ["hidden1", "hidden2", "hidden3", "output"]}


def run_tf1_graph(run: str) -> dict:
    """The TF1 mnist_with_summaries idioms on a small healthy ELU MLP (graph mode, Session)."""
    tf1 = tf.compat.v1
    (x_train, y_train), (x_test, y_test) = blobs_data(8, noise=2.0)
    graph = tf.Graph()
    with graph.as_default():
        tf1.set_random_seed(8)

        def variable_summaries(var):
            with tf.name_scope("summaries"):
                mean = tf.reduce_mean(var)
                tf1.summary.scalar("mean", mean)
                with tf.name_scope("stddev"):
                    stddev = tf.sqrt(tf.reduce_mean(tf.square(var - mean)))
                tf1.summary.scalar("stddev", stddev)
                tf1.summary.scalar("max", tf.reduce_max(var))
                tf1.summary.scalar("min", tf.reduce_min(var))
                tf1.summary.histogram("histogram", var)

        def nn_layer(input_tensor, input_dim, output_dim, layer_name, act=tf.nn.elu):
            with tf.name_scope(layer_name):
                with tf.name_scope("weights"):
                    weights = tf1.Variable(
                        tf1.truncated_normal([input_dim, output_dim], stddev=1.0 / math.sqrt(input_dim))
                    )
                    variable_summaries(weights)
                with tf.name_scope("biases"):
                    biases = tf1.Variable(tf1.constant(0.0, shape=[output_dim]))
                    with tf.name_scope(
                        "summaries"
                    ):  # a sparsity scalar added first: the idiom's scope becomes summaries_1
                        tf1.summary.scalar("sparsity", tf.nn.zero_fraction(biases))
                    variable_summaries(biases)
                with tf.name_scope("Wx_plus_b"):
                    preactivate = tf.matmul(input_tensor, weights) + biases
                    tf1.summary.histogram("pre_activations", preactivate)
                if act is None:
                    return preactivate
                activations = act(preactivate, name="activation")
                tf1.summary.histogram("activations", activations)
                return activations

        with tf.name_scope("input"):
            xs = tf1.placeholder(tf.float32, [None, 10], name="x-input")
            ys = tf1.placeholder(tf.int64, [None], name="y-input")
        h1 = nn_layer(xs, 10, 64, "layer1")
        h2 = nn_layer(h1, 64, 64, "layer2")
        logits = nn_layer(h2, 64, CLASSES, "layer3", act=None)
        with tf.name_scope("cross_entropy"):
            per_example = tf1.losses.sparse_softmax_cross_entropy(
                labels=ys, logits=logits, reduction=tf1.losses.Reduction.NONE
            )
            loss = tf.reduce_mean(per_example)
        with tf.name_scope("train"):
            train_step = tf1.train.AdamOptimizer(1e-3).minimize(loss)
        with tf.name_scope("accuracy"):
            accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), ys), tf.float32))
        # Estimator-style scalars: `loss` while training (a summary op); on evaluation `loss` (mean of the
        # per-batch losses), `average_loss` (mean per example) and `accuracy`, written as Summary protos
        # with simple_value the way Estimator's evaluation writes its metrics dict
        tf1.summary.scalar("loss", loss)
        merged = tf1.summary.merge_all()
        rng = np.random.default_rng(8)

        def evaluate(sess, writer, step):
            batch_losses, examples, correct = [], [], 0.0
            for start in range(0, len(x_test), 100):  # 5 batches of 100 and one of 12
                feed = {xs: x_test[start : start + 100], ys: y_test[start : start + 100]}
                per, acc = sess.run([per_example, accuracy], feed)
                batch_losses.append(float(per.mean()))
                examples.extend(per.tolist())
                correct += acc * len(per)
            values = {
                "loss": float(np.mean(batch_losses)),
                "average_loss": float(np.mean(examples)),
                "accuracy": correct / len(x_test),
            }
            writer.add_summary(
                tf1.Summary(value=[tf1.Summary.Value(tag=k, simple_value=v) for k, v in values.items()]), step
            )

        with tf1.Session(
            graph=graph, config=tf1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
        ) as sess:
            train_writer = tf1.summary.FileWriter(os.path.join(LOGS, run, "train"), sess.graph)
            test_writer = tf1.summary.FileWriter(os.path.join(LOGS, run, "test"))
            sess.run(tf1.global_variables_initializer())
            for step in range(600):
                if step % 50 == 0:
                    evaluate(sess, test_writer, step)
                idx = rng.integers(0, len(x_train), 64)
                if step % 20 == 0:
                    summary, _ = sess.run([merged, train_step], {xs: x_train[idx], ys: y_train[idx]})
                    train_writer.add_summary(summary, step)
                else:
                    sess.run(train_step, {xs: x_train[idx], ys: y_train[idx]})
            evaluate(sess, test_writer, 600)
            train_writer.close()
            test_writer.close()
    return {
        "plan": "healthy",
        "tf1": True,
        "kernels": ["layer1", "layer2", "layer3"],
        "activations": ["layer1", "layer2"],
    }


RUNS = [
    ("healthy_mlp_relu", run_healthy_mlp),
    ("healthy_bn_cnn", run_healthy_bn_cnn),
    ("overfitting_big_mlp", run_overfitting),
    ("elu_floor_negative_bias", run_elu_floor),
    ("sigmoid_deep_vanishing", run_sigmoid_deep),
    ("lr_far_too_high_sgd", run_high_lr),
    ("l2_far_too_strong", run_l2_strong),
    ("frozen_first_layer", run_frozen),
    ("tf1_graph_elu_mlp", run_tf1_graph),
]


# Reading back ------------------------------------------------------------------------------


def read_subrun(path: str) -> dict:
    """{'scalars': {tag: [(step, value)]}, 'histograms': {tag: [(step, buckets[k, 3])]}, 'files': n}
    from TF2 tensor summaries (scalars and histograms plugins) and TF1 simple_value / HistogramProto."""
    ea = EventAccumulator(
        path,
        size_guidance={"scalars": 0, "histograms": 0, "tensors": 0, "compressedHistograms": 0, "images": 0, "audio": 0},
    )
    ea.Reload()
    tags = ea.Tags()
    scalars, histograms, kinds = {}, {}, {}
    for tag in tags.get("tensors", []):
        plugin = ea.SummaryMetadata(tag).plugin_data.plugin_name
        events = ea.Tensors(tag)
        if plugin == "scalars":
            scalars[tag] = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in events]
            kinds[tag] = "tensor scalar"
        elif plugin == "histograms":
            histograms[tag] = [
                (e.step, np.asarray(tensor_util.make_ndarray(e.tensor_proto), dtype=float)) for e in events
            ]
            kinds[tag] = "tensor histogram"
    for tag in tags.get("scalars", []):
        scalars[tag] = [(e.step, float(e.value)) for e in ea.Scalars(tag)]
        kinds[tag] = "simple_value scalar"
    for tag in tags.get("histograms", []):
        histograms[tag] = [(e.step, legacy_buckets(e.histogram_value)) for e in ea.Histograms(tag)]
        kinds[tag] = "HistogramProto"
    files = [f for f in os.listdir(path) if f.startswith("events.out.tfevents")]
    return {"scalars": scalars, "histograms": histograms, "kinds": kinds, "files": len(files)}


def legacy_buckets(h) -> np.ndarray:
    """HistogramProto -> [k, 3] (left, right, count), the outer limits clipped to min/max."""
    limits, counts = list(h.bucket_limit), list(h.bucket)
    rows, left = [], h.min
    for limit, count in zip(limits, counts):
        right = min(limit, h.max)
        if count:
            rows.append((max(left, h.min), max(right, max(left, h.min)), count))
        left = limit
    return np.array(rows, dtype=float).reshape(-1, 3)


def hist_stats(buckets: np.ndarray) -> dict:
    if buckets.size == 0:
        return {"n": 0, "mean": float("nan"), "std": float("nan"), "finite": True}
    left, right, count = buckets[:, 0], buckets[:, 1], buckets[:, 2]
    finite = bool(np.isfinite(left).all() and np.isfinite(right).all())
    n = float(count.sum())
    if not finite or n <= 0:
        return {"n": n, "mean": float("nan"), "std": float("nan"), "finite": finite}
    mid, width = (left + right) / 2, right - left
    mean = float((count * mid).sum() / n)
    var = float((count * ((mid - mean) ** 2 + width**2 / 12)).sum() / n)
    used = count > 0
    return {
        "n": n,
        "mean": mean,
        "std": math.sqrt(max(var, 0.0)),
        "finite": True,
        "min": float(left[used].min()),
        "max": float(right[used].max()),
    }


def share_below(buckets: np.ndarray, limit: float) -> float:
    """Share of the count below `limit`, uniform within a bucket."""
    left, right, count = buckets[:, 0], buckets[:, 1], buckets[:, 2]
    n = count.sum()
    if n <= 0:
        return float("nan")
    width = np.where(right > left, right - left, 1.0)
    part = np.where(right <= limit, 1.0, np.where(left >= limit, 0.0, (limit - left) / width))
    part = np.where((right == left) & (left < limit), 1.0, part)
    return float((count * part).sum() / n)


def series(sub: dict, tag: str):
    values = sub["scalars"].get(tag, [])
    return [s for s, _ in values], [v for _, v in values]


def find_hist(sub: dict, layer: str, suffix: str) -> str | None:
    """The histogram tag of `layer`'s weight ending in `suffix` (kernel, bias, weights/...)."""
    for tag in sub["histograms"]:
        parts = tag.split("/")
        if layer in parts and tag.endswith(suffix):
            return tag
    return None


def r(x: float, digits: int = 4):
    if x is None or not np.isfinite(x):
        return None if x is None else str(x)
    return float(f"{x:.{digits}g}")


# Labels from the data -----------------------------------------------------------------------


def loss_evidence(
    train: dict, val: dict, loss_tag="epoch_loss", val_tag="epoch_loss", acc_tag="epoch_accuracy"
) -> dict:
    ts, tl = series(train, loss_tag)
    vs, vl = series(val, val_tag)
    ev = {
        "train_loss_first": r(tl[0]),
        "train_loss_last": r(tl[-1]),
        "train_loss_points": len(tl),
        "val_loss_first": r(vl[0]),
        "val_loss_last": r(vl[-1]),
    }
    finite_v = [(s, v) for s, v in zip(vs, vl) if np.isfinite(v)]
    if finite_v:
        s_min, v_min = min(finite_v, key=lambda p: p[1])
        ev.update(
            val_loss_min=r(v_min),
            val_loss_min_step=int(s_min),
            val_rise_from_min=r((vl[-1] - v_min) / v_min) if np.isfinite(vl[-1]) else None,
        )
        before = [i for i, s in enumerate(ts) if s <= s_min]  # the training value logged at or just before it
        ev["train_loss_at_val_min"] = r(tl[before[-1]]) if before else None
    _, ta = series(train, acc_tag)
    _, va = series(val, acc_tag)
    if ta:
        ev["train_accuracy_last"] = r(ta[-1])
    if va:
        ev["val_accuracy_last"] = r(va[-1])
    bad = [s for s, v in zip(ts, tl) if not np.isfinite(v)]
    ev["first_nonfinite_step"] = int(bad[0]) if bad else None
    return ev


def weight_evidence(train: dict, layers, suffix="kernel/histogram") -> dict:
    out, moved = {}, {}
    for layer in layers:
        tag = find_hist(train, layer, suffix)
        if tag is None:
            continue
        hs = train["histograms"][tag]
        first, last = hist_stats(hs[0][1]), hist_stats(hs[-1][1])
        out[layer] = [r(first["std"]), r(last["std"])]
        # exact equality of the logged buckets: a frozen layer writes the same histogram every epoch
        moved[layer] = (
            bool(not np.array_equal(hs[0][1], hs[-1][1])) if first["finite"] and last["finite"] else None
        )  # None: a non-finite histogram, nothing to compare
    nonfinite = sorted({s for tag, hs in train["histograms"].items() for s, b in hs if not hist_stats(b)["finite"]})
    return {
        "weight_std_first_last": out,
        "weight_histogram_changed": moved,
        "first_nonfinite_histogram_step": int(nonfinite[0]) if nonfinite else None,
    }


def healthy_checks(ev: dict, chance: float) -> list[str]:
    """Reasons a run planned healthy would deserve a warning (empty: it is healthy)."""
    problems = []
    if ev["first_nonfinite_step"] is not None or ev.get("first_nonfinite_histogram_step") is not None:
        problems.append("non-finite values were logged")
    if not ev["train_loss_last"] < 0.7 * ev["train_loss_first"]:
        problems.append(f"training loss fell only from {ev['train_loss_first']} to {ev['train_loss_last']}")
    if (
        ev.get("val_rise_from_min") is not None
        and ev["val_rise_from_min"] > 0.05
        and ev["val_loss_last"] - ev["val_loss_min"] > 0.02
    ):
        problems.append(f"validation loss rose {100 * ev['val_rise_from_min']:.1f}% from its minimum")
    if ev.get("val_accuracy_last") is not None and ev["val_accuracy_last"] < chance + 0.25:
        problems.append(f"validation accuracy only {ev['val_accuracy_last']}")
    return problems


def stuck_at_chance(ev: dict, chance: float = 1 / CLASSES) -> bool:
    """The loss never moved: under 5% from the first to the last epoch, ending within 3% of ln(classes),
    with validation accuracy at chance (a plateau for the whole run, not a fall that then flattens)."""
    drop = (ev["train_loss_first"] - ev["train_loss_last"]) / ev["train_loss_first"]
    ev["train_loss_relative_drop"] = r(drop)
    near = abs(ev["train_loss_last"] - math.log(CLASSES)) / math.log(CLASSES)
    return drop < 0.05 and near < 0.03 and ev["val_accuracy_last"] <= chance + 0.05


def label(run: str, meta: dict, subs: dict) -> dict:
    plan = meta["plan"]
    if meta.get("tf1"):
        train, val = subs["train"], subs["test"]
        ev = loss_evidence(train, val, "loss", "average_loss", "accuracy")
        ev.update(weight_evidence(train, meta["kernels"], "weights/summaries/histogram"))
        ev["bias_histogram_tag"] = find_hist(train, "layer1", "biases/summaries_1/histogram")
        _, acc = series(val, "accuracy")
        ev["val_accuracy_last"] = r(acc[-1])
        for layer in meta["activations"]:
            hs = train["histograms"][f"{layer}/activations"]
            ev.setdefault("activation_share_below_-0.9_last", {})[layer] = r(share_below(hs[-1][1], -0.9))
        ev["sub_runs"] = {
            "train": "train/ (loss every 20 steps, histograms, variable_summaries scalars)",
            "test": "test/ (loss, average_loss, accuracy every 50 steps)",
        }
    else:
        train, val = subs["train"], subs["validation"]
        ev = loss_evidence(train, val)
        ev.update(weight_evidence(train, meta["kernels"]))
        ev["sub_runs"] = {
            "train": f"train/ ({train['files']} event file(s), {len(train['histograms'])} histogram tags)",
            "validation": f"validation/ ({val['files']} event file(s))",
        }

    entry = {"healthy": False, "expected": [], "allowed": [], "evidence": ev, "why": ""}
    if plan == "healthy":
        chance = 1 / 3 if run == "healthy_bn_cnn" else 1 / CLASSES
        problems = healthy_checks(ev, chance)
        entry["healthy"] = not problems
        extra = ""
        if run == "tf1_graph_elu_mlp":
            extra = f"; ELU activations below -0.9 at the end {ev['activation_share_below_-0.9_last']}"
        entry["why"] = (
            f"Training loss {ev['train_loss_first']} -> {ev['train_loss_last']}, validation loss "
            f"{ev['val_loss_first']} -> {ev['val_loss_last']} (minimum {ev['val_loss_min']} at step "
            f"{ev['val_loss_min_step']}), validation accuracy {ev['val_accuracy_last']}, all finite{extra}: healthy."
            if not problems
            else "Planned healthy but: " + "; ".join(problems) + "."
        )
        if run == "healthy_bn_cnn":
            bn = {
                w: find_hist(train, "bn1", f"{w}/histogram")
                for w in ("gamma", "beta", "moving_mean", "moving_variance")
            }
            ev["bn1_histograms"] = bn
            ev["bn1_moving_variance_mean_first_last"] = [
                r(hist_stats(train["histograms"][bn["moving_variance"]][i][1])["mean"]) for i in (0, -1)
            ]
    elif plan == "overfitting":
        rise, at_min = ev["val_rise_from_min"], ev["train_loss_at_val_min"]
        clear = (
            rise is not None
            and rise >= 0.2
            and ev["val_loss_min_step"] <= ev["train_loss_points"] - 5
            and ev["train_loss_last"] < 0.5 * at_min
        )
        entry["expected"] = ["overfitting"] if clear else []
        entry["allowed"] = [] if clear else ["overfitting"]
        entry["why"] = (
            f"Validation loss fell to {ev['val_loss_min']} at epoch {ev['val_loss_min_step']} then rose "
            f"{100 * rise:.0f}% to {ev['val_loss_last']} while the training loss kept falling from {at_min} to "
            f"{ev['train_loss_last']} (train accuracy {ev['train_accuracy_last']}, "
            f"validation {ev['val_accuracy_last']})."
            if clear
            else f"Planned overfitting did not show clearly: validation rise {rise}, min at "
            f"{ev['val_loss_min_step']}, train {at_min} -> {ev['train_loss_last']}."
        )
    elif plan == "elu_floor":
        floor = {}
        for layer in meta["activations"]:
            hs = train["histograms"][f"{layer}/activations"]
            floor[layer] = [r(share_below(hs[0][1], -0.9)), r(share_below(hs[-1][1], -0.9))]
        ev["activation_share_below_-0.9_first_last"] = floor
        ev["activation_tags"] = [f"{layer}/activations" for layer in meta["activations"]]
        piled = [layer for layer, (_, last) in floor.items() if last is not None and last >= 0.7]
        plateau = stuck_at_chance(ev)
        entry["expected"] = (["saturation"] if piled else []) + (["loss_plateau"] if plateau else [])
        if piled:
            entry["expected_layers"] = {"saturation": piled}
        entry["allowed"] = ["dead_units", "not_learning", "still_at_init", "vanishing_gradient"] + (
            [] if plateau else ["loss_plateau"]
        )
        entry["any_of"] = ["saturation", "dead_units"] if piled else []
        entry["why"] = (
            "ELU activations below -0.9 (floor -1) at the last epoch: "
            + ", ".join(f"{k} {100 * v[1]:.1f}%" for k, v in floor.items())
            + f"; training loss {ev['train_loss_first']} -> {ev['train_loss_last']}, validation accuracy "
            f"{ev['val_accuracy_last']}." + ("" if piled else " Planned pile at the floor did not materialise.")
        )
    elif plan == "vanishing":
        rms = {}
        for layer in meta["kernels"]:
            hs = train["histograms"][f"{layer}/kernel_grad"]
            values = []
            for _, b in hs:
                st = hist_stats(b)
                values.append(math.sqrt(st["std"] ** 2 + st["mean"] ** 2))
            rms[layer] = r(float(np.median(values)))
        ratio = rms["hidden1"] / rms["output"]
        ev["kernel_grad_rms_median"] = rms
        ev["grad_rms_ratio_hidden1_to_output"] = r(ratio)
        ev["grad_rms_ratio_hidden1_to_hidden10"] = r(rms["hidden1"] / rms["hidden10"])
        drop = (ev["train_loss_first"] - ev["train_loss_last"]) / ev["train_loss_first"]
        plateau = stuck_at_chance(ev)
        vanishing = ratio < 1e-3
        # kernels whose logged histogram is bit-identical at the first and last epoch: the updates
        # (lr x gradient ~ 1e-8) are below float32 resolution of weights ~0.2, so those layers do not learn
        still = [k for k, moved in ev["weight_histogram_changed"].items() if not moved]
        entry["expected"] = (
            (["vanishing_gradient"] if vanishing else [])
            + (["loss_plateau"] if plateau else [])
            + (["not_learning"] if still else [])
        )
        entry["expected_layers"] = {
            **({"vanishing_gradient": ["hidden1"]} if vanishing else {}),
            **({"not_learning": still} if still else {}),
        }
        entry["allowed"] = (
            ["still_at_init", "saturation"]
            + ([] if plateau else ["loss_plateau"])
            + ([] if still else ["not_learning"])
            + ([] if vanishing else ["vanishing_gradient"])
        )
        entry["why"] = (
            f"Median RMS of hidden1/kernel_grad is {rms['hidden1']:.2g} against {rms['output']:.2g} for output "
            f"(ratio {ratio:.2g}); training loss {ev['train_loss_first']} -> {ev['train_loss_last']} "
            f"({100 * drop:.1f}% drop, ln 4 = 1.386), validation accuracy {ev['val_accuracy_last']}."
            + (f" Kernel histograms of {', '.join(still)} are identical at the first and last epoch." if still else "")
            + ("" if vanishing else " The ratio did not reach 1e-3: the planned vanishing is weaker than planned.")
        )
    elif plan == "high_lr":
        first_bad = ev["first_nonfinite_step"]
        _, tl = series(train, "epoch_loss")
        finite = [v for v in tl if np.isfinite(v)]
        entry["expected"] = (
            ["nan_or_inf"] if first_bad is not None or ev["first_nonfinite_histogram_step"] is not None else []
        )
        entry["allowed"] = [
            "exploding",
            "loss_diverging",
            "loss_oscillating",
            "loss_plateau",
            "dead_units",
            "not_learning",
            "vanishing_gradient",
            "still_at_init",
            "redundant_units",
            "saturation",
        ]
        entry["any_of"] = [
            "loss_diverging",
            "loss_oscillating",
            "exploding",
            "nan_or_inf",
            "dead_units",
            "loss_plateau",
        ]
        ev["finite_epoch_losses"] = [r(v) for v in finite]
        bs, bl = series(train, "batch_loss")
        ev["batch_loss_steps_logged"] = len(bs)
        ev["batch_loss_finite"] = [[int(s), r(v)] for s, v in zip(bs, bl) if np.isfinite(v)]
        bad_batch = [s for s, v in zip(bs, bl) if not np.isfinite(v)]
        ev["first_nonfinite_batch_loss_step"] = int(bad_batch[0]) if bad_batch else None
        if bad_batch:
            entry["expected"] = ["nan_or_inf"]
        rising = [v for _, v in ev["batch_loss_finite"]]
        entry["why"] = (
            f"SGD lr=5: batch_loss (running mean) {' -> '.join(f'{v:.3g}' for v in rising)} then NaN from batch "
            f"{ev['first_nonfinite_batch_loss_step']}; epoch_loss is NaN from epoch {first_bad} (no finite epoch), "
            f"every weight histogram non-finite from epoch {ev['first_nonfinite_histogram_step']}."
            if entry["expected"]
            else f"SGD lr=5 did not produce NaN: epoch_loss {ev['train_loss_first']} -> {ev['train_loss_last']}."
        )
    elif plan == "weight_collapse":
        stds = ev["weight_std_first_last"]
        shrink = {k: r(v[0] / v[1]) for k, v in stds.items() if v[1]}
        ev["weight_std_shrink_factor"] = shrink
        _, vl = series(val, "epoch_loss")
        _, ta = series(train, "epoch_accuracy")
        ev["train_accuracy_max"] = r(max(ta))
        ev["train_accuracy_max_step"] = int(np.argmax(ta))
        collapsed = min(shrink.values()) >= 100
        # Keras adds the penalty to both logged losses (train and validation epoch_loss), so both fall as
        # the weights shrink; what is left at the end is the bare cross-entropy of a constant prediction
        tail = list(vl[len(vl) // 2 :])
        stuck = abs(ev["val_loss_last"] - math.log(CLASSES)) < 0.05 and max(tail) - min(tail) < 0.05
        ev["val_loss_second_half_range"] = r(max(tail) - min(tail))
        plateau = stuck_at_chance(ev)  # the logged loss itself never moved (not the case when the penalty falls)
        entry["expected"] = (["weight_collapse"] if collapsed and stuck else []) + (["loss_plateau"] if plateau else [])
        entry["allowed"] = (
            ["not_learning", "still_at_init", "dead_units", "vanishing_gradient"]
            + ([] if plateau else ["loss_plateau"])
            + ([] if collapsed and stuck else ["weight_collapse"])
        )
        entry["why"] = (
            f"l2(1.0) on every kernel: kernel std shrank {min(shrink.values()):.3g}x to "
            f"{max(shrink.values()):.3g}x between the first and last logged epoch (to about 1e-5); epoch_loss, "
            f"which includes the penalty, fell {ev['train_loss_first']} -> {ev['train_loss_last']} (validation "
            f"{ev['val_loss_first']} -> {ev['val_loss_last']}) and sits at ln 4 = 1.386 over the second half "
            f"(range {ev['val_loss_second_half_range']}); train accuracy peaked at {ev['train_accuracy_max']} "
            f"(epoch {ev['train_accuracy_max_step']}) and ends at {ev['train_accuracy_last']}, validation "
            f"{ev['val_accuracy_last']}: chance."
            + ("" if collapsed and stuck else " Planned collapse did not fully materialise.")
        )
    elif plan == "frozen":
        changed = ev["weight_histogram_changed"]
        frozen_ok = not changed[meta["frozen"]] and all(v for k, v in changed.items() if k != meta["frozen"])
        problems = healthy_checks(ev, 1 / CLASSES)
        entry["expected"] = ["not_learning"] if frozen_ok else []
        entry["expected_layers"] = {"not_learning": [meta["frozen"]]} if frozen_ok else {}
        entry["allowed"] = ["still_at_init"]
        entry["why"] = (
            f"hidden1/kernel histogram identical at every epoch (std {ev['weight_std_first_last']['hidden1'][0]}), "
            f"the other layers moved; loss {ev['train_loss_first']} -> {ev['train_loss_last']}, validation "
            f"accuracy {ev['val_accuracy_last']}" + (f"; also: {'; '.join(problems)}." if problems else ".")
        )
    return entry


def main() -> None:
    shutil.rmtree(LOGS, ignore_errors=True)
    os.makedirs(LOGS)
    started, labels = time.time(), {}
    for run, fn in RUNS:
        t0 = time.time()
        meta = fn(run)
        folder = os.path.join(LOGS, run)
        subs = {
            name: read_subrun(os.path.join(folder, name))
            for name in sorted(os.listdir(folder))
            if os.path.isdir(os.path.join(folder, name))
        }
        labels[run] = label(run, meta, subs)
        labels[run]["evidence"]["seconds"] = round(time.time() - t0, 1)
        print(
            f"{run:<26} {time.time() - t0:5.1f}s  healthy={labels[run]['healthy']!s:<5} "
            f"expected={','.join(labels[run]['expected']) or '-'}  {labels[run]['why']}",
            file=sys.stderr,
        )
    with open(os.path.join(LOGS, "labels.json"), "w") as stream:
        json.dump(labels, stream, indent=1)
    print(f"wrote {len(labels)} keras/tf runs to {LOGS} in {time.time() - started:.0f}s")


if __name__ == "__main__":
    main()
