"""Shared test set-up: hypothesis profiles and the path to ../shared."""

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
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout; tests that need it skip, saying why, when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (a plain clone): the upstream data lives only there")
    return SHARED
