"""Shared test helpers: where the real-writer fixtures are, and a run-once CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest

# Event files written by real writers (torch, tensorboardX, TF1, TF2, Keras) and damaged ones:
# a copy of the workplace's ../shared/fixtures (see fixtures/README.md), kept in the repository so
# that CI, which starts from a clean clone, reads them too.
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_path(*parts: str) -> Path:
    path = FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"fixture {path} is not available")
    return path


@pytest.fixture
def fixtures_dir() -> Path:
    return fixture_path()
