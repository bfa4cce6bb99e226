"""Shared test set-up: hypothesis profiles and the path to the tests' data (``tests/data``)."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path
from typing import Any

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


# -- suites: what `make test-fast` leaves out, and each suite's time in `make test` -------------

# A test's suite is its first mark of these (none: "unit"). `make test` runs every suite in one
# pytest session and prints each suite's time; `make test-fast` leaves out browser, slow, lite
# and hub (a notebook test is slow too: it runs a kernel).
SUITES = ("browser", "hub", "lite", "notebook", "slow")
_SUITE_TIMES: dict[str, list[float]] = {}  # suite -> [wall seconds, CPU seconds, tests]


def _suite(item: pytest.Item) -> str:
    return next((name for name in SUITES if item.get_closest_marker(name)), "unit")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("notebook") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (kernels, sandboxes)."""
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    wall, cpu = time.perf_counter(), _cpu_seconds()
    yield
    times = _SUITE_TIMES.setdefault(_suite(item), [0.0, 0.0, 0])
    times[0] += time.perf_counter() - wall
    times[1] += _cpu_seconds() - cpu
    times[2] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _SUITE_TIMES:
        return
    terminalreporter.section("time per suite (wall, and CPU of pytest and its children)")
    for name in ("unit", *SUITES):
        if name in _SUITE_TIMES:
            wall, cpu, count = _SUITE_TIMES[name]
            terminalreporter.write_line(
                f"==> {name}: {wall:.1f} s wall, {cpu:.1f} s CPU ({int(count)} tests)"
            )
