"""What a run folder written more than once keeps: what TensorBoard's own loader keeps (the
oracle: EventAccumulator with size_guidance 0), except that where a later file goes back over
steps (a resumed job) this report uses the later values and says so."""

from __future__ import annotations

import pytest
from tensorboard.compat.proto import event_pb2

from reportgen.reading.loader import load
from tests.oracles import oracle
from tools.eventwriter import EventWriter


def test_a_session_restart_drops_what_came_after_its_step_as_tensorboard_does(tmp_path):
    """A TF1 supervisor that restarts writes a SessionLog START: TensorBoard drops every value
    already read at or after that step, for every tag."""
    with EventWriter(str(tmp_path), wall_time=1.0, hostname="t") as writer:
        for step in range(10):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            writer.add_scalar("accuracy", step / 10, step)
        restart = event_pb2.Event(session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))
        writer._write(restart, 6)
        for step in range(6, 12):
            writer.add_scalar("loss", 0.5 / (step + 1), step)
    run = load([str(tmp_path)]).runs[0]
    expected = oracle(tmp_path)
    for tag in ("loss", "accuracy"):
        assert sorted(e.step for e in expected.Scalars(tag)) == run.scalars[tag].steps.tolist()
    assert run.scalars["loss"].values[-1] == pytest.approx(0.5 / 12)
    assert run.scalars["accuracy"].steps.tolist() == list(range(6))
    assert any("restarted at step 6" in w for w in run.warnings)


def test_a_second_file_that_only_adds_steps_is_not_a_resumed_job(tmp_path):
    """Hugging Face's Trainer writes its final evaluation into a second event file, at the last
    step already written: TensorBoard keeps both values, and nothing was resumed."""
    with EventWriter(str(tmp_path), wall_time=1.0, hostname="a", filename_suffix=".0") as writer:
        for step in range(0, 1600, 100):
            writer.add_scalar("eval/loss", 1.0 / (step + 1), step)
    with EventWriter(str(tmp_path), wall_time=2.0, hostname="a", filename_suffix=".1") as writer:
        writer.add_scalar("eval/loss", 0.5, 1500)
        writer.add_scalar("eval/runtime", 12.0, 1500)
    run = load([str(tmp_path)]).runs[0]
    assert not run.warnings
    assert len(run.scalars["eval/loss"].steps) == len(oracle(tmp_path).Scalars("eval/loss")) == 17
    steps, values = run.scalars["eval/loss"].per_step()
    assert steps[-1] == 1500 and values[-1] == 0.5  # the value written last


def test_files_older_than_version_2_drop_out_of_order_steps_by_tag(tmp_path):
    """TensorBoard's rule for event files of version 1: a step below the newest one seen drops the
    newer values of the tags in that record, and only those."""
    with EventWriter(str(tmp_path), wall_time=1.0, hostname="t") as writer:
        writer._file.seek(0)
        writer._file.truncate()
        writer._write(event_pb2.Event(file_version="brain.Event:1"), 0)
        for step in range(8):
            writer.add_scalar("loss", float(step), step)
            writer.add_scalar("other", float(step), step)
        writer.add_scalar("loss", 100.0, 3)
    run = load([str(tmp_path)]).runs[0]
    expected = oracle(tmp_path)
    for tag in ("loss", "other"):
        assert sorted(e.step for e in expected.Scalars(tag)) == run.scalars[tag].steps.tolist()
    assert run.scalars["loss"].steps.tolist() == [0, 1, 2, 3] and len(run.scalars["other"].steps) == 8


def test_an_add_hparams_sub_folder_belongs_to_its_run(tmp_path):
    """torch's add_hparams writes its records and metrics into `<run>/<timestamp>/`, which
    TensorBoard lists as a run; it is the parent run's."""
    with EventWriter(str(tmp_path / "run1"), wall_time=1.0, hostname="t") as writer:
        for step in range(5):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
    with EventWriter(str(tmp_path / "run1" / "1700000000.123"), wall_time=2.0, hostname="t") as writer:
        writer.add_hparams_records({"lr": 0.1, "optimizer": "adam", "batchnorm": True})
        writer.add_scalar("hparam/accuracy", 0.91, 0)
    [run] = load([str(tmp_path)]).runs
    assert run.name == "run1" and run.hparams == {"lr": 0.1, "optimizer": "adam", "batchnorm": True}
    assert set(run.scalars) == {"loss", "hparam/accuracy"} and len(run.files) == 2


def test_trial_folders_of_tf_hparams_api_stay_runs(tmp_path):
    """TF's hparams API writes the experiment in the root and one session per trial folder
    (`Experiment 0_adam_200_0.2/`): those are runs of their own, each with its hparams, not
    sub-runs of the root."""
    with EventWriter(str(tmp_path), wall_time=1.0, hostname="t") as writer:
        writer.add_hparams_records({"optimizer": "adam"})
    for trial, optimizer in (("Experiment 0_adam", "adam"), ("Experiment 1_sgd", "sgd")):
        with EventWriter(str(tmp_path / trial), wall_time=2.0, hostname="t") as writer:
            writer.add_hparams_records({"optimizer": optimizer})
            for step in range(5):
                writer.add_scalar("batch_loss", 1.0 / (step + 1), step)
    runs = {run.name: run for run in load([str(tmp_path)]).runs}
    assert {"Experiment 0_adam", "Experiment 1_sgd"} <= set(runs)
    assert runs["Experiment 1_sgd"].hparams == {"optimizer": "sgd"}
    assert all("batch_loss" in runs[name].scalars for name in ("Experiment 0_adam", "Experiment 1_sgd"))
