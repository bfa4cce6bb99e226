"""Helpers for the browser tests: a ``jupyter lab`` / ``jupyter notebook`` server on a scratch
copy of notebooks/, the processes of a run, and a notebook page driven as a student would."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
BIN = Path(sys.executable).parent
STUDENT = "browser-student-42"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
MARK_VARIABLE = "LABKIT_BROWSER_RUN"
RUN_MARK = uuid.uuid4().hex
SUITE_LIMIT_SECONDS = 180
SERVER_START_TIMEOUT = 90
RUN_ALL_TIMEOUT_MS = 90_000
# A click, a fill, a wait for one element: generous, as the machine may be shared (a wait
# returns as soon as its condition holds, so this costs nothing when all is well).
ACTION_TIMEOUT_MS = 30_000
PAGE_LOAD_TIMEOUT_MS = 90_000

LIGHT_SETTINGS: dict[str, dict[str, Any]] = {
    # no "Would you like to get notified about official Jupyter news?" pop-up
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
    # every cell stays in the page, so cells can be found by their index
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/themes": {"theme": "JupyterLab Light"},
}
DARK_SETTINGS = {
    **LIGHT_SETTINGS,
    "@jupyterlab/apputils-extension/themes": {"theme": "JupyterLab Dark"},
}


# Page errors that are not ours: Notebook 7.6.5 throws this while loading its settings on every
# notebook it opens, with or without our settings folder and before any labkit code runs.
KNOWN_PAGE_ERRORS = {
    "notebook": ("Cannot read properties of undefined (reading 'schema')",),
    "lab": (),
}


def lab_notebooks() -> list[str]:
    """The notebooks in notebooks/ now (collection time): new ones are covered automatically."""
    return sorted(path.name for path in NOTEBOOKS.glob("*.ipynb"))


# -- processes ---------------------------------------------------------------------------------


def marked_processes(mark: str = RUN_MARK) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose environment carries this run's mark."""
    needle = f"{MARK_VARIABLE}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in environ and "State:\tZ" not in status:
            found.append((int(entry.name), cmdline.strip()))
    return found


def kill_marked(mark: str = RUN_MARK) -> list[tuple[int, str]]:
    """Kill, by pid, the marked processes still alive; returns what was left over."""
    leftovers = marked_processes(mark)
    for pid, _ in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return leftovers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_settings(folder: Path, settings: dict[str, dict[str, Any]]) -> Path:
    """A JupyterLab user-settings folder: ``<folder>/<plugin>.jupyterlab-settings`` files."""
    for plugin, values in settings.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2), encoding="utf-8")
    return folder


@dataclass
class Server:
    """One ``jupyter lab`` or ``jupyter notebook`` serving ``root`` (a scratch copy)."""

    kind: str  # "lab" or "notebook"
    root: Path
    home: Path
    settings: Path
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    process: subprocess.Popen | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = {
            **os.environ,
            "HOME": str(self.home),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "JUPYTERLAB_SETTINGS_DIR": str(self.settings),
            "JUPYTER_CONFIG_DIR": str(self.home / ".jupyter"),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "LABKIT_STUDENT": STUDENT,
            MARK_VARIABLE: RUN_MARK,
        }
        for name in ("LABKIT_GRADING", "JUPYTERHUB_USER", "JUPYTER_PATH"):
            env.pop(name, None)
        app = "LabApp" if self.kind == "lab" else "JupyterNotebookApp"
        command = [
            str(BIN / "jupyter"),
            self.kind,
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--{app}.user_settings_dir={self.settings}",
        ]
        if os.getuid() == 0:
            command.append("--allow-root")
        self.log = self.home / f"jupyter-{self.kind}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: killpg stops it all
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"jupyter {self.kind} exited at start:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.api("status"), timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.25)
        self.stop()
        pytest.fail(f"jupyter {self.kind} did not answer in {SERVER_START_TIMEOUT} s")

    def api(self, path: str) -> str:
        return f"{self.url}/api/{path}?token={self.token}"

    def request(self, method: str, path: str) -> Any:
        request = urllib.request.Request(self.api(path), method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Shut every kernel down (each test opens a notebook: its kernel is not needed after)."""
        for kernel in self.request("GET", "kernels"):
            try:
                self.request("DELETE", f"kernels/{kernel['id']}")
            except OSError:
                pass

    def page_url(self, notebook: str, workspace: str = "default") -> str:
        if self.kind == "lab":
            return f"{self.url}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={self.token}"
        return f"{self.url}/notebooks/{notebook}?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Shut down through the API (kernels first), then kill the process group."""
        if self.process is None:
            return
        try:
            self.request("POST", "shutdown")
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


def scratch_copy(base: Path) -> Path:
    """notebooks/ copied (without labkit-answers or checkpoints) into ``base/work``."""
    work = base / "work"
    shutil.copytree(
        NOTEBOOKS,
        work,
        ignore=shutil.ignore_patterns("labkit-answers", ".ipynb_checkpoints", "__pycache__"),
    )
    return work


def start_server(base: Path, kind: str, settings: dict[str, dict[str, Any]]) -> Server:
    home = base / "home"
    home.mkdir(parents=True)
    folder = write_settings(base / "settings", settings)
    return Server(kind, scratch_copy(base), home, folder).start()


# -- driving a notebook page -------------------------------------------------------------------

_CELL_PROMPTS = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].map(cell => [
  (cell.querySelector('.jp-InputPrompt')?.textContent || '').trim(),
  (cell.querySelector('.cm-content')?.textContent || '').trim(),
])"""

_MAX_COUNT = """() => Math.max(0, ...[...document.querySelectorAll(
  '.jp-Notebook .jp-CodeCell .jp-InputPrompt')].map(p => parseInt(
    (p.textContent.match(/\\[(\\d+)\\]/) || [0, '0'])[1], 10)))"""

# Run All has started (a count above the one before) and stopped (nothing queued, kernel idle).
_RUN_FINISHED = """(before) => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
  const counts = prompts.map(
    p => parseInt((p.textContent.match(/\\[(\\d+)\\]/) || [0, '0'])[1], 10));
  const started = counts.some(c => c > before);
  const busy = prompts.some(p => p.textContent.includes('*'));
  const idle = [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator')]
    .some(e => e.getAttribute('data-status') === 'idle');
  return started && !busy && idle;
}"""


class NotebookPage:
    """A notebook open in JupyterLab or Notebook 7, driven as a student would."""

    def __init__(self, context: Any, server: Server, path: str, workspace: str = "default"):
        self.server = server
        self.path = path
        self.file = server.root / path
        self.workspace = re.sub(r"[^A-Za-z0-9-]", "-", workspace)
        self.page = context.new_page()
        self.page_errors: list[str] = []
        self.dialogs_met: list[str] = []
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    # -- the notebook file (the source of truth for tags) --------------------------------

    def model(self) -> dict[str, Any]:
        return json.loads(self.file.read_text(encoding="utf-8"))

    def cell_index(self, tag: str) -> int:
        for index, cell in enumerate(self.model()["cells"]):
            if tag in cell.get("metadata", {}).get("tags", []):
                return index
        raise AssertionError(f"{self.path} has no cell tagged {tag!r}")

    def cell(self, index: int) -> Any:
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    # -- actions ---------------------------------------------------------------------------

    def open(self) -> NotebookPage:
        self.page.goto(
            self.server.page_url(self.path, self.workspace), timeout=PAGE_LOAD_TIMEOUT_MS
        )
        self.wait_cells()
        self.dismiss_dialogs()
        self.wait_kernel_idle()
        return self

    def wait_cells(self) -> None:
        """Wait until every cell of the file is in the page (windowingMode none)."""
        self.page.wait_for_function(
            "(n) => document.querySelectorAll('.jp-Notebook .jp-Cell').length === n",
            arg=len(self.model()["cells"]),
            timeout=PAGE_LOAD_TIMEOUT_MS,
        )

    def reload(self) -> None:
        self.page.reload()
        self.wait_cells()
        self.wait_kernel_idle()

    def wait_kernel_idle(self, timeout: int = RUN_ALL_TIMEOUT_MS) -> None:
        indicator = self.page.locator(".jp-Notebook-ExecutionIndicator").first
        indicator.wait_for(timeout=timeout)
        self.page.wait_for_function(
            """() => [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator')]
                 .some(e => e.getAttribute('data-status') === 'idle')""",
            timeout=timeout,
        )

    def dismiss_dialogs(self) -> list[str]:
        """Close JupyterLab's modal dialogs (under load: "Select Kernel", "Kernel Restarting",
        "File Changed", a server connection notice), which block every click behind them.
        The kernel picker is accepted (its default is the notebook's python3 kernel), and so
        is "File Changed" (overwrite: the page holds the student's work); any other dialog
        gets its Cancel button (or its only one). Never raises; returns the titles
        of the dialogs met (also kept in ``dialogs_met`` for a failing test's message)."""
        met = []
        for _ in range(5):
            dialog = self.page.locator(".jp-Dialog").first
            try:
                if not dialog.is_visible():
                    break
                title = dialog.locator(".jp-Dialog-header").inner_text(timeout=5_000).strip()
            except Exception:
                break
            met.append(title)
            accept = dialog.locator(".jp-Dialog-button.jp-mod-accept")
            reject = dialog.locator(".jp-Dialog-button.jp-mod-reject")
            pick_kernel = "kernel" in title.lower() and "select" in title.lower()
            # "File Changed" on save: the page is what the student made, so it is kept
            overwrite = "file changed" in title.lower()
            button = accept if pick_kernel or overwrite or not reject.count() else reject
            try:
                button.first.click(timeout=ACTION_TIMEOUT_MS)
                dialog.wait_for(state="detached", timeout=ACTION_TIMEOUT_MS)
            except Exception:
                self.page.keyboard.press("Escape")
        self.dialogs_met.extend(met)
        return met

    def click(self, locator: Any, **options: Any) -> None:
        """Click ``locator``; when a modal dialog is in the way, close it and click again."""
        for attempt in range(3):
            try:
                locator.click(timeout=ACTION_TIMEOUT_MS, **options)
                return
            except Exception:
                if not self.dismiss_dialogs() and attempt == 2:
                    raise
        locator.click(timeout=ACTION_TIMEOUT_MS, **options)

    def menu(self, menu: str, item: str) -> None:
        self.click(self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")))
        self.click(
            self.page.locator(
                ".lm-Menu-content .lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")
            )
        )

    def run_all(self) -> None:
        """Run > Run All Cells, then wait until every code cell has run and the kernel is idle."""
        before = self.page.evaluate(_MAX_COUNT)
        for attempt in range(3):
            # a click while the kernel connection is still settling runs nothing: click again
            self.menu("Run", "Run All Cells")
            try:
                self.page.wait_for_function(
                    "(before) => [...document.querySelectorAll('.jp-InputPrompt')].some("
                    "p => p.textContent.includes('*') || (parseInt((p.textContent.match("
                    "/\\[(\\d+)\\]/) || [0, '0'])[1], 10) > before))",
                    arg=before,
                    timeout=20_000,
                )
                break
            except Exception:
                self.dismiss_dialogs()
                if attempt == 2:
                    raise
        self.page.wait_for_function(_RUN_FINISHED, arg=before, timeout=RUN_ALL_TIMEOUT_MS)
        prompts = self.page.evaluate(_CELL_PROMPTS)
        not_run = [
            n
            for n, (prompt, source) in enumerate(prompts)
            if source and not re.fullmatch(r"\[\d+\]:?", prompt)
        ]
        if not_run:
            code_cells = self.page.locator(".jp-Notebook .jp-CodeCell")
            last_ran = code_cells.nth(max(not_run[0] - 1, 0)).inner_text()
            raise AssertionError(
                f"{self.path}: Run All stopped at code cell {not_run[0]} "
                f"({prompts[not_run[0]][1][:60]!r}); the cell before it shows:\n{last_ran[-1500:]}"
                "\nproblems: " + "\n".join(self.problems()) + f"\ndialogs met: {self.dialogs_met}"
            )

    def run_cell(self, index: int) -> None:
        """Select a cell (click its prompt area) and press Shift+Enter, as a student does."""
        cell = self.cell(index)
        self.click(cell.locator(".jp-InputPrompt"))
        self.page.keyboard.press("Shift+Enter")
        self.page.wait_for_function(
            """(i) => { const c = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];
                        return /^\\[\\d+\\]:?$/.test(
                          (c.querySelector('.jp-InputPrompt')?.textContent || '').trim()); }""",
            arg=index,
            timeout=RUN_ALL_TIMEOUT_MS,
        )
        self.wait_kernel_idle()

    def save(self) -> None:
        """Ctrl+S, then wait until the notebook is no longer dirty and the file is written."""
        before = self.file.stat().st_mtime_ns
        self.click(self.page.locator(".jp-Notebook").first, position={"x": 5, "y": 5})
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + 30
        while self.file.stat().st_mtime_ns == before:
            assert time.monotonic() < deadline, (
                f"{self.path} was not saved by Ctrl+S (dialogs met: {self.dialogs_met})"
            )
            self.dismiss_dialogs()
            time.sleep(0.1)
        if self.server.kind == "lab":
            self.page.locator(".lm-TabBar-tab.jp-mod-dirty").wait_for(state="detached")

    # -- checks ----------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """What a student must never see: broken widgets, error outputs, page errors."""
        known = KNOWN_PAGE_ERRORS[self.server.kind]
        found = [f"page error: {error}" for error in self.page_errors if error not in known]
        broken = self.page.get_by_text("Error displaying widget").count()
        if broken:
            found.append(f"{broken} x 'Error displaying widget'")
        for text in self.page.locator(".jp-OutputArea-output").all_inner_texts():
            if "Traceback (most recent call last)" in text:
                found.append(f"a traceback in an output: {text[:300]}")
        found += [f"overflows its box: {item}" for item in self.overflowing()]
        return found

    def overflowing(self) -> list[str]:
        """labkit's elements in outputs whose content is wider than their box
        (``scrollWidth > clientWidth``): text cut off or a scroll bar at this width."""
        return self.page.evaluate(
            """() => Array.from(document.querySelectorAll(
                '.jp-OutputArea-output .labkit-box, .jp-OutputArea-output .labkit-choices, '
                + '.jp-OutputArea-output .labkit-overview, .jp-OutputArea-output .labkit-error'))
              .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
              .map(e => `${e.className}: ${e.scrollWidth} > ${e.clientWidth}: `
                        + e.innerText.slice(0, 80))"""
        )

    def axe_violations(self) -> list[str]:
        """axe-core (shipped inside the PyPI ``axe-playwright-python``, no network) run on the
        cells' outputs only (labkit's widgets and HTML; JupyterLab's own page is not ours): one
        line per violation and element."""
        from axe_playwright_python.sync_playwright import Axe

        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(Axe().axe_script)
        results = self.page.evaluate(
            """() => axe.run({include: [['.jp-OutputArea-output']]},
                             {resultTypes: ['violations']})"""
        )
        found = []
        for violation in results["violations"]:
            for node in violation["nodes"]:
                found.append(
                    f"{violation['id']} ({violation['impact']}): {violation['help']}: "
                    f"{' '.join(node['target'])}: {node.get('failureSummary', '')[:300]}"
                )
        return found

    def saved_error_outputs(self) -> list[str]:
        """Error outputs in the saved notebook (stderr stream outputs are allowed)."""
        errors = []
        for index, cell in enumerate(self.model()["cells"]):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    errors.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
        return errors

    def close(self) -> None:
        self.page.close()
