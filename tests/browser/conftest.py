"""The labs in a real browser: our own ``jupyter lab`` / ``jupyter notebook`` on a scratch copy
of notebooks/, driven through Debian's Chromium by the PyPI ``playwright`` package.

Every process a run starts (the servers, their kernels, the playwright driver and Chromium)
carries ``LABKIT_BROWSER_RUN=<mark>`` in its environment; teardown stops them by process group
and pid, then checks that no process with the mark is left. If Chromium cannot be started the
tests fail, saying why (they never skip). The terminal summary prints the suite's time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser.driver import (
    ACTION_TIMEOUT_MS,
    CHROMIUM,
    CHROMIUM_ARGS,
    DARK_SETTINGS,
    LIGHT_SETTINGS,
    MARK_VARIABLE,
    ROOT,
    RUN_MARK,
    SCREENSHOTS,
    SUITE_LIMIT_SECONDS,
    NotebookPage,
    Server,
    kill_marked,
    start_server,
    write_settings,
)

# -- timing: the test log prints the browser suite's time -------------------------------------

_clock: dict[str, float] = {}


def _is_browser_item(item: pytest.Item) -> bool:
    return item.get_closest_marker("browser") is not None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if _is_browser_item(item):
        _clock.setdefault("start", time.monotonic())
        _clock["count"] = _clock.get("count", 0) + 1


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if _is_browser_item(item):
        _clock["end"] = time.monotonic()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if "start" not in _clock:
        return
    seconds = _clock.get("end", time.monotonic()) - _clock["start"]
    terminalreporter.write_sep(
        "-",
        f"browser suite: {_clock['count']} tests in {seconds:.1f} s "
        f"(budget {SUITE_LIMIT_SECONDS} s); screenshots in {SCREENSHOTS.relative_to(ROOT)}/",
    )


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def settings_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user-settings folder: no news pop-up, no cell windowing, the light theme."""
    return write_settings(tmp_path_factory.mktemp("settings"), LIGHT_SETTINGS)


@pytest.fixture(scope="package")
def process_guard() -> Iterator[None]:
    """At the very end: no process of this run is left (killed by pid and reported if so)."""
    yield
    leftovers = kill_marked(settle=15.0)
    if leftovers:
        listing = "\n".join(f"  {pid}: {cmd[:160]}" for pid, cmd in leftovers)
        pytest.fail(f"processes of the browser run were left running (now killed):\n{listing}")


@pytest.fixture(scope="package")
def browser(process_guard: None) -> Iterator[Any]:
    """Debian's Chromium, headless, through playwright (never ``playwright install``)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        pytest.fail(f"the browser tests need the PyPI package playwright: {error}", pytrace=False)
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(`make system-deps`, or apt-get install chromium)",
            pytrace=False,
        )
    os.environ[MARK_VARIABLE] = RUN_MARK  # the playwright driver and Chromium inherit it
    try:
        playwright = sync_playwright().start()
    finally:
        del os.environ[MARK_VARIABLE]
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as error:
        playwright.stop()
        pytest.fail(
            f"Chromium ({CHROMIUM}) could not be started by playwright: {error}", pytrace=False
        )
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture(scope="package")
def lab_server(tmp_path_factory: pytest.TempPathFactory, process_guard: None) -> Iterator[Server]:
    """``jupyter lab`` on a scratch copy of notebooks/ (HOME and settings in tmp dirs): the
    suite's one JupyterLab server (a test that needs the dark theme switches it in its page)."""
    server = start_server(tmp_path_factory.mktemp("lab"), "lab", LIGHT_SETTINGS)
    yield server
    server.stop()


@pytest.fixture(scope="package")
def notebook7_server(
    tmp_path_factory: pytest.TempPathFactory, process_guard: None
) -> Iterator[Server]:
    """``jupyter notebook`` (Notebook 7) on its own scratch copy, in the dark theme."""
    server = start_server(tmp_path_factory.mktemp("nb7"), "notebook", DARK_SETTINGS)
    yield server
    server.stop()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    ctx.set_default_timeout(ACTION_TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def open_notebook(context: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``open_notebook(server, path)``: a :class:`NotebookPage`, opened; kernels shut down after."""
    pages: list[NotebookPage] = []

    def opener(server: Server, path: str) -> NotebookPage:
        page = NotebookPage(context, server, path, workspace=f"{request.node.name}-{len(pages)}")
        pages.append(page)
        return page.open()

    yield opener
    for page in pages:
        page.close()
        try:
            page.server.shutdown_kernels()
        except OSError:
            pass
