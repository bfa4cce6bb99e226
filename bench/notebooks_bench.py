"""How long each lab notebook takes to run in a fresh kernel, and how much memory kernels hold.

Prints, per notebook: kernel start, execution time beyond the kernel start, and the kernel's
resident memory at the end; then the memory of ONE kernel that ran every notebook in turn (the
goal: each lab under 3 s beyond kernel start, and under 150 MB for a kernel that ran them all;
a bare kernel holds about 53 MB here). Runs on a scratch copy of notebooks/ with a scratch HOME.

    .venv/bin/python bench/notebooks_bench.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def kernel_pid(client) -> int:
    return client.km.provisioner.process.pid


def main() -> None:
    import nbformat
    from nbclient import NotebookClient

    scratch = Path(tempfile.mkdtemp(prefix="labkit-bench-"))
    try:
        shutil.copytree(ROOT / "notebooks", scratch / "notebooks")
        (scratch / "home").mkdir()
        os.environ["HOME"] = str(scratch / "home")
        os.environ.setdefault("LABKIT_STUDENT", "bench-student")
        paths = sorted((scratch / "notebooks").glob("*.ipynb"))
        resources = {"metadata": {"path": str(scratch / "notebooks")}}
        print(f"{'notebook':32} {'kernel start':>12} {'execution':>10} {'kernel RSS':>11}")
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(nb, timeout=120, kernel_name="python3", resources=resources)
            started = time.perf_counter()
            with client.setup_kernel(stderr=subprocess.DEVNULL):
                ready = time.perf_counter()
                for index, cell in enumerate(nb.cells):
                    client.execute_cell(cell, index)
                done = time.perf_counter()
                memory = rss_mb(kernel_pid(client))
            print(f"{path.stem:32} {ready - started:11.2f}s {done - ready:9.2f}s {memory:9.1f} MB")
        # One kernel that runs every notebook in turn, from a fresh start: the records the runs
        # above saved would replay each lab's world (05's organization would exist already)
        shutil.rmtree(scratch / "notebooks" / "labkit-answers", ignore_errors=True)
        first = nbformat.read(paths[0], as_version=4)
        client = NotebookClient(first, timeout=120, kernel_name="python3", resources=resources)
        with client.setup_kernel(stderr=subprocess.DEVNULL):
            bare = rss_mb(kernel_pid(client))
            for path in paths:
                nb = nbformat.read(path, as_version=4)
                client.nb = nb
                for index, cell in enumerate(nb.cells):
                    client.execute_cell(cell, index)
            total = rss_mb(kernel_pid(client))
        print(f"one kernel: {bare:.1f} MB when started, {total:.1f} MB after all {len(paths)} labs")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
