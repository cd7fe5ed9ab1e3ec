"""Shared test helpers: where the real-writer fixtures are, and a run-once CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest

# The workplace keeps real-writer fixtures in ../shared/fixtures beside the repository.
FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def fixture_path(*parts: str) -> Path:
    path = FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared fixture {path} is not available")
    return path


@pytest.fixture
def fixtures_dir() -> Path:
    return fixture_path()
