"""Writes scalar-only runs shaped like what real frameworks log, with torch's SummaryWriter, for the
diagnosis benchmark, and labels computed from the logged values.

    /work/venv-torch/bin/python benchmarks/diagnosis/generate_scalar_cases.py    # about 10 s
    (needs torch, tensorboard and numpy: see generate_torch_arch.py for the venv)

Runs go to benchmarks/diagnosis/logs/scalars/<run>/ and labels to logs/scalars/labels.json:
{"<run>": {"healthy", "expected", "allowed", "expected_layers", "evidence", "why"}}, with the
run names reportgen gives them (the folder holding the event files, relative to logs/scalars).
Curves are synthesised with numpy (fixed seeds): exponential decays with multiplicative noise,
warm-up and decay schedules, rewards that rise along a logistic, as the named frameworks write
them (the tag names and the step axis are what matters). After writing, each run is read back
with tensorboard's EventAccumulator and its evidence (loss first/last 10% medians, eval minimum
and its step, reward first/last medians, first non-finite step) comes from those events.

Runs:
- hf_trainer_healthy: Hugging Face Trainer (logging_steps 10, eval every 250 of 1500 steps,
  linear decay after 100 warm-up steps): train/loss, train/learning_rate, train/grad_norm,
  train/epoch, eval/loss, eval/accuracy, eval/runtime, eval/samples_per_second,
  eval/steps_per_second, end-of-training single points (train/train_runtime, train/train_loss,
  train/total_flos, ...), the `args` text; plus a second event file in the same folder holding
  only the final trainer.evaluate() (eval/* and train/epoch at step 1500), as Trainer writes it.
- hf_trainer_overfitting: the same for 10 epochs (2000 steps, eval every 100): eval/loss bottoms
  at step ~700 and rises ~2x while train/loss keeps falling; also a final-evaluation second event file.
- keras_overfitting/train, keras_overfitting/validation: Keras TensorBoard callback layout,
  epoch_loss, epoch_accuracy (and epoch_learning_rate in train), 12 epochs (steps 0-11); the
  validation loss bottoms at epoch 4. The fault belongs to the pair: the validation run must
  get `overfitting`; the train run may (labels carry "group": "keras_overfitting").
- sb3_ppo_healthy: Stable-Baselines3 PPO: rollout/ep_rew_mean rising 10x, rollout/ep_len_mean,
  train/value_loss rising, train/policy_gradient_loss signed around 0, train/entropy_loss
  negative, train/loss (rising with value_loss), approx_kl, clip_fraction, explained_variance,
  time/fps...; step = timesteps, train/* from the second dump on.
- rllib_ppo_healthy: RLlib PPO through Tune's TBX logger: ray/tune/episode_reward_mean 75 ->
  2000, ray/tune/info/learner/default_policy/learner_stats/{vf_loss (rising), policy_loss,
  total_loss, cur_lr, entropy, kl, ...}; step = timesteps_total.
- sb3_dqn_healthy: SB3 DQN: train/loss (Huber TD loss, noisy, not falling), rollout/ep_rew_mean
  rising 17x, rollout/exploration_rate 1 -> 0.05.
- detection_healthy/train, detection_healthy/eval: TF Object Detection API layout: Loss/total_loss
  falling 44%, Loss/classification_loss, Loss/localization_loss, Loss/regularization_loss rising
  slowly, learning_rate (warm-up + cosine); eval: DetectionBoxes_Precision/mAP 0.001 -> 0.22,
  DetectionBoxes_Recall/AR@100, eval Loss/*.
- tf1_estimator_healthy: TF1 Estimator: loss 5650 -> 4.4 in 30 points (every 100 steps),
  average_loss, global_step/sec (a trap for 3-point windows).
- cosine_converged_healthy: loss falls fast, then flat near its floor as the cosine lr decays to 0.
- plateau_from_start: loss flat at ln 10 with noise for 3000 steps: loss_plateau.
- diverging_to_high / diverging_to_inf: the loss falls a little, then rises ~7x (to 17, finite)
  / rises ~25x and ends at inf (last 11 points): loss_diverging (and nan_or_inf for the second).
- oscillating_lr_too_high: the loss bounces by +-60% of its level around a flat mean.
- gan_healthy: DCGAN-style Loss/Discriminator and Loss/Generator trading off (G rises while D falls).
- pg_surrogate_healthy: REINFORCE: `loss` is the signed policy-gradient surrogate (around 0),
  `reward` rises 8x.
- lightning_healthy/version_0: PyTorch Lightning TensorBoardLogger layout: train_loss_step,
  train_loss_epoch, val_loss, val_acc, epoch, hp_metric (-1 at step 0), the hparams plugin
  summaries, and hparams.yaml next to the event file.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.summary import hparams

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, "logs", "scalars")


# Curve helpers -----------------------------------------------------------------------------


def smooth_noise(rng: np.random.Generator, n: int, sigma: float, rho: float = 0.6) -> np.ndarray:
    """AR(1) noise with stationary std sigma."""
    out = np.zeros(n)
    eps = rng.normal(0, sigma * math.sqrt(1 - rho * rho), n)
    out[0] = rng.normal(0, sigma)
    for i in range(1, n):
        out[i] = rho * out[i - 1] + eps[i]
    return out


def decay(t: np.ndarray, start: float, floor: float, tau: float) -> np.ndarray:
    return floor + (start - floor) * np.exp(-t / tau)


def logistic(t: np.ndarray, low: float, high: float, mid: float, width: float) -> np.ndarray:
    return low + (high - low) / (1 + np.exp(-(t - mid) / width))


def write(writer: SummaryWriter, tag: str, steps, values) -> None:
    for s, v in zip(steps, values):
        writer.add_scalar(tag, float(v), int(s))


# Runs ----------------------------------------------------------------------------------------


def hf_trainer(name: str, seed: int, overfit: bool) -> None:
    rng = np.random.default_rng(seed)
    folder = os.path.join(LOGS, name)
    if overfit:
        max_steps, steps_per_epoch, eval_every, warmup, peak = 2000, 200, 100, 0, 3e-5
    else:
        max_steps, steps_per_epoch, eval_every, warmup, peak = 1500, 500, 250, 100, 5e-5
    w = SummaryWriter(folder)
    w.add_text("args", json.dumps({"output_dir": name, "learning_rate": peak, "num_train_epochs":
                                   max_steps // steps_per_epoch, "logging_steps": 10, "eval_steps": eval_every,
                                   "warmup_steps": warmup, "per_device_train_batch_size": 16}, indent=2), 0)
    w.add_text("model_config", json.dumps({"model_type": "distilbert", "num_labels": 4}), 0)
    steps = np.arange(10, max_steps + 1, 10)
    t = steps.astype(float)
    lr = np.where(t < warmup, peak * t / max(warmup, 1), peak * (max_steps - t) / (max_steps - warmup))
    if overfit:
        loss = decay(t, 1.35, 0.004, 330) * np.exp(smooth_noise(rng, len(t), 0.18, 0.3))
    else:
        loss = decay(t, 1.38, 0.22, 280) * np.exp(smooth_noise(rng, len(t), 0.12, 0.3))
    grad_norm = (2.0 + 6 * np.exp(-t / 150)) * np.exp(rng.normal(0, 0.35, len(t)))
    epoch = t / steps_per_epoch
    for i, s in enumerate(steps):
        w.add_scalar("train/loss", round(float(loss[i]), 4), int(s))
        w.add_scalar("train/grad_norm", float(grad_norm[i]), int(s))
        w.add_scalar("train/learning_rate", float(lr[i]), int(s))
        w.add_scalar("train/epoch", round(float(epoch[i]), 4), int(s))
    eval_steps = np.arange(eval_every, max_steps + 1, eval_every)
    te = eval_steps.astype(float)
    if overfit:
        eval_loss = 0.46 + 0.85 * np.exp(-te / 160) + 0.00045 * np.maximum(te - 700, 0)
        eval_loss *= np.exp(rng.normal(0, 0.02, len(te)))
        eval_acc = 0.86 - 0.5 * np.exp(-te / 160) - 0.000012 * np.maximum(te - 700, 0) + rng.normal(0, 0.004, len(te))
    else:
        eval_loss = decay(te, 1.3, 0.31, 300) * np.exp(rng.normal(0, 0.015, len(te)))
        eval_acc = 0.91 - 0.55 * np.exp(-te / 300) + rng.normal(0, 0.004, len(te))
    runtime = 12.0 + rng.normal(0, 0.4, len(te))
    for i, s in enumerate(eval_steps):
        w.add_scalar("eval/loss", float(eval_loss[i]), int(s))
        w.add_scalar("eval/accuracy", float(eval_acc[i]), int(s))
        w.add_scalar("eval/runtime", float(runtime[i]), int(s))
        w.add_scalar("eval/samples_per_second", 2000 / float(runtime[i]), int(s))
        w.add_scalar("eval/steps_per_second", 125 / float(runtime[i]), int(s))
        w.add_scalar("train/epoch", round(float(s / steps_per_epoch), 4), int(s))
    # on_train_end: the summary line of trainer.train()
    for tag, value in (("train/train_runtime", 815.3), ("train/train_samples_per_second", 29.4),
                       ("train/train_steps_per_second", 1.84), ("train/total_flos", 3.1e15),
                       ("train/train_loss", float(loss.mean())), ("train/epoch", max_steps / steps_per_epoch)):
        w.add_scalar(tag, value, max_steps)
    w.close()
    time.sleep(1.1)  # the second file's name carries the time: keep the two apart
    # trainer.evaluate() after training: the callback opens a new writer in the same folder
    w = SummaryWriter(folder)
    final_runtime = 11.6
    w.add_scalar("eval/loss", float(eval_loss[-1]), max_steps)
    w.add_scalar("eval/accuracy", float(eval_acc[-1]), max_steps)
    w.add_scalar("eval/runtime", final_runtime, max_steps)
    w.add_scalar("eval/samples_per_second", 2000 / final_runtime, max_steps)
    w.add_scalar("eval/steps_per_second", 125 / final_runtime, max_steps)
    w.add_scalar("train/epoch", max_steps / steps_per_epoch, max_steps)
    w.close()


def keras_overfitting(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    e = np.arange(12, dtype=float)
    train_loss = decay(e, 1.25, 0.03, 3.2) * np.exp(rng.normal(0, 0.02, 12))
    train_acc = 1 - decay(e, 0.45, 0.01, 3.0) + rng.normal(0, 0.003, 12)
    val_loss = np.array([1.02, 0.79, 0.66, 0.59, 0.565, 0.58, 0.62, 0.67, 0.73, 0.79, 0.86, 0.93])
    val_loss *= np.exp(rng.normal(0, 0.005, 12))
    val_acc = np.array([0.64, 0.72, 0.77, 0.8, 0.815, 0.812, 0.808, 0.806, 0.8, 0.797, 0.795, 0.79])
    w = SummaryWriter(os.path.join(LOGS, name, "train"))
    write(w, "epoch_loss", e, train_loss)
    write(w, "epoch_accuracy", e, train_acc)
    write(w, "epoch_learning_rate", e, [1e-3] * 12)
    w.close()
    w = SummaryWriter(os.path.join(LOGS, name, "validation"))
    write(w, "epoch_loss", e, val_loss)
    write(w, "epoch_accuracy", e, val_acc)
    write(w, "evaluation_loss_vs_iterations", (e + 1) * 250, val_loss)
    write(w, "evaluation_accuracy_vs_iterations", (e + 1) * 250, val_acc)
    w.close()


def sb3_ppo(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 120
    it = np.arange(1, n + 1, dtype=float)
    steps = (it * 2048).astype(int)
    reward = logistic(it, 16, 215, 55, 14) * np.exp(smooth_noise(rng, n, 0.06, 0.7))
    w = SummaryWriter(os.path.join(LOGS, name))
    write(w, "rollout/ep_rew_mean", steps, reward)
    write(w, "rollout/ep_len_mean", steps, reward * 1.0)
    write(w, "time/fps", steps, 1450 + rng.normal(0, 40, n))
    write(w, "time/iterations", steps, it)
    write(w, "time/time_elapsed", steps, np.cumsum(2048 / (1450 + rng.normal(0, 40, n))).astype(int))
    write(w, "time/total_timesteps", steps, steps)
    s, i2 = steps[1:], it[1:]  # train/* is recorded after the first rollout, dumped from the second
    m = len(s)
    value_loss = (3 + 0.32 * logistic(i2, 16, 215, 58, 14)) * np.exp(rng.normal(0, 0.25, m))
    pg = rng.normal(-0.008, 0.009, m)
    entropy = -(0.69 - 0.22 * (i2 / n) + rng.normal(0, 0.01, m))
    write(w, "train/value_loss", s, value_loss)
    write(w, "train/policy_gradient_loss", s, pg)
    write(w, "train/entropy_loss", s, entropy)
    write(w, "train/loss", s, pg + 0.0 * entropy + 0.5 * value_loss * np.exp(rng.normal(0, 0.1, m)))
    write(w, "train/approx_kl", s, np.abs(rng.normal(0.008, 0.003, m)))
    write(w, "train/clip_fraction", s, np.clip(rng.normal(0.08, 0.03, m), 0, 1))
    write(w, "train/clip_range", s, [0.2] * m)
    write(w, "train/explained_variance", s, np.clip(1 - 0.9 * np.exp(-i2 / 20) + rng.normal(0, 0.04, m), -1, 1))
    write(w, "train/learning_rate", s, [3e-4] * m)
    write(w, "train/n_updates", s, i2 * 10)
    w.close()


def rllib_ppo(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 250
    it = np.arange(1, n + 1, dtype=float)
    steps = (it * 4000).astype(int)
    reward = logistic(it, 60, 2080, 125, 25) * np.exp(smooth_noise(rng, n, 0.05, 0.8))
    reward[0] = 75.0
    p = "ray/tune/info/learner/default_policy/learner_stats/"
    vf = np.minimum(10, (1.5 + 7 * it / n) * np.exp(rng.normal(0, 0.15, n)))
    pol = rng.normal(-0.012, 0.01, n)
    entropy = 8.5 - 3.5 * it / n + rng.normal(0, 0.05, n)
    kl = np.abs(rng.normal(0.012, 0.004, n))
    w = SummaryWriter(os.path.join(LOGS, name))
    write(w, "ray/tune/episode_reward_mean", steps, reward)
    write(w, "ray/tune/episode_reward_max", steps, reward * 1.25 + 30)
    write(w, "ray/tune/episode_reward_min", steps, reward * 0.6 - 60)
    write(w, "ray/tune/episode_len_mean", steps, [1000] * n)
    write(w, "ray/tune/timesteps_total", steps, steps)
    write(w, "ray/tune/time_this_iter_s", steps, 21 + rng.normal(0, 0.8, n))
    write(w, p + "vf_loss", steps, vf)
    write(w, p + "policy_loss", steps, pol)
    write(w, p + "total_loss", steps, pol + 1.0 * vf + 0.2 * kl)
    write(w, p + "cur_lr", steps, [5e-5] * n)
    write(w, p + "entropy", steps, entropy)
    write(w, p + "kl", steps, kl)
    write(w, p + "vf_explained_var", steps, np.clip(0.2 + 0.6 * it / n + rng.normal(0, 0.05, n), -1, 1))
    write(w, p + "cur_kl_coeff", steps, [0.2] * n)
    w.close()


def sb3_dqn(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 200
    steps = np.linspace(1200, 100000, n).astype(int)
    frac = steps / 100000
    reward = logistic(frac, 9, 170, 0.5, 0.08) * np.exp(smooth_noise(rng, n, 0.08, 0.6))
    reward[:5] = 9.3 + rng.normal(0, 0.3, 5)
    td = (0.4 + 1.2 * frac) * np.exp(rng.normal(0, 0.55, n))
    td[steps < 10000] = np.nan  # learning_starts: no train/ record before
    w = SummaryWriter(os.path.join(LOGS, name))
    write(w, "rollout/ep_rew_mean", steps, reward)
    write(w, "rollout/ep_len_mean", steps, reward)
    write(w, "rollout/exploration_rate", steps, np.maximum(0.05, 1 - 0.95 * frac / 0.1))
    write(w, "time/fps", steps, 900 + rng.normal(0, 30, n))
    write(w, "time/episodes", steps, np.cumsum(np.full(n, 4)))
    keep = ~np.isnan(td)
    write(w, "train/loss", steps[keep], td[keep])
    write(w, "train/learning_rate", steps[keep], [1e-4] * int(keep.sum()))
    write(w, "train/n_updates", steps[keep], (steps[keep] - 10000) // 4)
    w.close()


def detection(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    steps = np.arange(100, 25001, 100)
    t = steps.astype(float)
    n = len(t)
    cls = decay(t, 0.62, 0.27, 4000) * np.exp(smooth_noise(rng, n, 0.08, 0.5))
    loc = decay(t, 0.52, 0.20, 5000) * np.exp(smooth_noise(rng, n, 0.09, 0.5))
    reg = 0.148 + 0.012 * t / t[-1] + rng.normal(0, 0.0004, n)
    lr = np.where(t < 2000, 0.0133 + (0.04 - 0.0133) * t / 2000,
                  0.04 * 0.5 * (1 + np.cos(math.pi * (t - 2000) / (25000 - 2000))))
    w = SummaryWriter(os.path.join(LOGS, name, "train"))
    write(w, "Loss/classification_loss", steps, cls)
    write(w, "Loss/localization_loss", steps, loc)
    write(w, "Loss/regularization_loss", steps, reg)
    write(w, "Loss/total_loss", steps, cls + loc + reg)
    write(w, "learning_rate", steps, lr)
    write(w, "steps_per_sec", steps, 4.1 + rng.normal(0, 0.15, n))
    w.close()
    es = np.arange(1000, 25001, 1000)
    te = es.astype(float)
    m = len(te)
    mAP = np.maximum(0.001, logistic(te, -0.02, 0.218, 7000, 2500) + rng.normal(0, 0.004, m))
    mAP[0] = 0.001
    w = SummaryWriter(os.path.join(LOGS, name, "eval"))
    write(w, "DetectionBoxes_Precision/mAP", es, mAP)
    write(w, "DetectionBoxes_Precision/mAP@.50IOU", es, np.minimum(1, mAP * 1.75))
    write(w, "DetectionBoxes_Precision/mAP@.75IOU", es, mAP * 0.95)
    write(w, "DetectionBoxes_Recall/AR@100", es, np.minimum(1, mAP * 1.6 + 0.02))
    ecls = decay(te, 0.66, 0.34, 4000) * np.exp(rng.normal(0, 0.02, m))
    eloc = decay(te, 0.55, 0.27, 5000) * np.exp(rng.normal(0, 0.02, m))
    ereg = 0.148 + 0.012 * te / te[-1]
    write(w, "Loss/classification_loss", es, ecls)
    write(w, "Loss/localization_loss", es, eloc)
    write(w, "Loss/regularization_loss", es, ereg)
    write(w, "Loss/total_loss", es, ecls + eloc + ereg)
    w.close()


def tf1_estimator(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    steps = np.r_[1, np.arange(100, 3000, 100)]
    t = steps.astype(float)
    loss = (4.2 + 5646 * np.exp(-t / 55)) * np.exp(rng.normal(0, 0.06, len(t)))
    loss[0] = 5650.0
    w = SummaryWriter(os.path.join(LOGS, name))
    write(w, "loss", steps, loss)
    write(w, "average_loss", steps, loss / 128)
    write(w, "global_step/sec", steps[1:], 310 + rng.normal(0, 12, len(t) - 1))
    w.close()


def cosine_converged(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    steps = np.arange(0, 5001, 10)
    t = steps.astype(float)
    lr = np.where(t < 200, 1e-3 * t / 200, 1e-3 * 0.5 * (1 + np.cos(math.pi * (t - 200) / 4800)))
    noise_scale = 0.02 + 0.1 * lr / 1e-3
    loss = decay(t, 2.3, 0.34, 450) * np.exp(rng.normal(0, 1, len(t)) * noise_scale)
    w = SummaryWriter(os.path.join(LOGS, name))
    write(w, "train/loss", steps, loss)
    write(w, "train/lr", steps, lr)
    w.close()


def plateau(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    steps = np.arange(0, 3001, 10)
    n = len(steps)
    w = SummaryWriter(os.path.join(LOGS, name))
    write(w, "train/loss", steps, math.log(10) + smooth_noise(rng, n, 0.012, 0.3))
    write(w, "train/accuracy", steps, np.clip(0.1 + rng.normal(0, 0.03, n), 0, 1))
    write(w, "train/lr", steps, [1e-6] * n)
    w.close()


def diverging(name: str, seed: int, to_inf: bool) -> None:
    rng = np.random.default_rng(seed)
    steps = np.arange(0, 2001, 10)
    t = steps.astype(float)
    n = len(t)
    base = 2.3 - 0.7 * (1 - np.exp(-t / 80))
    grow = np.exp(np.maximum(t - 500, 0) / (640 if not to_inf else 430))
    loss = base * grow * np.exp(smooth_noise(rng, n, 0.06, 0.5))
    if to_inf:
        loss[steps >= 1900] = np.inf
    w = SummaryWriter(os.path.join(LOGS, name))
    write(w, "train/loss", steps, loss)
    write(w, "train/lr", steps, [0.05] * n)
    w.close()


def oscillating(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    steps = np.arange(0, 2001, 10)
    n = len(steps)
    s = np.zeros(n)
    s[0] = 0.5
    for i in range(1, n):  # bouncing: strongly anti-correlated from one logged step to the next
        s[i] = np.clip(-0.85 * s[i - 1] + rng.normal(0, 0.35), -1, 1)
    loss = 1.1 * (1 + 0.6 * s)
    w = SummaryWriter(os.path.join(LOGS, name))
    write(w, "train/loss", steps, loss)
    write(w, "train/lr", steps, [0.5] * n)
    w.close()


def gan(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    steps = np.arange(0, 6001, 20)
    t = steps.astype(float)
    n = len(t)
    swing = smooth_noise(rng, n, 0.15, 0.8)  # the trade-off: when D wins, G loses
    d = (1.386 - 0.72 * (1 - np.exp(-t / 600))) * np.exp(-swing + rng.normal(0, 0.12, n))
    g = (0.69 + 2.0 * (1 - np.exp(-t / 700))) * np.exp(swing + rng.normal(0, 0.12, n))
    w = SummaryWriter(os.path.join(LOGS, name))
    write(w, "Loss/Discriminator", steps, d)
    write(w, "Loss/Generator", steps, g)
    write(w, "D(x)", steps, np.clip(0.5 + 0.25 * (1 - np.exp(-t / 600)) + rng.normal(0, 0.04, n), 0, 1))
    write(w, "D(G(z))", steps, np.clip(0.5 - 0.32 * (1 - np.exp(-t / 700)) + rng.normal(0, 0.04, n), 0, 1))
    w.close()


def pg_surrogate(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    episodes = np.arange(0, 1000, 5)
    t = episodes.astype(float)
    n = len(t)
    reward = logistic(t, 20, 190, 450, 90) * np.exp(smooth_noise(rng, n, 0.08, 0.5))
    loss = rng.normal(0, 1, n) * (0.8 + 2.2 * t / t[-1]) - 0.3  # -log pi * advantage (normalised): signed
    w = SummaryWriter(os.path.join(LOGS, name))
    write(w, "loss", episodes, loss)
    write(w, "reward", episodes, reward)
    w.close()


def lightning(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    folder = os.path.join(LOGS, name, "version_0")
    params = {"lr": 1e-3, "batch_size": 64, "hidden_dim": 128, "max_epochs": 10}
    w = SummaryWriter(folder)
    exp, ssi, sei = hparams(params, {"hp_metric": -1})  # TensorBoardLogger.log_hyperparams
    for summary in (exp, ssi, sei):
        w.file_writer.add_summary(summary)
    w.add_scalar("hp_metric", -1, 0)
    per_epoch = 100
    gsteps = np.arange(per_epoch * 10)
    loss_all = decay(gsteps.astype(float), 1.6, 0.12, 220) * np.exp(rng.normal(0, 0.15, len(gsteps)))
    for s in range(49, per_epoch * 10, 50):  # log_every_n_steps=50
        w.add_scalar("train_loss_step", float(loss_all[s]), s)
        w.add_scalar("epoch", s // per_epoch, s)
    for ep in range(10):
        s = (ep + 1) * per_epoch - 1
        val_loss = (0.21 + (1.4 - 0.21) * math.exp(-(ep + 1) / 2.2)) * math.exp(rng.normal(0, 0.015))
        w.add_scalar("val_loss", val_loss, s)
        w.add_scalar("val_acc", float(0.93 - 0.5 * math.exp(-(ep + 1) / 2.0) + rng.normal(0, 0.004)), s)
        w.add_scalar("epoch", ep, s)
        w.add_scalar("train_loss_epoch", float(loss_all[ep * per_epoch:(ep + 1) * per_epoch].mean()), s)
        w.add_scalar("epoch", ep, s)
    w.close()
    with open(os.path.join(folder, "hparams.yaml"), "w") as stream:
        stream.write("".join(f"{k}: {v}\n" for k, v in params.items()))


# Evidence from the logged events -------------------------------------------------------------


class Events:
    def __init__(self, path: str):
        ea = EventAccumulator(path, size_guidance={"scalars": 0, "tensors": 0})
        ea.Reload()
        self.files = sorted(f for f in os.listdir(path) if "tfevents" in f)
        self.scalars = {}
        for tag in ea.Tags()["scalars"]:
            items = ea.Scalars(tag)
            self.scalars[tag] = (np.array([e.step for e in items]), np.array([e.value for e in items]))

    def v(self, tag):
        return self.scalars[tag][1]

    def head_tail(self, tag: str) -> tuple[float, float]:
        v = self.v(tag)
        k = max(1, round(len(v) * 0.1))
        return float(np.median(v[:k])), float(np.median(v[-k:]))

    def minimum(self, tag: str) -> tuple[float, int]:
        steps, v = self.scalars[tag]
        i = int(np.nanargmin(np.where(np.isfinite(v), v, np.nan)))
        return float(v[i]), int(steps[i])

    def first_nonfinite(self):
        found = [(int(s[~np.isfinite(v)][0]), t) for t, (s, v) in self.scalars.items() if (~np.isfinite(v)).any()]
        return min(found) if found else None


def r(x: float, digits: int = 4):
    x = float(x)
    return float(f"{x:.{digits}g}") if math.isfinite(x) else str(x)


def label(healthy: bool, expected=(), allowed=(), evidence=None, why="", **extra) -> dict:
    return {"healthy": healthy, "expected": list(expected), "allowed": list(allowed), "expected_layers": {},
            "evidence": evidence or {}, "why": why, **extra}


def ht(ev: Events, tag: str, e: dict, key: str) -> tuple[float, float]:
    a, b = ev.head_tail(tag)
    e[f"{key}_first10_median"], e[f"{key}_last10_median"] = r(a), r(b)
    e[f"{key}_points"] = len(ev.v(tag))
    return a, b


def label_hf(ev: Events, run: str) -> dict:
    e = {"event_files": len(ev.files)}
    a, b = ht(ev, "train/loss", e, "train_loss")
    m, ms = ev.minimum("eval/loss")
    steps, ev_loss = ev.scalars["eval/loss"]
    e.update(eval_loss_first=r(ev_loss[0]), eval_loss_min=r(m), eval_loss_min_step=ms, eval_loss_last=r(ev_loss[-1]),
             eval_points=len(ev_loss), eval_accuracy_max=r(ev.v("eval/accuracy").max()),
             eval_accuracy_last=r(ev.v("eval/accuracy")[-1]), lr_first=r(ev.v("train/learning_rate")[0]),
             lr_max=r(ev.v("train/learning_rate").max()), lr_last=r(ev.v("train/learning_rate")[-1]))
    train_steps, train_loss = ev.scalars["train/loss"]
    at_min = float(np.median(train_loss[np.abs(train_steps - ms) <= 50]))
    e["train_loss_near_eval_min"] = r(at_min)
    rise = ev_loss[-1] / m - 1
    e["eval_loss_rise_from_min"] = r(rise, 3)
    head = (f"train/loss {a:.3g} -> {b:.3g} (first/last 10% medians of {e['train_loss_points']}); eval/loss "
            f"{ev_loss[0]:.3g} at step {steps[0]}, min {m:.3g} at step {ms}, last {ev_loss[-1]:.3g} "
            f"({rise:+.0%} from the min); eval/accuracy max {e['eval_accuracy_max']:.3f}, "
            f"last {e['eval_accuracy_last']:.3f}; "
            f"{len(ev.files)} event files (the second holds the final evaluate() only)")
    if rise > 0.2 and b < at_min:
        return label(False, ["overfitting"], ["loss_diverging"], e,
                     head + f"; train/loss near the eval minimum {at_min:.3g} keeps falling: overfitting")
    return label(True, [], [], e, head + "; learning_rate warm-up then linear decay to 0")


def label_keras(ev_train: Events, ev_val: Events) -> tuple[dict, dict]:
    e = {}
    tl, vl = ev_train.v("epoch_loss"), ev_val.v("epoch_loss")
    m, ms = ev_val.minimum("epoch_loss")
    e.update(train_loss_first=r(tl[0]), train_loss_last=r(tl[-1]), val_loss_first=r(vl[0]), val_loss_min=r(m),
             val_loss_min_epoch=ms, val_loss_last=r(vl[-1]), val_loss_rise_from_min=r(vl[-1] / m - 1, 3),
             val_accuracy_max=r(ev_val.v("epoch_accuracy").max()), val_accuracy_last=r(ev_val.v("epoch_accuracy")[-1]),
             train_accuracy_last=r(ev_train.v("epoch_accuracy")[-1]), epochs=len(vl))
    why = (f"validation epoch_loss {vl[0]:.3g} -> min {m:.3g} at epoch {ms} (0-based step) -> {vl[-1]:.3g} at epoch "
           f"{len(vl) - 1} (+{vl[-1] / m - 1:.0%}), while train epoch_loss falls {tl[0]:.3g} -> {tl[-1]:.3g} "
           f"(train accuracy {tl.size and ev_train.v('epoch_accuracy')[-1]:.3f}, validation accuracy max "
           f"{e['val_accuracy_max']:.3f}, last {e['val_accuracy_last']:.3f})")
    group = {"group": "keras_overfitting"}
    return (label(False, [], ["overfitting"], e, "train half of the pair: " + why + "; the fault is in the pair, "
                  "overfitting may be reported on this run too", **group),
            label(False, ["overfitting"], ["loss_diverging"], e, "validation half of the pair: " + why, **group))


def label_rl(ev: Events, reward_tag: str, extra_tags: list[str], note: str) -> dict:
    e = {}
    a, b = ht(ev, reward_tag, e, "reward")
    e["reward_growth"] = r(b / a, 3)
    rv = ev.v(reward_tag)
    e["reward_first_point"], e["reward_last_point"] = r(rv[0]), r(rv[-1])
    parts = [f"{reward_tag} {rv[0]:.3g} -> {rv[-1]:.3g} (first/last point; first/last 10% medians {a:.3g} -> {b:.3g}, "
             f"x{b / a:.3g})"]
    for tag in extra_tags:
        x, y = ht(ev, tag, e, tag.rsplit("/", 1)[-1])
        v = ev.v(tag)
        e[tag.rsplit("/", 1)[-1] + "_share_negative"] = r(float((v < 0).mean()), 3)
        negative = f" ({(v < 0).mean():.0%} of points negative)" if (v < 0).any() else ""
        parts.append(f"{tag} {x:.3g} -> {y:.3g}{negative}")
    return label(True, [], [], e, "; ".join(parts) + "; " + note)


def label_simple_healthy(ev: Events, tag: str, note: str) -> dict:
    e = {}
    a, b = ht(ev, tag, e, "loss")
    e["loss_drop"] = r(1 - b / a, 3)
    return label(True, [], [], e, f"{tag} {a:.4g} -> {b:.4g} (first/last 10% medians of {e['loss_points']}, "
                                  f"-{1 - b / a:.0%}); {note}")


def label_detection_train(ev: Events) -> dict:
    e = {}
    a, b = ht(ev, "Loss/total_loss", e, "total_loss")
    c0, c1 = ht(ev, "Loss/classification_loss", e, "classification_loss")
    l0, l1 = ht(ev, "Loss/localization_loss", e, "localization_loss")
    g0, g1 = ht(ev, "Loss/regularization_loss", e, "regularization_loss")
    e["total_loss_drop"] = r(1 - b / a, 3)
    return label(True, [], [], e, f"Loss/total_loss {a:.3g} -> {b:.3g} (-{1 - b / a:.0%}), classification {c0:.3g} -> "
                                  f"{c1:.3g}, localization {l0:.3g} -> {l1:.3g}; Loss/regularization_loss rises slowly "
                                  f"{g0:.4g} -> {g1:.4g} (+{g1 / g0 - 1:.0%}), as L2 terms do when weights grow: fine")


def label_detection_eval(ev: Events) -> dict:
    e = {}
    v = ev.v("DetectionBoxes_Precision/mAP")
    a, b = ht(ev, "Loss/total_loss", e, "eval_total_loss")
    e.update(mAP_first=r(v[0]), mAP_last=r(v[-1]), mAP_max=r(v.max()))
    return label(True, [], [], e, f"DetectionBoxes_Precision/mAP {v[0]:.3g} -> {v[-1]:.3g} over {len(v)} evaluations; "
                                  f"eval Loss/total_loss {a:.3g} -> {b:.3g}")


def label_tf1(ev: Events) -> dict:
    e = {}
    a, b = ht(ev, "loss", e, "loss")
    v = ev.v("loss")
    e.update(loss_first=r(v[0]), loss_last=r(v[-1]), loss_min=r(v.min()), last_half_max_over_min=r(
        v[len(v) // 2:].max() / v[len(v) // 2:].min(), 3))
    return label(True, [], [], e, f"loss {v[0]:.4g} -> {v[-1]:.3g} in {len(v)} points (every 100 steps), first/last "
                                  f"10% medians {a:.4g} -> {b:.3g}; the second half is flat near the floor (max/min "
                                  f"{e['last_half_max_over_min']:.3g}), converged")


def label_plateau(ev: Events) -> dict:
    e = {}
    a, b = ht(ev, "train/loss", e, "loss")
    v = ev.v("train/loss")
    e.update(ln10=r(math.log(10)), loss_std=r(v.std(), 3), accuracy_mean=r(ev.v("train/accuracy").mean(), 3))
    return label(False, ["loss_plateau"], ["loss_oscillating"], e,
                 f"train/loss {a:.4g} -> {b:.4g} (ln 10 = {math.log(10):.4g}), std {v.std():.3g} over {len(v)} points, "
                 f"accuracy {e['accuracy_mean']:.2f} (chance 0.10): flat from the start")


def label_diverging(ev: Events) -> dict:
    e = {}
    a, b = ht(ev, "train/loss", e, "loss")
    _steps, v = ev.scalars["train/loss"]
    m, ms = ev.minimum("train/loss")
    finite = v[np.isfinite(v)]
    bad = ev.first_nonfinite()
    e.update(loss_min=r(m), loss_min_step=ms, loss_max_finite=r(finite.max()), loss_last=r(v[-1]),
             first_nonfinite=list(bad) if bad else None, last_over_first=r(b / a, 3))
    expected = ["loss_diverging"] + (["nan_or_inf"] if bad else [])
    return label(False, expected, ["loss_oscillating", "exploding"], e,
                 f"train/loss {a:.3g} -> {b:.3g} (first/last 10% medians, x{b / a:.3g}), min {m:.3g} at step {ms}, "
                 f"max finite {finite.max():.3g}, last {v[-1]:.3g}"
                 + (f"; non-finite from step {bad[0]}" if bad else ""))


def label_oscillating(ev: Events) -> dict:
    e = {}
    _a, _b = ht(ev, "train/loss", e, "loss")
    v = ev.v("train/loss")
    d = np.diff(v)
    e.update(loss_mean=r(v.mean()), rel_amplitude=r((np.percentile(v, 95) - np.percentile(v, 5)) / 2 / v.mean(), 3),
             direction_changes_share=r(float((np.sign(d[1:]) != np.sign(d[:-1])).mean()), 3),
             first_half_mean=r(v[:len(v) // 2].mean()), second_half_mean=r(v[len(v) // 2:].mean()))
    return label(False, ["loss_oscillating"], ["loss_plateau"], e,
                 f"train/loss bounces around a flat mean {v.mean():.3g} (halves {e['first_half_mean']:.3g} / "
                 f"{e['second_half_mean']:.3g}) by +-{e['rel_amplitude']:.0%} (5-95% range / 2 / mean), direction "
                 f"changes at {e['direction_changes_share']:.0%} of points; lr 0.5")


def label_gan(ev: Events) -> dict:
    e = {}
    d0, d1 = ht(ev, "Loss/Discriminator", e, "d_loss")
    g0, g1 = ht(ev, "Loss/Generator", e, "g_loss")
    corr = float(np.corrcoef(np.log(ev.v("Loss/Discriminator")), np.log(ev.v("Loss/Generator")))[0, 1])
    e["log_d_g_correlation"] = r(corr, 3)
    return label(True, [], [], e, f"Loss/Discriminator {d0:.3g} -> {d1:.3g}, Loss/Generator {g0:.3g} -> {g1:.3g} "
                                  f"(rising: the adversarial trade-off), log-losses correlated {corr:.2f}; no collapse "
                                  f"or divergence")


def label_pg(ev: Events) -> dict:
    e = {}
    r0, r1 = ht(ev, "reward", e, "reward")
    v = ev.v("loss")
    e.update(loss_share_negative=r(float((v < 0).mean()), 3), loss_mean=r(v.mean(), 3),
             loss_std_first_half=r(v[:len(v) // 2].std(), 3), loss_std_second_half=r(v[len(v) // 2:].std(), 3))
    return label(True, [], [], e, f"reward {r0:.3g} -> {r1:.3g} (x{r1 / r0:.3g}); `loss` is the signed REINFORCE "
                                  f"surrogate (mean {v.mean():.2f}, {(v < 0).mean():.0%} negative, std "
                                  f"{e['loss_std_first_half']:.2f}"
                                  f" -> {e['loss_std_second_half']:.2f}): not a quantity that must fall")


def label_lightning(ev: Events) -> dict:
    e = {}
    a, b = ht(ev, "train_loss_step", e, "train_loss_step")
    tl = ev.v("train_loss_epoch")
    vl = ev.v("val_loss")
    m, ms = ev.minimum("val_loss")
    e.update(train_loss_epoch_first=r(tl[0]), train_loss_epoch_last=r(tl[-1]), val_loss_first=r(vl[0]),
             val_loss_min=r(m), val_loss_min_step=ms, val_loss_last=r(vl[-1]), val_acc_last=r(ev.v("val_acc")[-1]),
             hp_metric=[r(x) for x in ev.v("hp_metric")])
    return label(True, [], [], e, f"train_loss_step {a:.3g} -> {b:.3g}, train_loss_epoch {tl[0]:.3g} -> {tl[-1]:.3g}, "
                                  f"val_loss {vl[0]:.3g} -> {vl[-1]:.3g} (min {m:.3g} at step {ms}), val_acc "
                                  f"{e['val_acc_last']:.3f}; hp_metric only the -1 placeholder at step 0")


# Main ----------------------------------------------------------------------------------------


def main() -> None:
    started = time.time()
    shutil.rmtree(LOGS, ignore_errors=True)
    os.makedirs(LOGS)
    hf_trainer("hf_trainer_healthy", 1, False)
    hf_trainer("hf_trainer_overfitting", 2, True)
    keras_overfitting("keras_overfitting", 3)
    sb3_ppo("sb3_ppo_healthy", 4)
    rllib_ppo("rllib_ppo_healthy", 5)
    sb3_dqn("sb3_dqn_healthy", 6)
    detection("detection_healthy", 7)
    tf1_estimator("tf1_estimator_healthy", 8)
    cosine_converged("cosine_converged_healthy", 9)
    plateau("plateau_from_start", 10)
    diverging("diverging_to_high", 11, False)
    diverging("diverging_to_inf", 12, True)
    oscillating("oscillating_lr_too_high", 13)
    gan("gan_healthy", 14)
    pg_surrogate("pg_surrogate_healthy", 15)
    lightning("lightning_healthy", 16)

    def ev(run):
        return Events(os.path.join(LOGS, run))

    labels = {
        "hf_trainer_healthy": label_hf(ev("hf_trainer_healthy"), "hf_trainer_healthy"),
        "hf_trainer_overfitting": label_hf(ev("hf_trainer_overfitting"), "hf_trainer_overfitting"),
    }
    labels["keras_overfitting/train"], labels["keras_overfitting/validation"] = label_keras(
        ev("keras_overfitting/train"), ev("keras_overfitting/validation"))
    labels["sb3_ppo_healthy"] = label_rl(ev("sb3_ppo_healthy"), "rollout/ep_rew_mean",
                                         ["train/value_loss", "train/policy_gradient_loss", "train/entropy_loss",
                                          "train/loss"],
                                         "value_loss (and train/loss with it) rises with the returns, the policy "
                                         "gradient loss is a signed surrogate, entropy_loss is -entropy: healthy")
    p = "ray/tune/info/learner/default_policy/learner_stats/"
    labels["rllib_ppo_healthy"] = label_rl(ev("rllib_ppo_healthy"), "ray/tune/episode_reward_mean",
                                           [p + "vf_loss", p + "policy_loss", p + "total_loss"],
                                           "vf_loss rises with the returns (clipped at 10), total_loss with it: "
                                           "healthy")
    labels["sb3_dqn_healthy"] = label_rl(ev("sb3_dqn_healthy"), "rollout/ep_rew_mean", ["train/loss"],
                                         "the TD loss is noisy and grows with the Q-values; the reward is the "
                                         "objective: healthy")
    labels["detection_healthy/train"] = label_detection_train(ev("detection_healthy/train"))
    labels["detection_healthy/eval"] = label_detection_eval(ev("detection_healthy/eval"))
    labels["tf1_estimator_healthy"] = label_tf1(ev("tf1_estimator_healthy"))
    labels["cosine_converged_healthy"] = label_simple_healthy(
        ev("cosine_converged_healthy"), "train/loss", "falls fast, then flat at its floor as the cosine lr "
        "decays to 0: converged, not a plateau")
    labels["plateau_from_start"] = label_plateau(ev("plateau_from_start"))
    labels["diverging_to_high"] = label_diverging(ev("diverging_to_high"))
    labels["diverging_to_inf"] = label_diverging(ev("diverging_to_inf"))
    labels["oscillating_lr_too_high"] = label_oscillating(ev("oscillating_lr_too_high"))
    labels["gan_healthy"] = label_gan(ev("gan_healthy"))
    labels["pg_surrogate_healthy"] = label_pg(ev("pg_surrogate_healthy"))
    labels["lightning_healthy/version_0"] = label_lightning(ev("lightning_healthy/version_0"))
    for run, lab in labels.items():
        events = ev(run)
        print(f"{run:<30} {len(events.files)} file(s), {len(events.scalars)} scalar tags  healthy={lab['healthy']} "
              f"expected={','.join(lab['expected']) or '-'}\n    {lab['why']}")
    with open(os.path.join(LOGS, "labels.json"), "w") as stream:
        json.dump(labels, stream, indent=1)
    print(f"wrote {len(labels)} scalar runs to {LOGS} in {time.time() - started:.0f}s")


if __name__ == "__main__":
    main()
