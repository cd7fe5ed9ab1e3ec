"""Hyperparameters from every place frameworks write them: the hparams plugin's records (in the
run, or in torch's add_hparams `<run>/<timestamp>/` sub-folder), Lightning's hparams.yaml, Ray
Tune's params.json, a config.yaml / config.json; bad files give a warning, never a crash."""

from __future__ import annotations

import json

import pytest

from reportgen.diagnosis.roles import Role, classify
from reportgen.reading.loader import load
from tests.conftest import write_events
from tools.eventwriter import EventWriter

LOSS = {"loss": lambda step: 1.0 / (step + 1)}


def _run(tmp_path):
    [run] = load([str(tmp_path)]).runs
    return run


def test_lightning_hparams_yaml_as_yaml_dump_writes_it(tmp_path):
    """Lightning's save_hyperparameters writes hparams.yaml with yaml.dump: nested mappings,
    Python tuples as tagged lists, an argparse Namespace as a tagged mapping, null."""
    folder = tmp_path / "lightning_logs" / "version_0"
    write_events(folder, scalars=LOSS)
    (folder / "hparams.yaml").write_text(
        "batch_size: 64\nlr: 0.001\noptimizer:\n  name: adam\n  betas: !!python/tuple\n  - 0.9\n  - 0.999\n"
        "args: !!python/object:argparse.Namespace\n  depth: 3\nscheduler: null\n")
    run = _run(tmp_path)
    assert run.name == "lightning_logs/version_0"
    assert run.hparams == {"batch_size": 64, "lr": 0.001, "optimizer.name": "adam",
                           "optimizer.betas": "[0.9, 0.999]", "args.depth": 3, "scheduler": "None"}
    assert not run.warnings


def test_lightning_writes_both_and_they_are_one_set(tmp_path):
    """Lightning's log_hyperparams writes the plugin records (nested names joined with "/",
    numbers as floats) and hparams.yaml (nested, ints): one value per setting, the yaml's int."""
    folder = tmp_path / "version_0"
    with EventWriter(str(folder), wall_time=1.0, hostname="t") as writer:
        writer.add_hparams_records({"batch_size": 64.0, "optimizer/lr": 0.01, "model": "mlp"})
        writer.add_scalar("hp_metric", -1, 0)
        for step in range(6):
            writer.add_scalar("train_loss_step", 1.0 / (step + 1), step)
    (folder / "hparams.yaml").write_text("batch_size: 64\noptimizer:\n  lr: 0.01\nmodel: mlp\nepochs: 3\n")
    run = _run(tmp_path)
    assert run.hparams == {"batch_size": 64, "optimizer.lr": 0.01, "model": "mlp", "epochs": 3}
    assert isinstance(run.hparams["batch_size"], int)
    # hp_metric is a result, not a setting, and never judged as a loss
    assert "hp_metric" in run.scalars and "hp_metric" not in run.hparams
    assert classify("hp_metric", run.name).role is Role.OTHER


def test_a_record_that_disagrees_with_the_file_wins(tmp_path):
    """The plugin record is what TensorBoard's HParams dashboard shows."""
    folder = tmp_path / "run"
    with EventWriter(str(folder), wall_time=1.0, hostname="t") as writer:
        writer.add_hparams_records({"lr": 0.5})
        writer.add_scalar("loss", 1.0, 0)
    (folder / "hparams.yaml").write_text("lr: 0.1\n")
    assert _run(tmp_path).hparams == {"lr": 0.5}


def test_ray_tune_params_json_per_trial_folder(tmp_path):
    for trial, lr in (("train_fn_00000_0_lr=0.01", 0.01), ("train_fn_00001_1_lr=0.1", 0.1)):
        write_events(tmp_path / trial, scalars=LOSS)
        (tmp_path / trial / "params.json").write_text(json.dumps({"lr": lr, "model": {"width": 32, "act": "relu"},
                                                                  "use_bn": False}))
    runs = {run.name: run.hparams for run in load([str(tmp_path)]).runs}
    assert runs == {"train_fn_00000_0_lr=0.01": {"lr": 0.01, "model.width": 32, "model.act": "relu", "use_bn": False},
                    "train_fn_00001_1_lr=0.1": {"lr": 0.1, "model.width": 32, "model.act": "relu", "use_bn": False}}


@pytest.mark.parametrize("name, text", [
    ("config.yaml", "data:\n  batch: 128\n  augment: [flip, crop]\ntrainer:\n  max_steps: 1000\n"),
    ("config.json", '{"data": {"batch": 128, "augment": ["flip", "crop"]}, "trainer": {"max_steps": 1000}}'),
])
def test_config_files_beside_the_event_files(tmp_path, name, text):
    write_events(tmp_path / "run", scalars=LOSS)
    (tmp_path / "run" / name).write_text(text)
    assert _run(tmp_path).hparams == {"data.batch": 128, "data.augment": '["flip", "crop"]', "trainer.max_steps": 1000}


def test_the_first_file_holding_a_name_gives_its_value(tmp_path):
    write_events(tmp_path / "run", scalars=LOSS)
    (tmp_path / "run" / "hparams.yaml").write_text("lr: 0.1\n")
    (tmp_path / "run" / "config.json").write_text('{"lr": 0.3, "width": 8}')
    assert _run(tmp_path).hparams == {"lr": 0.1, "width": 8}


def test_add_hparams_sub_folder_joins_the_parents_hparams_yaml(tmp_path):
    """torch's add_hparams records (and its metric) in `<run>/<time.time()>/`, Lightning's
    hparams.yaml in the run: one run with both sets; the sub-folder is not a run."""
    write_events(tmp_path / "lr0.1", scalars=LOSS)
    (tmp_path / "lr0.1" / "hparams.yaml").write_text("width: 32\n")
    with EventWriter(str(tmp_path / "lr0.1" / "1700000000.5213287"), wall_time=2.0, hostname="t") as writer:
        writer.add_hparams_records({"lr": 0.1, "width": 32.0})
        writer.add_scalar("hp_metric", 0.25, 0)
    [run] = load([str(tmp_path)]).runs
    assert run.name == "lr0.1" and run.hparams == {"width": 32, "lr": 0.1}
    assert set(run.scalars) == {"loss", "hp_metric"}


@pytest.mark.parametrize("name, content, says", [
    ("hparams.yaml", b"lr: [0.1, 0.2\n", "cannot be parsed (YAML: expected ',' or ']'"),
    ("params.json", b'{"lr": 0.1,', "cannot be parsed (Expecting property name"),
    ("config.yaml", b"- 1\n- 2\n", "holds a list, not a mapping"),
    ("config.json", b'"lr"', "holds a str, not a mapping"),
    ("hparams.yaml", b"lr: \xff\xfe\n", "not UTF-8"),
    ("hparams.yaml", b"a: &x [*x]\n", "cannot be parsed"),  # a YAML alias loop
    ("hparams.yaml", b"? [a, b]\n: 1\n", "cannot be parsed"),  # a key that is a list
])
def test_a_bad_file_is_a_warning_and_the_rest_is_read(tmp_path, name, content, says):
    write_events(tmp_path / "run", scalars=LOSS)
    (tmp_path / "run" / name).write_bytes(content)
    (tmp_path / "run" / ("config.json" if name != "config.json" else "params.json")).write_text('{"width": 16}')
    run = _run(tmp_path)
    assert run.hparams == {"width": 16} and len(run.scalars["loss"].steps) == 12
    [warning] = run.warnings
    assert warning.startswith(str(tmp_path / "run" / name)) and says in warning


def test_a_huge_file_is_not_read(tmp_path):
    write_events(tmp_path / "run", scalars=LOSS)
    (tmp_path / "run" / "config.json").write_text(json.dumps({f"k{i}": i for i in range(200_000)}))
    run = _run(tmp_path)
    assert run.hparams == {} and "too large" in run.warnings[0]


def test_through_an_fsspec_url(tmp_path):
    fsspec = pytest.importorskip("fsspec")
    write_events(tmp_path / "run", scalars=LOSS)
    fs = fsspec.filesystem("memory")
    for path in (tmp_path / "run").iterdir():
        fs.pipe(f"/hp-logs/run/{path.name}", path.read_bytes())
    fs.pipe("/hp-logs/run/params.json", b'{"lr": 0.03, "opt": {"name": "sgd"}}')
    try:
        [run] = load(["memory://hp-logs"]).runs
    finally:
        fs.rm("/hp-logs", recursive=True)
    assert run.hparams == {"lr": 0.03, "opt.name": "sgd"} and not run.warnings


def test_plugin_hparams_come_in_one_order_in_every_process(tmp_path):
    """A protobuf map has no order, and upb's differs between processes: read as it came, one
    log gave the sweep table's columns in a new order at each build. The names come sorted."""
    import subprocess
    import sys

    names = ["lr", "optimizer", "batch_size", "dropout", "episodes", "biases", "width", "depth"]
    with EventWriter(str(tmp_path / "run")) as writer:
        writer.add_hparams_records({name: float(i) for i, name in enumerate(names)})
        writer.add_scalar("loss", 1.0, 0)
    script = ("import sys; from reportgen.reading.loader import load; "
              "print(','.join(load([sys.argv[1]]).runs[0].hparams))")
    seen = {subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                           check=True).stdout.strip() for _ in range(4)}
    assert seen == {",".join(sorted(names))}
