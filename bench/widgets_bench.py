"""How long a kernel takes to import labkit with the widgets and build every widget of a lab.

Each run is a fresh subprocess (imports are cached within a process): it imports labkit,
labkit.session and ipywidgets, starts the demo lab in a scratch folder and builds every
exercise widget, the header, the explorer, the browser, the permission matrix and the scan view.
The goal is under 0.5 s. Prints the median and the spread of the runs, and what was imported.

    .venv/bin/python bench/widgets_bench.py [RUNS]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
import labkit
import ipywidgets
from labkit.session import LabSession
from labkit.labs import get_lab
t_import = time.perf_counter() - t0
lab = LabSession(get_lab("demo"), "bench-student", folder=sys.argv[1])
for exercise in lab.definition.exercises:
    lab.view(exercise.id)
lab.header()
lab.explorer("alpine")
lab.browser()
lab.permissions(lab.params["org"], registry="docker.io")
lab.scan("alpine:3.21")
total = time.perf_counter() - t0
heavy = sorted(m for m in ("nbformat", "nbclient", "jsonschema") if m in sys.modules)
print(json.dumps({"import": t_import, "total": total, "heavy": heavy}))
"""


def run_once() -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, folder],
            check=True,
            capture_output=True,
            text=True,
            env={"HOME": folder, "PATH": "/usr/bin:/bin"},
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    results = [run_once() for _ in range(runs)]
    imports = [r["import"] for r in results]
    totals = [r["total"] for r in results]
    print(f"runs: {runs} (fresh subprocess each)")
    print(
        f"import labkit + labkit.session + ipywidgets: median {statistics.median(imports):.3f} s"
        f" (min {min(imports):.3f}, max {max(imports):.3f})"
    )
    print(
        f"... and build every widget of the demo lab: median {statistics.median(totals):.3f} s"
        f" (min {min(totals):.3f}, max {max(totals):.3f}); goal < 0.5 s"
    )
    heavy = sorted({m for r in results for m in r["heavy"]})
    print(f"heavy modules imported: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
