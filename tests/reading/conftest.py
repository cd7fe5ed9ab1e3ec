"""The S3 test server (moto's server mode on localhost) and a bucket holding two runs, shared by
the tests that read logs through fsspec (test_s3.py, test_dask.py)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tools.eventwriter import EventWriter

BUCKET = "training-logs"


@pytest.fixture(scope="module")
def s3_endpoint():
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def local_logs(tmp_path_factory):
    root = tmp_path_factory.mktemp("logs")
    rng = np.random.default_rng(11)
    for run, scale in (("baseline", 1.0), ("sweep/lr_0.1", 3.0)):
        with EventWriter(str(root / run), wall_time=1000.0) as writer:
            for step in range(0, 60, 5):
                writer.add_histogram("fc1.weight", rng.normal(0, 0.1 * scale, 300), step)
                writer.add_tensor_histogram("fc1.out", rng.normal(0, scale, 200), step)
                writer.add_scalar("loss", 1.0 / (step + 1) * scale, step)
    return root


@pytest.fixture
def bucket(s3_endpoint, local_logs, monkeypatch):
    for name, value in (("AWS_ENDPOINT_URL", s3_endpoint), ("AWS_ACCESS_KEY_ID", "testing"),
                        ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    s3fs = pytest.importorskip("s3fs")
    s3fs.S3FileSystem.clear_instance_cache()
    fs = s3fs.S3FileSystem()
    if not fs.exists(BUCKET):
        fs.mkdir(BUCKET)
        for folder, _, files in os.walk(local_logs):
            for f in files:
                local = os.path.join(folder, f)
                fs.put_file(local, f"{BUCKET}/logs/{os.path.relpath(local, local_logs)}")
    yield f"s3://{BUCKET}/logs"
    s3fs.S3FileSystem.clear_instance_cache()
