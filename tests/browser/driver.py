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
SUITE_LIMIT_SECONDS = 300  # printed beside the suite's time (the lab walks: about 3/4 of it)
SERVER_START_TIMEOUT = 90
# Generous: a wait returns as soon as its condition holds; a loaded machine (load 10 on two
# cores) once took 90 s to run a notebook's cells.
RUN_ALL_TIMEOUT_MS = 180_000
# A click, a fill, a wait for one element: generous, as the machine may be shared (a wait
# returns as soon as its condition holds, so this costs nothing when all is well).
ACTION_TIMEOUT_MS = 30_000
PAGE_LOAD_TIMEOUT_MS = 90_000
# One try of a click (a dialog in the way is closed between tries), and how long closing
# dialogs may take in all.
CLICK_TRY_MS = 10_000
# Cells a student ran that are neither queued nor run after this long were not run at all.
STALL_MS = 5_000
DIALOG_SECONDS = 10

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


def kill_marked(mark: str = RUN_MARK, settle: float = 0.0) -> list[tuple[int, str]]:
    """Kill, by pid, the marked processes still alive after ``settle`` seconds (a kernel whose
    server is gone ends itself within about a second, later on a loaded machine); returns what
    was left over."""
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline and marked_processes(mark):
        time.sleep(0.2)
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


# The first modal dialog's button pressed inside the page (returns its title, or None when there
# is no dialog): the kernel picker (when the notebook has no kernel), "File Changed" and titles
# holding a word of ``accept`` are accepted, any other dialog cancelled (or its only button).
# A dialog still there after its button was pressed gets Escape.
_PRESS_DIALOG_BUTTON = """(accept) => {
  const dialog = document.querySelector('.jp-Dialog');
  if (!dialog) return null;
  const title = (dialog.querySelector('.jp-Dialog-header')?.innerText || '').trim();
  const lower = title.toLowerCase();
  const escape = () => dialog.dispatchEvent(
    new KeyboardEvent('keydown', {key: 'Escape', keyCode: 27, bubbles: true}));
  if (dialog.dataset.labkitPressed) {
    escape();
    return title + ' (Escape)';
  }
  dialog.dataset.labkitPressed = '1';
  const buttons = [...dialog.querySelectorAll('.jp-Dialog-button')];
  const ok = dialog.querySelector('.jp-Dialog-button.jp-mod-accept') || buttons[buttons.length - 1];
  const cancel = dialog.querySelector('.jp-Dialog-button.jp-mod-reject');
  // the kernel picker is accepted only when the notebook has no kernel: accepted while one
  // runs, it starts another and shuts the running one down (the page's cells lost with it)
  const kernel = (document.querySelector('.jp-Toolbar-kernelName')?.textContent || '').trim();
  const noKernel = !kernel || kernel === 'No Kernel';
  const keep = (lower.includes('kernel') && lower.includes('select') && noKernel)
    || lower.includes('file changed') || accept.some(word => lower.includes(word));
  const button = keep || !cancel ? ok : cancel;
  if (button) button.click();
  else escape();
  return title;
}"""


# Every code cell with code in [first, last] shows a count above ``before``; none is queued.
_RANGE_RAN = """([first, last, before, stallMs]) => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')].slice(first, last + 1);
  const pending = [];
  let queued = false;
  cells.forEach((cell, n) => {
    if (!cell.classList.contains('jp-CodeCell')) return;
    if (!(cell.querySelector('.cm-content')?.textContent || '').trim()) return;
    const prompt = (cell.querySelector('.jp-InputPrompt')?.textContent || '').trim();
    if (prompt.includes('*')) { queued = true; return; }
    const match = prompt.match(/^\\[(\\d+)\\]/);
    if (!(match && parseInt(match[1], 10) > before)) pending.push(first + n);
  });
  if (!pending.length && !queued) return 'done';
  const key = pending.join(',') + (queued ? '*' : '');
  const now = performance.now();
  if (queued || !window.labkitStall || window.labkitStall.key !== key) {
    window.labkitStall = {key, since: now};
    return false;
  }
  return now - window.labkitStall.since > stallMs ? 'stalled:' + pending[0] : false;
}"""


# Sets window.labkitQueued once any input prompt shows "*" (a cell queued or running).
_WATCH_QUEUED = """() => {
  window.labkitQueued = false;
  const notebook = document.querySelector('.jp-Notebook');
  const observer = new MutationObserver(() => {
    if ([...notebook.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'))) {
      window.labkitQueued = true;
      observer.disconnect();
    }
  });
  observer.observe(notebook, {subtree: true, childList: true, characterData: true});
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
        """The notebook file as JSON. The server writes a save in place (its backup aside), so
        a read during a save can see half a file: read again until it is whole (10 s)."""
        deadline = time.monotonic() + 10
        while True:
            try:
                return json.loads(self.file.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

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

    def dismiss_dialogs(self, accept: tuple[str, ...] = ()) -> list[str]:
        """Close JupyterLab's modal dialogs (under load: "Select Kernel", "Kernel Restarting",
        "File Changed", a server connection notice), which block every click behind them.
        The kernel picker is accepted (its default is the notebook's python3 kernel), and so
        is "File Changed" (overwrite: the page holds the student's work) and any dialog whose
        title holds a word of ``accept``; any other dialog gets its Cancel button (or its only
        one). Never raises and never waits long: each dialog's button is pressed inside the page
        (no wait for an actionable element, which is what hung under load), and the whole call
        gives up after a few seconds. Returns the titles of the dialogs met (also kept in
        ``dialogs_met`` for a failing test's message)."""
        met: list[str] = []
        deadline = time.monotonic() + DIALOG_SECONDS
        while time.monotonic() < deadline:
            try:
                title = self.page.evaluate(_PRESS_DIALOG_BUTTON, [w.lower() for w in accept])
            except Exception:  # the page is navigating or closed: nothing to press now
                break
            if title is None:
                break
            met.append(title)
            try:  # the dialog goes away once its button's promise settles
                self.page.wait_for_function(
                    "() => !document.querySelector('.jp-Dialog[data-labkit-pressed]')",
                    timeout=2_000,
                )
            except Exception:
                pass  # still there: the next round presses Escape on it
        self.dialogs_met.extend(met)
        return met

    def click(self, locator: Any, **options: Any) -> None:
        """Click ``locator``; a modal dialog in the way is closed first (and again between
        tries), so no click waits behind one."""
        for attempt in range(4):
            self.dismiss_dialogs()
            try:
                timeout = CLICK_TRY_MS if attempt < 3 else ACTION_TIMEOUT_MS
                locator.click(timeout=timeout, **options)
                return
            except Exception:
                if attempt == 3:
                    raise

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
        try:
            self.page.wait_for_function(_RUN_FINISHED, arg=before, timeout=RUN_ALL_TIMEOUT_MS)
        except Exception:
            raise AssertionError(
                f"{self.path}: Run All did not finish; prompts: "
                f"{[p for p, _ in self.page.evaluate(_CELL_PROMPTS)]}\ndialogs met: "
                f"{self.dialogs_met}\nproblems: {self.problems()}\n"
                f"the server's log ends:\n{self.server.log_tail(15)}"
            ) from None
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

    def count(self) -> int:
        """The highest execution count shown in the page."""
        return int(self.page.evaluate(_MAX_COUNT))

    def run_cells(self, first: int, last: int) -> None:
        """Select cells ``first``..``last`` (click the first's prompt, Shift+click the last's)
        and press Shift+Enter, as a student runs a few cells; wait until each code cell among
        them that has code shows a new count and the kernel is idle. Keys pressed while the
        kernel connection settles can run nothing: when none of the cells left is queued for
        a few seconds, they are selected and run again (at most twice)."""
        before = self.count()
        for attempt in range(3):
            self.click(self.cell(first).locator(".jp-InputPrompt"))
            if last != first:
                self.click(self.cell(last).locator(".jp-InputPrompt"), modifiers=["Shift"])
            self.page.keyboard.press("Shift+Enter")
            left = self.wait_ran(first, last, before, last_try=attempt == 2)
            if left is None:
                return
            first = left

    def wait_ran(self, first: int, last: int, before: int, last_try: bool = True) -> int | None:
        """Wait until every code cell with code in ``first``..``last`` shows a count above
        ``before`` and the kernel is idle (None). When none of the cells left has been queued
        for STALL_MS, returns the first of them, or (``last_try``) fails naming it."""
        self.page.evaluate("() => { window.labkitStall = null; }")
        try:
            state = self.page.wait_for_function(
                _RANGE_RAN, arg=[first, last, before, STALL_MS], timeout=RUN_ALL_TIMEOUT_MS
            ).json_value()
        except Exception:
            state = "timed out"
        if state == "done":
            self.wait_kernel_idle()
            return None
        if not last_try and state.startswith("stalled:"):
            return int(state.removeprefix("stalled:"))
        prompts = self._prompts(first, last)
        ran = [n for n, prompt in enumerate(prompts) if re.match(r"\[\d+\]", prompt)]
        shows = self.cell(first + ran[-1]).inner_text()[-1500:] if ran else ""
        raise AssertionError(
            f"{self.path}: cells {first}..{last} did not all run ({state}); prompts: {prompts}\n"
            f"the last that ran (cell {first + ran[-1] if ran else '-'}) shows:\n{shows}\n"
            f"dialogs met: {self.dialogs_met}\nproblems: {self.problems()}\n"
            f"the server's log ends:\n{self.server.log_tail(15)}"
        )

    def _prompts(self, first: int, last: int) -> list[str]:
        return self.page.evaluate(
            """([first, last]) => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]
                 .slice(first, last + 1).map(c => (c.querySelector('.jp-InputPrompt')
                 ?.textContent || '').trim())""",
            [first, last],
        )

    def insert_cell_below(self, index: int, source: str) -> int:
        """A new code cell right below cell ``index`` (its prompt clicked, then B), with
        ``source`` typed into it; returns the new cell's index (not run yet)."""
        cells = self.page.locator(".jp-Notebook .jp-Cell")
        count = cells.count()
        self.click(self.cell(index).locator(".jp-InputPrompt"))
        self.page.keyboard.press("Escape")  # command mode
        self.page.keyboard.press("b")
        self.page.wait_for_function(
            "(n) => document.querySelectorAll('.jp-Notebook .jp-Cell').length === n",
            arg=count + 1,
        )
        self.set_source(index + 1, source)
        return index + 1

    def set_source(self, index: int, source: str) -> None:
        """Replace the code of cell ``index`` (click into it, select all, type)."""
        editor = self.cell(index).locator(".cm-content")
        self.click(editor)
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(source)
        typed = editor.inner_text()
        if " ".join(typed.split()) != " ".join(source.split()):
            raise AssertionError(f"cell {index} reads {typed!r} after typing {source!r}")

    def restart_and_run_all(self) -> int | None:
        """Kernel > Restart Kernel and Run All Cells…, confirmed; wait until the cells were
        queued again (a prompt showed ``*``, seen by a MutationObserver so no poll misses it)
        and the run is over (nothing queued, the kernel idle). Returns None when every code
        cell ran again, counting from 1, or the index of the first cell with code that did not
        run (JupyterLab's Run All stops at a cell that fails)."""
        self.page.evaluate(_WATCH_QUEUED)
        self.menu("Kernel", "Restart Kernel and Run All Cells…")
        self.page.locator(".jp-Dialog").first.wait_for()
        met = self.dismiss_dialogs(accept=("restart",))
        assert any("restart" in title.lower() for title in met), f"no restart dialog: {met}"
        self.page.wait_for_function("() => window.labkitQueued", timeout=RUN_ALL_TIMEOUT_MS)
        self.page.wait_for_function(_RUN_FINISHED, arg=0, timeout=RUN_ALL_TIMEOUT_MS)
        prompts = self.page.evaluate(_CELL_PROMPTS)
        counts = [p for p, source in prompts if source]
        assert counts and counts[0] in ("[1]:", "[1]"), f"not run from a new kernel: {counts}"
        cells = self.page.evaluate(
            """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map(c =>
                 c.classList.contains('jp-CodeCell')
                 && !!(c.querySelector('.cm-content')?.textContent || '').trim()
                 && !/^\\[\\d+\\]/.test(
                   (c.querySelector('.jp-InputPrompt')?.textContent || '').trim()))"""
        )
        return cells.index(True) if True in cells else None

    def theme(self) -> str:
        return self.page.locator("body").get_attribute("data-jp-theme-name") or ""

    def set_theme(self, name: str) -> None:
        """Settings > Theme > ``name`` (JupyterLab Light / JupyterLab Dark) in this page; wait
        until the page shows it."""
        if self.theme() == name:
            return
        self.click(self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")))
        self.click(
            self.page.locator(".lm-Menu-content .lm-Menu-itemLabel", has_text=re.compile("^Theme$"))
        )
        self.click(
            self.page.locator(
                ".lm-Menu-content .lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(name)}$")
            )
        )
        self.page.wait_for_function(
            "(name) => document.body.getAttribute('data-jp-theme-name') === name", arg=name
        )

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
        found += [f"spaced wider than text: {item}" for item in self.widely_spaced()]
        return found

    def widely_spaced(self) -> list[str]:
        """The text of labkit's exercises (prompt, options, feedback, hints) whose lines stand
        further apart than the notebook's own text (a line height over 1.8 times the font size,
        ipywidgets' 28 px: a prompt or an option that wraps looks like two)."""
        return self.page.evaluate(
            """() => Array.from(document.querySelectorAll(
                '.jp-OutputArea-output .labkit-exercise .widget-html-content'))
              .filter(e => e.offsetParent !== null && e.innerText.trim())
              .map(e => [e, getComputedStyle(e)])
              .filter(([e, s]) => parseFloat(s.lineHeight) > 1.8 * parseFloat(s.fontSize))
              .map(([e, s]) => `line height ${s.lineHeight} for ${s.fontSize}: `
                               + e.innerText.slice(0, 60))"""
        )

    def overflowing(self) -> list[str]:
        """labkit's elements in outputs (any class ``labkit-…``: boxes, titles, choices, letters,
        the Check button, scans, overviews, errors) whose content is wider than their box
        (``scrollWidth > clientWidth``): text cut off or a scroll bar at this width."""
        return self.page.evaluate(
            """() => Array.from(document.querySelectorAll(
                '.jp-OutputArea-output [class*="labkit-"]'))
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
