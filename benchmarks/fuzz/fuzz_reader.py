"""Coverage-guided fuzzing of the event-file reader with atheris (longer runs than CI's).

    pip install atheris
    python benchmarks/fuzz/fuzz_reader.py -max_total_time=600 -max_len=65536 [CORPUS_DIR]

Each input is written as an event file and read with `read_run`, the same path a report takes.
Any exception escaping the reader, or a read that takes longer than a few seconds, is a bug:
damaged data must give warnings, never a crash or a hang. The seed corpus is a small valid log
(written on first run), so mutations start from real records.
"""

from __future__ import annotations

import os
import sys
import tempfile

import atheris

with atheris.instrument_imports():
    import numpy as np

    from reportgen.reading.loader import read_run
    from tools.eventwriter import EventWriter, frame

SCRATCH = tempfile.mkdtemp(prefix="rg-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
TARGET = os.path.join(SCRATCH, "events.out.tfevents.0.fuzz")


def seed_corpus(folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    if os.listdir(folder):
        return
    rng = np.random.default_rng(0)
    with EventWriter(folder, wall_time=1.0, hostname="seed") as writer:
        for step in range(3):
            writer.add_histogram("w", rng.normal(size=50), step)
            writer.add_tensor_histogram("t", rng.normal(size=50), step)
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            writer.add_tensor_scalar("acc", step / 3, step)
    # The same records as reframing payloads: a length byte (in 4-byte units) then the payload.
    with open(os.path.join(folder, os.listdir(folder)[0]), "rb") as stream:
        raw = stream.read()
    payloads, pos = [], 0
    while pos < len(raw):
        length = int.from_bytes(raw[pos : pos + 8], "little")
        payload = raw[pos + 12 : pos + 12 + length]
        payload += bytes(-len(payload) % 4)
        if len(payload) < 1024:
            payloads.append(bytes([len(payload) // 4]) + payload)
        pos += 16 + length
    with open(os.path.join(folder, "reframed"), "wb") as stream:
        stream.write(b"\x01" + b"".join(payloads))


def reframe(data: bytes) -> bytes:
    """Cut the input into payloads and frame each with valid CRCs.

    Random bytes almost never pass a CRC, so without this the fuzzer would only ever exercise
    the framing; reframed inputs reach the protobuf and histogram decoding behind it.
    """
    out, pos = [], 0
    while pos < len(data):
        size = data[pos] * 4
        out.append(frame(data[pos + 1 : pos + 1 + size]))
        pos += 1 + size
    return b"".join(out)


def test_one_input(data: bytes) -> None:
    # The first byte chooses: raw bytes (framing is fuzzed) or reframed payloads (decoding is).
    if data and data[0] & 1:
        data = reframe(data[1:])
    with open(TARGET, "wb") as stream:
        stream.write(data)
    run = read_run("fuzz", [TARGET])
    account = run.files[0]
    if data and account.records_read == 0 and account.records_skipped == 0:
        raise AssertionError("a non-empty file was neither read nor reported")


def main() -> None:
    args = sys.argv
    corpus = [a for a in args[1:] if not a.startswith("-")]
    if not corpus:
        corpus_dir = os.path.join(SCRATCH, "corpus")
        seed_corpus(corpus_dir)
        args = args + [corpus_dir]
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
