"""Damaged inputs: warnings that name file and offset, and every intact record still used."""

from __future__ import annotations

import numpy as np

from reportgen.reading.loader import load
from tests.conftest import fixture_path
from tests.oracles import oracle


def intact():
    return load([str(fixture_path("torch_writer"))]).runs[0]


def test_bad_crc_loses_exactly_one_record():
    good = intact()
    run = load([str(fixture_path("damaged", "bad_crc"))]).runs[0]
    assert len(run.warnings) == 1 and "bad CRC" in run.warnings[0] and "byte 139748" in run.warnings[0]
    lost = {tag: set(good.histograms[tag].steps) - set(s.steps) for tag, s in run.histograms.items()}
    assert sum(len(v) for v in lost.values()) == 1  # one record held one histogram value
    assert run.files[0].records_skipped == 1
    assert run.files[0].records_read == good.files[0].records_read - 1


def test_truncated_last_record_is_a_warning_and_the_rest_is_read():
    good = intact()
    run = load([str(fixture_path("damaged", "truncated"))]).runs[0]
    assert any("truncated last record" in w for w in run.warnings)
    assert run.files[0].records_read == good.files[0].records_read - 1
    for tag in ("fc1.weight", "fc1.bias", "relu1"):
        assert list(run.histograms[tag].steps) == list(good.histograms[tag].steps)


def test_garbage_file_is_named_and_the_good_file_is_read():
    run = load([str(fixture_path("damaged", "garbage"))]).runs[0]
    assert any("not an event file" in w and "0000000000" in w for w in run.warnings)
    assert len(run.histograms["fc1.weight"].steps) == 20


def test_restarted_job_keeps_the_newer_files_values():
    folder = fixture_path("damaged", "restarted")
    run = load([str(folder)]).runs[0]
    series = run.histograms["fc.weight"]
    assert list(series.steps) == list(range(40))
    assert any("resumed job" in w and "from step 20" in w for w in run.warnings)
    second = sorted(folder.iterdir())[1]
    newer = oracle(second)
    for step in (20, 25, 29):
        expected = [e for e in newer.Histograms("fc.weight") if e.step == step][0].histogram_value
        index = list(series.steps).index(step)
        assert series.count[index] == expected.num
        assert series.mean[index] == expected.sum / expected.num
    loss = run.scalars["loss"]
    expected_loss = {e.step: e.value for e in newer.Scalars("loss")}
    np.testing.assert_allclose([loss.values[list(loss.steps).index(s)] for s in range(20, 40)],
                               [expected_loss[s] for s in range(20, 40)], rtol=1e-6)
