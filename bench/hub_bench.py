"""labkit on JupyterHub: how long a class takes, measured on this machine.

1. A real hub (deploy/jupyterhub/ with configurable-http-proxy, PAM, a server per Unix user) on
   loopback, the flow of tests/hub: hub start; nbgrader's release and fetch; each of two
   students logs in in headless Chromium and their server is ready with the lab open; the lab's
   Run All; the memory of a student's server and kernel; ``labkit collect --hub`` and
   ``labkit grade`` for the class; nbgrader's submit and collect.
2. ``labkit collect --hub`` for 500 students from a stand-in hub on loopback (the client's own
   cost: 1,000 listings and 1,500 downloads), then ``labkit grade -j 2`` on what it wrote.

Needs root (it creates and removes Unix users), Chromium, ``make node-deps`` and
``make nbgrader-lib``; otherwise it says so and measures part 2 only.

    .venv/bin/python bench/hub_bench.py [--students 500] [--skip-hub]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def real_hub() -> dict[str, float] | str:
    if os.getuid() != 0:
        return "skipped: needs root (it creates Unix users)"
    if not (ROOT / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        return "skipped: configurable-http-proxy is missing (make node-deps)"
    if not (ROOT / "build" / "nbgrader-lib" / "nbgrader").exists():
        return "skipped: nbgrader is missing (make nbgrader-lib)"
    from hub.classroom import (
        browser_session,
        class_on_hub,
        collect_and_grade,
        release_and_fetch,
        students_work,
        submit_and_collect,
    )

    with class_on_hub() as run, browser_session() as browser:
        release_and_fetch(run)
        students_work(run, browser)
        collect_and_grade(run)
        submit_and_collect(run)
        for page in run.pages.values():
            page.close()
    figures = {k: v for k, v in run.figures.items() if isinstance(v, float | int)}
    return figures


def stand_in_class(students: int) -> dict[str, float]:
    from grading.fakehub import TOKEN, FakeHub, entry, serve

    notebook = (ROOT / "notebooks" / "01-tags.ipynb").read_bytes()
    record = json.dumps(
        {"lab": "01-tags", "student": "x", "answers": {}, "events": [], "fingerprint": ""}
    ).encode()
    fake = FakeHub()
    server = serve(fake)
    fake.json("/hub/api/user", {"kind": "service", "name": "labkit-collect"})
    names = [f"s{n:04d}" for n in range(students)]
    fake.json(
        "/hub/api/users",
        {"items": [{"name": n, "groups": ["students"]} for n in names], "_pagination": {}},
    )
    for name in names:
        fake.folder(
            name,
            "labs",
            [entry("01-tags.ipynb", size=len(notebook)), entry("labkit-answers", "directory")],
        )
        fake.folder(name, "labs/labkit-answers", [entry("01-tags.json", "file")])
        fake.file(f"/user/{name}/files/labs/01-tags.ipynb", notebook)
        fake.file(f"/user/{name}/files/labs/labkit-answers/01-tags.json", record)
    scratch = Path(tempfile.mkdtemp(prefix="labkit-hub-bench-"))
    token = scratch / "token"
    token.write_text(TOKEN)
    figures: dict[str, float] = {}
    try:
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "labkit.cli",
                "collect",
                "--hub",
                fake.url,
                "--token-file",
                str(token),
                "-o",
                str(scratch / "class"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        figures["collect_s"] = time.monotonic() - started
        assert f"collected {students} of {students}" in done.stdout, done.stdout[-500:]
        started = time.monotonic()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "labkit.cli",
                "grade",
                str(scratch / "class"),
                "--roster",
                str(scratch / "class" / "roster.csv"),
                "-o",
                str(scratch / "grades" / "grades.csv"),
                "-j",
                "2",
                "--no-progress",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        figures["grade_s"] = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(scratch, ignore_errors=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--skip-hub", action="store_true")
    args = parser.parse_args()
    print("labkit on JupyterHub (2 cores; times in seconds)")
    if not args.skip_hub:
        figures = real_hub()
        if isinstance(figures, str):
            print(f"real hub: {figures}")
        else:
            print("real hub, 2 students in Chromium (tests/hub flow):")
            for key, value in figures.items():
                if key == "left_over_processes":
                    print(f"  {key:34} {value:8d}")
                    continue
                unit = "MB" if key.endswith("_mb") or "_mb." in key else "s"
                print(f"  {key:34} {value:8.2f} {unit}")
    figures = stand_in_class(args.students)
    print(f"stand-in hub, {args.students} students (01-tags notebook and record each):")
    print(f"  labkit collect --hub              {figures['collect_s']:8.2f} s")
    print(f"  labkit grade -j 2                 {figures['grade_s']:8.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
