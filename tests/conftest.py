"""Shared test set-up: hypothesis profiles and the path to the tests' data (``tests/data``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Assertions in the lab tests' shared helpers report like those in the tests themselves.
pytest.register_assert_rewrite("lab_support")

# CI profile: no deadline (the machine is shared), derandomized (a red run can be repeated).
settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``tests/data``: upstream vectors, real-client recordings and facts, kept in the repository
    (see ``tests/data/README.md``) so that a plain clone runs every test."""
    return DATA
