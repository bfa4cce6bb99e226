"""The JupyterLite site: time from opening a lab's page to labkit's first output, cold and warm.

Builds the site if needed (``make lite``'s build), serves it on loopback, and opens
``00-start-here`` in headless Chromium with every request outside loopback aborted. Cold: a new
browser context (empty cache, no service worker). Warm: the same context opening the page again
(the browser's cache). Each time: from ``page.goto`` to the set-up cell's header ("variant for:"),
the set-up cell being run as soon as the notebook is shown. Also prints the site's size and what
a first visit downloads.

Run: ``.venv/bin/python bench/lite_bench.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("lite_site", ROOT / "tests" / "lite" / "site.py")
assert spec is not None and spec.loader is not None
site = importlib.util.module_from_spec(spec)
spec.loader.exec_module(site)

TARGET_COLD_S = 10.0
TARGET_WARM_S = 3.0


def first_output(page, base: str) -> tuple[float, float]:
    """(seconds to the notebook shown, to labkit's first output)."""
    lite = site.LitePage(page, base, "00-start-here.ipynb")
    started = time.monotonic()
    page.goto(lite.url)
    lite.wait_ready()
    shown = time.monotonic() - started
    # the student runs the set-up cell as soon as the notebook shows (queued while the kernel
    # starts, as a click on Run would be)
    page.evaluate(
        "(i) => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = i; }",
        lite.index("setup"),
    )
    lite.command("notebook:run-cell")
    page.wait_for_function(
        """() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.toJSON()
            .cells.some(c => (c.outputs || [])
                .some(o => JSON.stringify(o).includes('variant for')))""",
        timeout=site.KERNEL_TIMEOUT_MS,
        polling=100,
    )
    return shown, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="cold/warm pairs (default 2)")
    args = parser.parse_args()
    folder = site.build_site()
    files = [p for p in folder.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    server = site.StaticServer(folder)
    browser = site.Browser()
    transferred: list[int] = []
    cold, warm = [], []
    try:
        for _ in range(args.runs):
            context = browser.new_context()
            sizes: list[int] = []
            context.on(
                "requestfinished",
                lambda r, sizes=sizes: sizes.append(r.sizes().get("responseBodySize", 0)),
            )
            page = context.new_page()
            cold.append(first_output(page, server.url))
            transferred.append(sum(sizes))
            page.close()
            page = context.new_page()
            warm.append(first_output(page, server.url))
            context.close()
    finally:
        browser.close()
        server.stop()
    print(f"site: {size / 2**20:.1f} MiB in {len(files)} files ({folder})")
    print(f"first visit transfers: {statistics.median(transferred) / 2**20:.1f} MiB")
    for name, runs, target in (("cold", cold, TARGET_COLD_S), ("warm", warm, TARGET_WARM_S)):
        shown, output = (statistics.median(r[i] for r in runs) for i in range(2))
        print(
            f"{name}: first labkit output {output:.1f} s (target {target:g} s; notebook shown "
            f"{shown:.1f} s; runs: " + ", ".join(f"{r[1]:.1f}" for r in runs) + ")"
        )
    print(f"requests outside loopback: {len(browser.blocked)}")
    return 0 if not browser.blocked else 1


if __name__ == "__main__":
    sys.exit(main())
