"""Write a small logdir shaped like a Ray Tune / RLlib experiment: a few runs of only scalars,
each run's folder named as Ray Tune names its trials (about 100 characters: algorithm,
environment, trial id, the varied hyperparameters and a date), with RLlib's long tag names.

    python benchmarks/make_rllib_log.py /tmp/rg-bench/rllib                 # 2 runs x 38 tags x 200 steps
    python benchmarks/make_rllib_log.py /tmp/rg-bench/rllib --runs 4 --steps 500

The case of issue 19: a 2.9 MB RLlib logdir from a public repository (2 runs x 38 scalar tags)
took 27 s to build, nearly all of it a fixed price per chart, and its long trial names made
Matplotlib's layout collapse. Written with tools/eventwriter (the records torch and
tensorboardX write: `simple_value` scalars). Deterministic: fixed seeds and wall times.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a clone
from tools.eventwriter import EventWriter

START_WALL_TIME = 1_700_000_000.0
_STATS = "ray/tune/info/learner/default_policy/learner_stats/"
# 38 tags, as an RLlib PPO trial logs them through Ray Tune's TBXLogger.
TAGS = (
    "ray/tune/episode_reward_mean", "ray/tune/episode_reward_min", "ray/tune/episode_reward_max",
    "ray/tune/episode_len_mean", "ray/tune/episodes_this_iter", "ray/tune/episodes_total",
    "ray/tune/timesteps_total", "ray/tune/num_healthy_workers", "ray/tune/agent_timesteps_total",
    "ray/tune/time_this_iter_s", "ray/tune/time_total_s", "ray/tune/training_iteration",
    "ray/tune/timers/sample_time_ms", "ray/tune/timers/learn_time_ms", "ray/tune/timers/learn_throughput",
    "ray/tune/timers/update_time_ms", "ray/tune/timers/load_time_ms",
    "ray/tune/sampler_perf/mean_env_wait_ms", "ray/tune/sampler_perf/mean_raw_obs_processing_ms",
    "ray/tune/sampler_perf/mean_inference_ms", "ray/tune/sampler_perf/mean_action_processing_ms",
    "ray/tune/perf/cpu_util_percent", "ray/tune/perf/ram_util_percent",
    "ray/tune/info/num_steps_sampled", "ray/tune/info/num_steps_trained",
    "ray/tune/info/num_agent_steps_sampled", "ray/tune/info/num_agent_steps_trained",
    _STATS + "allreduce_latency", _STATS + "cur_kl_coeff", _STATS + "cur_lr", _STATS + "total_loss",
    _STATS + "policy_loss", _STATS + "vf_loss", _STATS + "vf_explained_var", _STATS + "kl", _STATS + "entropy",
    _STATS + "entropy_coeff", "ray/tune/info/learner/default_policy/num_agent_steps_trained",
)
assert len(TAGS) == 38


def trial_name(index: int, lr: float, seed: int) -> str:
    """A Ray Tune trial folder name, padded to 100 characters as long experiments' are."""
    name = (f"PPO_CartPole-v1_{0x3a7f2 + index:05x}_{index:05d}_{index}_lr={lr:g},num_sgd_iter=30,"
            f"sgd_minibatch_size=128,train_batch_size=4000,seed={seed}_2024-01-15_10-22-{33 + index:02d}")
    return (name + "_" + "x" * 100)[:100]


def _curve(tag: str, steps: int, rng: np.random.Generator) -> np.ndarray:
    t = np.linspace(0, 1, steps)
    noise = rng.standard_normal(steps)
    if "loss" in tag or tag.endswith("kl"):
        return 0.05 + 2.0 * np.exp(-4 * t) + 0.05 * np.abs(noise)
    if "reward" in tag or "len_mean" in tag:
        return 20 + 460 * (1 - np.exp(-3 * t)) + 15 * noise
    if tag.endswith(("_total", "_total_s", "iteration", "sampled", "trained")):
        return np.cumsum(np.full(steps, 4000.0))
    if "cur_lr" in tag or "coeff" in tag:
        return np.full(steps, 5e-5)
    return 10 + rng.random() * 5 + noise


def write_logdir(logdir: str, runs: int = 2, steps: int = 200, seed: int = 0) -> list[str]:
    """`runs` trials of len(TAGS) scalar tags, `steps` training iterations each."""
    folders = []
    for r in range(runs):
        rng = np.random.default_rng(seed + r)
        folder = os.path.join(logdir, trial_name(r, [1e-4, 5e-5, 3e-4, 1e-3][r % 4], seed + r))
        curves = {tag: _curve(tag, steps, rng) for tag in TAGS}
        with EventWriter(folder, wall_time=START_WALL_TIME + 10_000 * r, hostname="ray-head") as writer:
            for step in range(steps):
                for tag in TAGS:
                    writer.add_scalar(tag, float(curves[tag][step]), step * 4000)
        folders.append(folder)
    return folders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logdir")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if os.path.exists(args.logdir) and os.listdir(args.logdir):
        print(f"{args.logdir} is not empty; refusing to add to it", file=sys.stderr)
        return 2
    started = time.monotonic()
    write_logdir(args.logdir, args.runs, args.steps, args.seed)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(args.logdir) for f in files)
    print(f"wrote {args.logdir}: {args.runs} runs x {len(TAGS)} tags x {args.steps} steps, {size / 1e6:.1f} MB "
          f"in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
