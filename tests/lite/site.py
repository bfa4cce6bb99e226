"""The JupyterLite site in headless Chromium, offline: build it (cached by its inputs), serve it on
loopback, and drive JupyterLab through its own command registry (``window.jupyterapp``).

Every request whose host is not loopback (and that is not ``data:`` or ``blob:``) is aborted
and logged in ``Site.blocked``; Chromium also gets a proxy that does not exist for every host
but loopback, so nothing could leave even past the route.
"""

from __future__ import annotations

import base64
import functools
import http.server
import importlib.util
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "build" / "lite"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-pings",
    "--disable-quic",
    # nothing but loopback could be reached even if a request got past the route
    "--proxy-server=http://127.0.0.1:9",
]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
KERNEL_TIMEOUT_MS = 120_000
RUN_TIMEOUT_MS = 120_000


def build_site() -> Path:
    """``make lite``'s build (skipped when the inputs did not change)."""
    spec = importlib.util.spec_from_file_location(
        "lite_build", ROOT / "deploy" / "lite" / "build.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build(SITE)


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - the base class's own attribute
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".json": "application/json",
        ".whl": "application/octet-stream",
    }

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class StaticServer:
    """``python -m http.server`` for the site, on 127.0.0.1 and a free port, in a thread."""

    def __init__(self, folder: Path) -> None:
        handler = functools.partial(_Handler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="lite-site")
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-extension"):
        return True
    return parts.hostname in LOOPBACK


class Browser:
    """Chromium with one context whose every non-loopback request is aborted and logged."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self.blocked: list[str] = []
        self._playwright = sync_playwright().start()
        self.browser = self._playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )

    def new_context(self, downloads: bool = True) -> Any:
        context = self.browser.new_context(
            accept_downloads=downloads, viewport={"width": 1400, "height": 1000}
        )
        context.route("**/*", self._route)
        context.on("request", self._watch)
        return context

    def _route(self, route: Any) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _watch(self, request: Any) -> None:  # what the route may not see (service workers)
        if not is_local(request.url) and request.url not in self.blocked:
            self.blocked.append(request.url)

    def close(self) -> None:
        self.browser.close()
        self._playwright.stop()


class LitePage:
    """One notebook of the site, open in JupyterLite's JupyterLab."""

    def __init__(self, page: Any, base: str, path: str) -> None:
        self.page = page
        self.base = base
        self.path = path

    @property
    def url(self) -> str:
        return f"{self.base}/lab/index.html?path={self.path}"

    def open(self) -> LitePage:
        self.page.goto(self.url)
        self.wait_ready()
        return self

    def reload(self) -> None:
        self.page.reload()
        self.wait_ready()

    def wait_ready(self) -> None:
        from playwright.sync_api import TimeoutError as PageTimeout

        try:
            self._wait_ready()
        except PageTimeout:
            raise AssertionError(f"{self.path} not ready: {self.state()}") from None

    def _wait_ready(self) -> None:
        self.page.wait_for_function(
            """(path) => {
                const app = window.jupyterapp;
                if (!app) return false;
                const w = app.shell.currentWidget;
                if (!(w && w.context && w.context.path === path)) {
                    // a restored workspace may bring another notebook to the front
                    for (const other of app.shell.widgets('main')) {
                        if (other.context && other.context.path === path) {
                            app.shell.activateById(other.id);
                        }
                    }
                    return false;
                }
                return w.content
                    && w.content.model && w.content.widgets.length > 0
                    && w.sessionContext && w.sessionContext.session
                    && w.sessionContext.session.kernel;
            }""",
            arg=self.path,
            timeout=KERNEL_TIMEOUT_MS,
        )

    def state(self) -> Any:
        """What the page shows (for a failure's message)."""
        return self.page.evaluate(
            """() => { const app = window.jupyterapp; if (!app) return 'no app yet';
                const main = [...app.shell.widgets('main')].map(w => w.context && w.context.path);
                const w = app.shell.currentWidget;
                const k = w && w.sessionContext && w.sessionContext.session
                    && w.sessionContext.session.kernel;
                return {main, current: w && w.context && w.context.path,
                        kernel: k ? k.status : null}; }"""
        )

    def evaluate(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def wait_idle(self, timeout: int = RUN_TIMEOUT_MS) -> None:
        """Every cell ran (none waiting or running) and the kernel is idle."""
        self.page.wait_for_function(
            """() => {
                const w = window.jupyterapp.shell.currentWidget;
                const k = w.sessionContext.session && w.sessionContext.session.kernel;
                const busy = w.content.widgets.some(c => c.model.type === 'code'
                    && (c.model.executionState === 'running'
                        || c.promptNode?.textContent.includes('*')));
                return k && k.status === 'idle' && !busy;
            }""",
            timeout=timeout,
            polling=250,
        )

    def command(self, name: str, args: dict[str, Any] | None = None) -> Any:
        return self.page.evaluate(
            "([n, a]) => window.jupyterapp.commands.execute(n, a)", [name, args or {}]
        )

    def cells(self) -> list[dict[str, Any]]:
        """The notebook's cells as the model holds them (source, outputs, metadata)."""
        return self.page.evaluate(
            "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.toJSON().cells"
        )

    def index(self, tag: str) -> int:
        for i, cell in enumerate(self.cells()):
            if tag in (cell.get("metadata") or {}).get("tags", []):
                return i
        raise AssertionError(f"no cell tagged {tag!r} in {self.path}")

    def insert_code(self, index: int, source: str, cell_id: str) -> None:
        self.page.evaluate(
            """([i, s, id]) => window.jupyterapp.shell.currentWidget.content.model.sharedModel
                .insertCell(i, {cell_type: 'code', source: s, metadata: {tags: [id]}})""",
            [index, source, cell_id],
        )

    def run_cell(self, index: int) -> None:
        self.page.evaluate(
            """(i) => { const nb = window.jupyterapp.shell.currentWidget.content;
                        nb.activeCellIndex = i; }""",
            index,
        )
        self.command("notebook:run-cell")
        self.wait_idle()

    def run_all(self) -> None:
        self.command("notebook:run-all-cells")
        time.sleep(0.5)
        self.wait_idle()

    def save(self) -> None:
        self.command("docmanager:save")
        self.page.wait_for_function(
            "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000
        )

    def output_text(self, index: int) -> str:
        outputs = self.cells()[index].get("outputs") or []
        parts = []
        for output in outputs:
            if "text" in output:
                parts.append("".join(output["text"]))
            data = output.get("data") or {}
            for mime in ("text/plain", "text/html"):
                if mime in data:
                    value = data[mime]
                    parts.append(value if isinstance(value, str) else "".join(value))
        return "\n".join(parts)

    def errors(self) -> list[str]:
        """Exceptions the cells raised (stderr is Docker's own, as in a real kernel), and
        Python warnings."""
        found = []
        for i, cell in enumerate(self.cells()):
            for output in cell.get("outputs") or []:
                text = "".join(output.get("text") or "")
                if output.get("output_type") == "error":
                    found.append(f"cell {i}: {output.get('ename')}: {output.get('evalue')}"[:400])
                elif output.get("name") == "stderr" and "Warning:" in text:
                    found.append(f"cell {i}: {text}"[:400])
        return found

    def read_file(self, path: str) -> str:
        """A file of the site's storage (the browser's IndexedDB), as JupyterLite serves it."""
        model = self.page.evaluate(
            """async (p) => {
                const m = await window.jupyterapp.serviceManager.contents.get(p, {content: true});
                return {format: m.format, content: typeof m.content === 'string'
                    ? m.content : JSON.stringify(m.content)};
            }""",
            path,
        )
        if model["format"] == "base64":  # what the kernel wrote through its drive
            return base64.b64decode(model["content"]).decode("utf-8")
        return model["content"]

    def notebook_json(self) -> dict[str, Any]:
        return json.loads(
            self.page.evaluate(
                "() => JSON.stringify(window.jupyterapp.shell.currentWidget.context.model.toJSON())"
            )
        )


def main() -> None:  # a manual look: python tests/lite/site.py
    site = build_site()
    server = StaticServer(site)
    browser = Browser()
    try:
        page = browser.new_context().new_page()
        page.on("console", lambda m: print("console:", m.text[:200]))
        started = time.monotonic()
        lite = LitePage(page, server.url, "00-start-here.ipynb").open()
        print(f"ready in {time.monotonic() - started:.1f} s")
        lite.run_cell(lite.index("setup"))
        print(f"first output in {time.monotonic() - started:.1f} s")
        print(lite.output_text(lite.index("setup"))[:500])
        lite.run_all()
        print("errors:", lite.errors())
        print("blocked:", browser.blocked)
    finally:
        browser.close()
        server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
