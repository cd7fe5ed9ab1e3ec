"""A sweep's runs together (reportgen.sweeps): seed groups, votes and bands, findings against
hyperparameters, the table's columns and order. Facts are made by hand here; every expected
count is counted from how the facts were made, never read from the code's output."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen.errors import ConfigError
from reportgen.findings import Verdict
from reportgen.smoothing import SMOOTHING
from reportgen.sweeps import DEFAULT_SEED_PATTERN, Curve, RunFacts, build_sweep
from reportgen.sweeps.against import against_hparams
from reportgen.sweeps.seeds import band, seed_groups

H, W, C = Verdict.HEALTHY, Verdict.WARNINGS, Verdict.CRITICAL


def curve(tag: str, end: float, higher: bool = False, steps=(0, 10, 20), values=None) -> Curve:
    values = np.array(values if values is not None else [end + 1.0, end + 0.5, end], float)
    best = float(values.max() if higher else values.min())
    return Curve(tag, "accuracy" if higher else "eval_loss", higher, end, best, np.array(steps), values)


def facts(name: str, hparams: dict | None = None, verdict: Verdict = H, findings=(), metric: float | None = None,
          tag: str = "val/loss", higher: bool = False) -> RunFacts:
    curves = {tag: curve(tag, metric, higher)} if metric is not None else {}
    return RunFacts(name, hparams or {}, verdict, tuple(findings), curves, (tag,) if curves else ())


def groups_of(runs, pattern=DEFAULT_SEED_PATTERN):
    return {g.name: g.runs for g in seed_groups(runs, pattern, None)}


@pytest.mark.parametrize("names", [
    ["lr0.1/seed_1", "lr0.1/seed_2", "lr0.1/seed_3"],
    ["lr0.1_seed-1", "lr0.1_seed-2"],
    ["lr0.1_s1", "lr0.1_s2"],
    ["lr0.1/s1", "lr0.1/s2"],
    ["trial_lr=0.1,seed=1", "trial_lr=0.1,seed=2"],
])
def test_names_that_differ_only_by_a_seed_at_the_end_are_one_group(names):
    other = [n.replace("0.1", "0.3") for n in names]
    found = groups_of([facts(n) for n in names + other])
    assert sorted(found.values()) == sorted([names, other])


@pytest.mark.parametrize("names", [
    ["lightning_logs/version_0", "lightning_logs/version_1"],  # Lightning's versions are not seeds
    ["runs3", "runs4"],  # a digit after a word
    ["lr0.1_s1/train", "lr0.1_s2/train"],  # the seed is not the last part
])
def test_names_without_a_seed_at_the_end_are_no_group(names):
    assert groups_of([facts(n) for n in names]) == {}


def test_a_seed_hyperparameter_groups_runs_whose_names_say_nothing():
    """Ray Tune's trial folders: names with trial ids and dates, the seed in params.json."""
    runs = [facts(f"train_fn_0000{i}_{i}_2024-01-0{i}", {"lr": lr, "model": "mlp", "seed": seed})
            for i, (lr, seed) in enumerate([(0.1, 1), (0.1, 2), (0.01, 1), (0.01, 2), (0.01, 3)])]
    found = seed_groups(runs, DEFAULT_SEED_PATTERN, None)
    assert [g.runs for g in found] == [[r.name for r in runs[:2]], [r.name for r in runs[2:]]]
    assert found[1].seeds == ["1", "2", "3"] and found[1].hparams == {"lr": 0.01, "model": "mlp"}


def test_runs_that_differ_by_more_than_the_seed_are_not_a_group():
    runs = [facts("a_s1", {"lr": 0.1, "seed": 1}), facts("a_s2", {"lr": 0.2, "seed": 2}),
            facts("b_s1", {"trainer.random_seed": 1, "width": 8}),
            facts("b_s2", {"trainer.random_seed": 2, "width": 8})]
    assert groups_of(runs) == {"b": ["b_s1", "b_s2"]}


def test_the_seed_pattern_is_the_users():
    runs = [facts(n) for n in ("exp/lr0.1-rep1", "exp/lr0.1-rep2", "exp/lr0.1_s1", "exp/lr0.1_s2")]
    assert groups_of(runs, r"-rep\d+$") == {"exp/lr0.1": ["exp/lr0.1-rep1", "exp/lr0.1-rep2"]}


def test_votes_count_seeds_and_the_verdict_follows_the_majority():
    runs = [facts("x/seed_1", verdict=W, findings=[("saturation", "layer2"), ("dead_units", "layer1")]),
            facts("x/seed_2", verdict=W, findings=[("saturation", "layer2"), ("saturation", "layer2")]),
            facts("x/seed_3", verdict=H),
            facts("x/seed_4", verdict=W, findings=[("saturation", "layer2")]),
            facts("x/seed_5", verdict=C, findings=[("saturation", "layer2"), ("nan_or_inf", "loss")])]
    [group] = seed_groups(runs, DEFAULT_SEED_PATTERN, None)
    assert [v.text for v in group.votes] == ["saturation in layer2: 4 of 5 seeds", "dead_units in layer1: 1 of 5 seeds",
                                             "nan_or_inf in loss: 1 of 5 seeds"]
    assert group.verdict is W and group.verdict_text == "warnings (3 of 5 seeds)"


def test_a_tied_vote_gives_the_worse_verdict():
    runs = [facts("x_s1", verdict=H), facts("x_s2", verdict=C)]
    [group] = seed_groups(runs, DEFAULT_SEED_PATTERN, None)
    assert group.verdict is C and group.verdict_count == 1


def test_a_band_aligns_seeds_by_step_and_keeps_steps_only_some_logged():
    a = (np.array([0, 10, 20]), np.array([1.0, 2.0, 3.0]))
    b = (np.array([0, 10, 20, 30]), np.array([3.0, 4.0, 5.0, 9.0]))
    c = (np.array([0, 20]), np.array([5.0, 7.0]))
    got = band("loss", [a, b, c], smoothing=0)
    assert got.steps.tolist() == [0, 10, 20, 30] and got.seeds.tolist() == [3, 2, 3, 1]
    assert got.mean.tolist() == [3.0, 3.0, 5.0, 9.0]
    assert got.low.tolist() == [1.0, 2.0, 3.0, 9.0] and got.high.tolist() == [5.0, 4.0, 7.0, 9.0]
    assert got.std[0] == pytest.approx(np.std([1.0, 3.0, 5.0]))


def test_a_band_smooths_each_seed_as_tensorboard_does():
    """TensorBoard's debiased EMA, by hand: s0 = v0; s1 = (w(1-w)v0 + (1-w)v1) / (1 - w^2)."""
    w = SMOOTHING
    a = (np.array([0, 1]), np.array([0.0, 10.0]))
    b = (np.array([0, 1]), np.array([2.0, 2.0]))  # constant: stays exactly constant
    got = band("loss", [a, b])
    smoothed_a1 = (w * (1 - w) * 0.0 + (1 - w) * 10.0) / (1 - w ** 2)
    assert got.mean.tolist() == pytest.approx([1.0, (smoothed_a1 + 2.0) / 2])
    assert got.raw_mean.tolist() == [1.0, 6.0] and got.high[1] == pytest.approx(smoothed_a1)


def brief_sweep() -> list[RunFacts]:
    """The issue's example: 12 runs with lr < 0.1 (6 at 0.001, 6 at 0.01), none with the
    finding; 8 with lr >= 0.1 (4 at 0.1, 4 at 1), 7 with it (3 at 0.1, all 4 at 1)."""
    runs = []
    for lr, n, dead in ((0.001, 6, 0), (0.01, 6, 0), (0.1, 4, 3), (1.0, 4, 4)):
        for i in range(n):
            runs.append(facts(f"lr{lr}_{i}", {"lr": lr, "opt": "sgd" if i % 2 else "adam"},
                              findings=[("dead_units", "fc2")] if i < dead else [], metric=lr + i))
    return runs


def test_the_numeric_split_that_separates_best_with_its_counts():
    [dead] = against_hparams(brief_sweep(), ["lr", "opt"])
    assert dead.sentence == "dead_units in 7 of 8 runs with lr >= 0.1, in 0 of 12 with lr < 0.1"
    # opt alternates adam, sgd: at 0.1 runs 0-2 have it (adam, sgd, adam), at 1 all four (2 and 2)
    by = {s.hparam: s for s in dead.splits}
    assert [(p.label, p.with_finding, p.runs) for p in by["opt"].parts] == [("opt = adam", 4, 10), ("opt = sgd", 3, 10)]
    assert by["lr"].score > by["opt"].score


def test_a_split_is_not_chosen_for_isolating_one_run():
    """20 runs: 10 at lr 0.001, 5 at 0.01, 4 at 0.1 (2 with the finding), 1 at 1 (with it).
    `lr >= 1` and `lr >= 0.1` classify 18 of 20 runs right alike, but the first leaves 2 of the
    3 runs with the finding on the wrong side: balanced accuracy 0.67 against 0.94."""
    lrs = [0.001] * 10 + [0.01] * 5 + [0.1] * 4 + [1.0]
    having = {15, 16, 19}
    runs = [facts(f"r{i}", {"lr": lr}, findings=[("exploding_gradient", "fc1")] if i in having else [])
            for i, lr in enumerate(lrs)]
    [found] = against_hparams(runs, ["lr"])
    assert found.sentence == "exploding_gradient in 3 of 5 runs with lr >= 0.1, in 0 of 15 with lr < 0.1"
    assert found.splits[0].score == pytest.approx((3 / 3 + 15 / 17) / 2)


def test_a_finding_below_a_threshold_is_said_on_its_side():
    runs = [facts(f"r{i}", {"lr": lr}, findings=[("vanishing_gradient", "fc1")] if lr < 0.01 else [])
            for i, lr in enumerate([0.0001, 0.001, 0.001, 0.01, 0.1, 0.1])]
    [found] = against_hparams(runs, ["lr"])
    assert found.sentence == "vanishing_gradient in 3 of 3 runs with lr < 0.01, in 0 of 3 with lr >= 0.01"


def test_categorical_values_and_runs_without_the_hyperparameter():
    runs = ([facts(f"t{i}", {"act": "tanh"}, findings=[("saturation", "l1")] if i < 3 else []) for i in range(4)]
            + [facts(f"r{i}", {"act": "relu"}) for i in range(3)] + [facts("n0", {}), facts("n1", {})])
    [found] = against_hparams(runs, ["act"])
    assert found.sentence == ("saturation in 3 of 4 runs with act = tanh, in 0 of 3 with act = relu, "
                              "in 0 of 2 with act not set")


def test_a_finding_in_every_run_has_no_split():
    runs = [facts(f"r{i}", {"lr": lr}, findings=[("no_bias", "fc1")]) for i, lr in enumerate([0.1, 0.2, 0.3])]
    [found] = against_hparams(runs, ["lr"])
    assert found.sentence == "no_bias in all 3 runs" and found.splits == []


def test_findings_against_settings_leave_out_runs_not_judged_and_need_three_judged_runs():
    """sample_logs' case: question (no biases, no_bias) and question_fixed (biases) judged,
    tf2_hist (no weights) not judged. "in 0 of 1 with biases not set" counted the run that could
    not have the finding; and with one run a side the split only says which run has it."""
    question = facts("question", {"biases": False}, W, [("no_bias", "layer1")], metric=0.14)
    fixed = facts("question_fixed", {"biases": True}, metric=0.23)
    unjudged = facts("tf2_hist", {}, Verdict.NOT_JUDGED)
    assert build_sweep([question, fixed, unjudged]).against == []
    more = facts("question_seed2", {"biases": False}, W, [("no_bias", "layer1")], metric=0.12)
    [found] = build_sweep([question, fixed, unjudged, more]).against
    assert found.sentence == "no_bias in 2 of 2 runs with biases = False, in 0 of 1 with biases = True"


def test_the_table_varying_columns_first_constant_ones_folded_rows_best_first():
    runs = [facts("b_s1", {"lr": 0.1, "seed": 1, "steps": 300}, metric=0.5),
            facts("a_s2", {"lr": 0.1, "seed": 2, "steps": 300}, metric=0.2),
            facts("c_s1", {"lr": 0.01, "seed": 1, "steps": 300}, metric=0.9),
            facts("d_s1", {"lr": 1.0, "seed": 1, "steps": 300}, metric=None)]
    sweep = build_sweep(runs)
    assert sweep.varying == ["lr", "seed"] and sweep.constant == {"steps": 300}
    assert [r.run for r in sweep.rows] == ["a_s2", "b_s1", "c_s1", "d_s1"]  # lower val/loss first, none last
    assert sweep.best_run == "a_s2" and sweep.metric == "val/loss"
    assert sweep.rows[0].hparams == {"lr": 0.1, "seed": 2}
    assert [r.run for r in build_sweep(runs, sort="lr").rows] == ["c_s1", "a_s2", "b_s1", "d_s1"]  # equals by val/loss


def test_higher_is_better_ranks_the_other_way():
    runs = [facts(n, {"lr": lr}, metric=m, tag="val/accuracy", higher=True)
            for n, lr, m in (("a", 0.1, 0.7), ("b", 0.2, 0.9), ("c", 0.3, 0.8))]
    sweep = build_sweep(runs)
    assert [r.run for r in sweep.rows] == ["b", "c", "a"] and sweep.best_run == "b" and sweep.higher_is_better


def test_the_metric_is_the_first_result_of_most_runs():
    runs = [RunFacts(n, {"lr": 0.1 * i}, H, (), {"val/acc": curve("val/acc", 0.8, True), "loss": curve("loss", 0.3)},
                     results) for i, (n, results) in enumerate([("a", ("val/acc", "loss")), ("b", ("loss",)),
                                                                ("c", ("val/acc", "loss"))])]
    assert build_sweep(runs).metric == "val/acc"


def test_sorting_by_a_name_the_runs_do_not_have_is_a_config_error():
    runs = [facts("a", {"lr": 0.1}, metric=0.5), facts("b", {"lr": 0.2}, metric=0.4)]
    with pytest.raises(ConfigError, match="'width' is neither a scalar tag nor a hyperparameter"):
        build_sweep(runs, sort="width")


def test_no_sweep_for_one_run_or_runs_with_nothing_to_compare_by():
    assert build_sweep([facts("a_s1", {"lr": 0.1})]) is None
    assert build_sweep([facts("a", metric=0.1), facts("b", metric=0.2)]) is None
    assert build_sweep([facts("a_s1", metric=0.1), facts("a_s2", metric=0.2)]) is not None
