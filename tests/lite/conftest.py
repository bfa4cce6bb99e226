"""The offline JupyterLite tests (mark ``lite``): see ``tests/lite/site.py``. The test log
prints how long the site's build and the browser walk took."""

from __future__ import annotations

from typing import Any

TIMES: dict[str, float] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMES:
        terminalreporter.write_sep(
            "-",
            "lite: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in TIMES.items()),
        )
