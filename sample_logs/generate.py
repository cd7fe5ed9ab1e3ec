"""Writes sample_logs/: small, deterministic training logs (numpy only, no TensorFlow).

    python sample_logs/generate.py            # rewrites sample_logs/ in place

Runs:
- question/: the network from the Stack Overflow question that started reportgen ("my layer-1
  weights look flat, what does that mean?"): a 6x10 "catch" game seen as 60 pixels through a
  blurry camera (the ball and the paddle each a Gaussian spot, so a dozen pixels feed every unit
  and layer1's activations are a bell across about -0.8..0.8, as the question's screenshots
  show), three hidden
  tanh layers of 200 units with Glorot/Xavier-uniform weights and no biases, a softmax output
  `Qpred` over 3 actions, trained by policy gradient (REINFORCE) with plain SGD for 800
  episodes. TF1 name-scope tags as the question's code wrote them: layerN/weights,
  layerN/layer (pre-activation), layerN/activations, layer4/weights, Qpred; scalars Q, Y,
  log_likelihood, loss.
- question_fixed/: the same network with bias units, a centred input and Adam: the contrast,
  a run that learns, written as TF2 writes (tensor histograms, tensor scalars).
- tf2_hist/: the question's second example, `train/hist` of a 2x2 uniform random tensor in
  [0, 1000) for steps 0..9, in TF2 tensor-histogram format.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools.eventwriter import EventWriter

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS, COLS, ACTIONS, HIDDEN = 10, 6, 3, 200
BLUR, BRIGHTNESS = 1.2, 1.1  # the camera's Gaussian spot (std in pixels) and its peak value
_ROW, _COL = np.mgrid[0:ROWS, 0:COLS]


def spot(row: int, col: int) -> np.ndarray:
    return BRIGHTNESS * np.exp(-((_ROW - row) ** 2 + (_COL - col) ** 2) / (2 * BLUR**2))
START_TIME = 1_700_000_000.0  # fixed wall clock so that the files are reproducible


def glorot_uniform(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, (n_in, n_out))


def play_episode(rng: np.random.Generator, policy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Catch: a ball falls down a 10x6 screen; the paddle on the bottom row moves left/stay/right.

    Each move is rewarded +1 when it brings the paddle closer to the ball's column (or keeps it
    under the ball) and -1 otherwise: a dense signal, so 800 episodes are enough.
    """
    ball_col, paddle = int(rng.integers(COLS)), int(rng.integers(COLS))
    states, actions, rewards = [], [], []
    for ball_row in range(ROWS - 1):
        state = (spot(ball_row, ball_col) + spot(ROWS - 1, paddle)).reshape(-1)
        probs = policy(state[None, :])[0]
        action = int(rng.choice(ACTIONS, p=probs))
        moved = int(np.clip(paddle + action - 1, 0, COLS - 1))
        closer = abs(moved - ball_col) < abs(paddle - ball_col) or moved == ball_col == paddle
        states.append(state)
        actions.append(action)
        rewards.append(1.0 if closer else -1.0)
        paddle = moved
    return np.array(states), np.array(actions), np.array(rewards)


@dataclass
class Network:
    weights: list[np.ndarray]
    biases: list[np.ndarray] | None
    centre_input: bool = False
    adam: dict = field(default_factory=dict)

    def forward(self, x: np.ndarray):
        if self.centre_input:
            x = x - 1.0 / (ROWS * COLS) * 2  # centred as the question's answer suggests
        pre, act = [], [x]
        for i, w in enumerate(self.weights):
            z = act[-1] @ w + (self.biases[i] if self.biases else 0.0)
            pre.append(z)
            act.append(np.tanh(z) if i < len(self.weights) - 1 else z)
        logits = act[-1]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return pre, act, e / e.sum(axis=1, keepdims=True)

    def policy(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[2]

    def gradients(self, x, y, advantage):
        pre, act, q = self.forward(x)
        n = len(x)
        delta = (q - y) * advantage[:, None] / n  # d loss / d logits for loss = -mean(adv * log q_y)
        grads_w, grads_b = [], []
        for i in reversed(range(len(self.weights))):
            grads_w.insert(0, act[i].T @ delta)
            grads_b.insert(0, delta.sum(axis=0))
            if i:
                delta = (delta @ self.weights[i].T) * (1 - act[i] ** 2)
        return pre, act, q, grads_w, grads_b

    def step(self, grads_w, grads_b, lr: float, use_adam: bool) -> None:
        params = self.weights + (self.biases or [])
        grads = grads_w + (grads_b if self.biases else [])
        for k, (p, g) in enumerate(zip(params, grads)):
            if use_adam:
                m, v, t = self.adam.get(k, (np.zeros_like(p), np.zeros_like(p), 0))
                t += 1
                m = 0.9 * m + 0.1 * g
                v = 0.999 * v + 0.001 * g * g
                self.adam[k] = (m, v, t)
                p -= lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
            else:
                p -= lr * g


def train(logdir: str, seed: int, episodes: int, log_every: int, lr: float, biases: bool, adam: bool,
          tf2: bool = False) -> None:
    rng = np.random.default_rng(seed)
    sizes = [ROWS * COLS, HIDDEN, HIDDEN, HIDDEN, ACTIONS]
    net = Network(
        weights=[glorot_uniform(rng, a, b) for a, b in zip(sizes, sizes[1:])],
        biases=[np.zeros(b) for b in sizes[1:]] if biases else None,
        centre_input=biases,
    )
    suffix = ".v2" if tf2 else ""
    with EventWriter(logdir, filename_suffix=suffix, wall_time=START_TIME, hostname="sample") as writer:
        writer.tf2 = tf2
        # As TF's hparams API writes them: what a report can compare the two runs by.
        writer.add_hparams_records({"optimizer": "adam" if adam else "sgd", "learning_rate": lr, "biases": biases,
                                    "episodes": episodes})
        recent: list[float] = []  # episode rewards since the last log, as RL loggers average them
        for episode in range(episodes + 1):
            states, actions, advantage = play_episode(rng, net.policy)
            recent.append(float(advantage.mean()))
            y = np.eye(ACTIONS)[actions]
            pre, act, q, grads_w, grads_b = net.gradients(states, y, advantage)
            log_likelihood = -(y * np.log(q + 1e-8)).sum(axis=1)
            if episode % log_every == 0:
                log_step(writer, episode, net, pre, act, q, y, log_likelihood, advantage, float(np.mean(recent)))
                recent = []
            net.step(grads_w, grads_b, lr, adam)


def log_step(writer, step, net, pre, act, q, y, log_likelihood, advantage, reward: float) -> None:
    # The contrast run is written as TF2 would (tensor histograms, 30 buckets): smaller files,
    # and the report shows both formats side by side.
    histogram = writer.add_tensor_histogram if writer.tf2 else writer.add_histogram
    scalar = writer.add_tensor_scalar if writer.tf2 else writer.add_scalar
    for i, w in enumerate(net.weights):
        scope = f"layer{i + 1}"
        histogram(f"{scope}/weights", w, step)
        if net.biases:
            histogram(f"{scope}/biases", net.biases[i], step)
        if i < len(net.weights) - 1:
            histogram(f"{scope}/layer", pre[i], step)
            histogram(f"{scope}/activations", act[i + 1], step)
    histogram("Qpred", q, step)
    scalar("Q", float(q.max(axis=1).mean()), step)
    scalar("Y", float(y.argmax(axis=1).mean()), step)
    scalar("log_likelihood", float(log_likelihood.mean()), step)
    scalar("loss", float((log_likelihood * advantage).mean()), step)
    scalar("reward", reward, step)  # mean episode reward since the last log


def tf2_example(logdir: str) -> None:
    """tf.summary.histogram('train/hist', tf.random.uniform((2, 2), 1000), step=i) for i in 0..9."""
    rng = np.random.default_rng(0)
    with EventWriter(logdir, filename_suffix=".v2", wall_time=START_TIME, hostname="sample") as writer:
        for step in range(10):
            writer.add_tensor_histogram("train/hist", rng.uniform(0, 1000, (2, 2)), step)


def main() -> None:
    for name in ("question", "question_fixed", "tf2_hist"):
        shutil.rmtree(os.path.join(HERE, name), ignore_errors=True)
    train(os.path.join(HERE, "question"), seed=1, episodes=800, log_every=20, lr=0.01, biases=False, adam=False)
    train(os.path.join(HERE, "question_fixed"), seed=1, episodes=800, log_every=20, lr=1e-3, biases=True, adam=True,
          tf2=True)
    tf2_example(os.path.join(HERE, "tf2_hist"))


if __name__ == "__main__":
    main()
