"""Each bench at a base commit and at HEAD, in one run, so that load weighs on both alike.

    .venv/bin/python bench/compare.py BASE [--head REV] [--reps 3] [--only client,world]
    make bench-compare BASE=<rev>

BASE (and ``--head REV``, default: this checkout as it is) is checked out into a temporary git
worktree (removed at the end), its byte code compiled before the first run. Both run with this
checkout's venv, each with ``PYTHONPATH`` set to its own tree, and both with HEAD's bench
scripts (copied into BASE's tree, so each figure is measured the same way on both sides; a
bench whose HEAD script fails with BASE's labkit, say on an API BASE lacks, runs BASE's own
script at BASE from then on, and says so; with ``--own-benches`` each side runs its own); a
bench's notebooks, data and labkit are its tree's.
Before anything runs, ``import labkit`` is checked to come from the tree it should.

The benches run alternately, ``--reps`` times each side: base, head, head, base, base, head... (so
a slow spell falls on both sides, whichever was first), every figure a bench prints is read from
its output, and the table gives each figure's median at BASE and at HEAD, the change, and whether
HEAD is within 10% of BASE (in the figure's good direction: a faster or smaller HEAD is always
within); then the same for each side's best run (the fastest, or the highest throughput): load
only ever slows a run down, so on a loaded machine a median gap that the best runs do not show
is the load's, not the code's. Each bench also gets one figure of its own: the CPU time of its
whole process tree (the bench, its servers and kernels), which load moves far less than wall
time. The exit status is 1 when a median is not within 10%. The load
average is printed before and after: figures taken under load are ratios, not speeds.

Benches run quickly enough for this: client, world, reference, widgets, notebooks, grading
(default mode, 200 students), registry (a 256 MiB layer instead of 1 GiB) and hub (the stand-in
hub's 500 students; the real hub part needs Unix users and minutes). The JupyterLite bench is
left out: it builds a JupyterLite site from each tree (a wheel and a ``jupyter lite build``,
minutes each) and times Chromium's first load, which depends on the site's build more than on
labkit's code.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TOLERANCE = 0.10
# The CPU time of a bench's whole process tree (it, its servers and kernels): what the code costs,
# much less moved by the machine's load than the wall-clock figures the benches print.
CPU = "CPU time, the whole bench run (s)"
OWN = "bench-own"  # BASE's own bench scripts, in its tree, beside HEAD's copied into bench/

Figures = dict[str, float]


@dataclass(frozen=True)
class Bench:
    name: str
    args: tuple[str, ...]
    read: Callable[[str], Figures]
    lower_is_better: Callable[[str], bool] = lambda figure: True


def _rows(pattern: str, text: str, name: Callable[[re.Match[str]], str], group: int) -> Figures:
    return {
        name(m): float(m.group(group).replace(",", "")) for m in re.finditer(pattern, text, re.M)
    }


def _read_client(text: str) -> Figures:
    return {
        **_rows(r"median ([\d.]+) ms", text, lambda m: "100 commands, median (ms)", 1),
        **_rows(r"peak RSS ([\d.]+) MB", text, lambda m: "process peak RSS (MB)", 1),
    }


def _read_world(text: str) -> Figures:
    return _rows(r"^(\S.*?|  \S.*?)\s{2,}([\d.]+) (ms|MB)\b", text, _world_name, 2)


def _world_name(m: re.Match[str]) -> str:
    return f"{m.group(1).strip()} ({m.group(3)})"


def _read_reference(text: str) -> Figures:
    figures = _rows(
        r"^labkit parse_reference \((\w+)\)\s+([\d,]+) parses/s",
        text,
        lambda m: f"parse_reference, {m.group(1)} (parses/s)",
        2,
    )
    cached = text.partition("byte code cached:")[2]
    figures.update(
        _rows(
            r"^  (import labkit(\.reference)? \(-X importtime\))\s+([\d.]+) ms",
            cached,
            lambda m: f"{m.group(1)} (ms)",
            3,
        )
    )
    return figures


def _read_widgets(text: str) -> Figures:
    return {
        **_rows(r"ipywidgets: median ([\d.]+) s", text, lambda m: "import with widgets (s)", 1),
        **_rows(r"demo lab: median ([\d.]+) s", text, lambda m: "... and build them all (s)", 1),
    }


def _read_notebooks(text: str) -> Figures:
    rows = re.findall(r"^(\S+)\s+([\d.]+)s\s+([\d.]+)s\s+([\d.]+) MB", text, re.M)
    figures = {"every lab's execution, summed (s)": sum(float(r[2]) for r in rows)} if rows else {}
    figures.update(
        _rows(r"one kernel: .*?, ([\d.]+) MB after all", text, lambda m: "one kernel, all (MB)", 1)
    )
    return figures


def _read_grading(text: str) -> Figures:
    return _rows(r"^(labkit grade -j \d)\s+\d+\s+([\d.]+)", text, lambda m: f"{m.group(1)} (s)", 2)


def _read_registry(text: str) -> Figures:
    figures: Figures = {}
    for m in re.finditer(
        r"^(labkit serve(?: --data)?)\s+[\d.]+\s+(\d+)\s+[\d.]+\s+(\d+)\s+(\d+)", text, re.M
    ):
        figures[f"{m.group(1)}: push (MB/s)"] = float(m.group(2))
        figures[f"{m.group(1)}: pull (MB/s)"] = float(m.group(3))
        figures[f"{m.group(1)}: peak RSS (MB)"] = float(m.group(4))
    return figures


def _read_hub(text: str) -> Figures:
    return _rows(
        r"^  (labkit collect --hub|labkit grade -j 2)\s+([\d.]+) s",
        text,
        lambda m: f"{m.group(1)} (s)",
        2,
    )


BENCHES = (
    Bench("client", ("bench/client_bench.py",), _read_client),
    Bench("world", ("bench/world_bench.py",), _read_world),
    Bench(
        "reference", ("bench/reference_bench.py",), _read_reference, lambda f: "parses/s" not in f
    ),
    Bench("widgets", ("bench/widgets_bench.py", "5"), _read_widgets),
    Bench("notebooks", ("bench/notebooks_bench.py",), _read_notebooks),
    Bench(
        "grading",
        (
            "bench/grading_bench.py",
            "--students",
            "200",
            "--skip-execute",
            "--skip-nbclient",
            "--skip-nbgrader",
        ),
        _read_grading,
    ),
    Bench(
        "registry", ("bench/registry_bench.py", "256"), _read_registry, lambda f: "MB/s" not in f
    ),
    Bench("hub", ("bench/hub_bench.py", "--skip-hub"), _read_hub),
)


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def check_labkit(tree: Path) -> None:
    """``import labkit`` with this tree's PYTHONPATH must come from the tree."""
    found = subprocess.run(
        [PYTHON, "-c", "import labkit; print(labkit.__file__)"],
        env=env_for(tree),
        cwd=tempfile.gettempdir(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"labkit for {tree} is imported from {found}, not from the tree")


def env_for(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree)}


def run_bench(bench: Bench, tree: Path, own: bool = False) -> tuple[Figures, str, bool]:
    """The figures one run of ``bench`` prints in ``tree`` (its output too, for errors, and
    whether it ran through); ``own``: the tree's own script (kept in ``bench-own/``)."""
    script, *args = bench.args
    if own:
        script = script.replace("bench/", f"{OWN}/", 1)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        ["nice", "-n", "10", PYTHON, script, *args],
        cwd=tree,
        env=env_for(tree),
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        print(f"    {bench.name} in {tree} exited {done.returncode}:\n{output[-800:]}", flush=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {**bench.read(done.stdout), CPU: cpu}, output, done.returncode == 0


def compare(benches: list[Bench], trees: dict[str, Path], reps: int) -> list[list[str]]:
    runs: dict[tuple[str, str], list[Figures]] = {}
    failures: list[str] = []
    own: set[tuple[str, str]] = set()  # HEAD's script failed with BASE's labkit: BASE's own
    for bench in benches:
        started = time.monotonic()
        for rep in range(reps):
            order = ("BASE", "HEAD") if rep % 2 == 0 else ("HEAD", "BASE")
            for side in order:
                figures, output, ran = run_bench(bench, trees[side], (bench.name, side) in own)
                if not ran and side == "BASE" and (trees[side] / OWN).is_dir():
                    own.add((bench.name, side))
                    print(f"    {bench.name}: BASE runs its own script from now on", flush=True)
                    figures, output, ran = run_bench(bench, trees[side], True)
                if set(figures) == {CPU}:
                    failures.append(f"{bench.name} at {side} printed no figure:\n{output[-1500:]}")
                runs.setdefault((bench.name, side), []).append(figures)
        print(f"  {bench.name}: {reps} x 2 runs in {time.monotonic() - started:.0f} s", flush=True)
    for failure in failures:
        print(failure, file=sys.stderr)
    table = []
    for bench in benches:
        base_runs, head_runs = runs[(bench.name, "BASE")], runs[(bench.name, "HEAD")]
        names = list(dict.fromkeys(f for r in (*head_runs, *base_runs) for f in r))
        for figure in names:
            base = [r[figure] for r in base_runs if figure in r]
            head = [r[figure] for r in head_runs if figure in r]
            if not base or not head:
                table.append(
                    [bench.name, figure, _fmt(base), _fmt(head), "", "n/a", "", "", "", ""]
                )
                continue
            lower = bench.lower_is_better(figure)
            median = _change(statistics.median(base), statistics.median(head), lower)
            best = min if lower else max
            at_best = _change(best(base), best(head), lower)
            table.append(
                [bench.name, figure, _fmt(base), _fmt(head), *median, _fmt([best(base)]),
                 _fmt([best(head)]), *at_best]
            )  # fmt: skip
    return table


def _change(base: float, head: float, lower_is_better: bool) -> list[str]:
    """The change from ``base`` to ``head`` in percent, and whether it is within the tolerance
    in the figure's good direction."""
    change = (head - base) / base * 100 if base else 0.0
    worse = change if lower_is_better else -change
    return [f"{change:+.1f}%", "yes" if worse <= TOLERANCE * 100 else "NO"]


def _fmt(values: list[float]) -> str:
    if not values:
        return "-"
    value = statistics.median(values)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the commit to compare with (e.g. main~3, 15b04ec)")
    parser.add_argument("--head", help="a commit for HEAD's side (default: this checkout)")
    parser.add_argument("--reps", type=int, default=3, help="runs of each bench per side")
    parser.add_argument(
        "--own-benches", action="store_true", help="each side runs its own bench scripts"
    )
    parser.add_argument(
        "--only", help="comma-separated benches: " + ",".join(b.name for b in BENCHES)
    )
    args = parser.parse_args(argv)
    wanted = set(args.only.split(",")) if args.only else {b.name for b in BENCHES}
    unknown = wanted - {b.name for b in BENCHES}
    if unknown:
        parser.error(f"unknown benches: {', '.join(sorted(unknown))}")
    benches = [b for b in BENCHES if b.name in wanted]
    scratch = Path(tempfile.mkdtemp(prefix="labkit-compare-"))
    worktrees = []
    try:
        trees = {"HEAD": ROOT}
        for side, rev in (("BASE", args.base), ("HEAD", args.head)):
            if rev is None:
                continue
            tree = scratch / side.lower()
            git("worktree", "add", "--detach", str(tree), rev)
            worktrees.append(tree)
            trees[side] = tree
        if not args.own_benches:
            shutil.copytree(trees["BASE"] / "bench", trees["BASE"] / OWN)
            for script in (trees["HEAD"] / "bench").glob("*.py"):
                shutil.copy2(script, trees["BASE"] / "bench" / script.name)
        for tree in trees.values():
            check_labkit(tree)
            # byte code compiled up front, so that no side's first run pays for it
            subprocess.run([PYTHON, "-m", "compileall", "-q", "labkit", "bench"], cwd=tree)
        head = args.head or f"{git('rev-parse', '--short', 'HEAD')} (this checkout)"
        base = f"{args.base} ({git('rev-parse', '--short', args.base)})"
        scripts = "each side's own" if args.own_benches else "HEAD's, on both sides"
        print(f"BASE {base} vs HEAD {head}; {args.reps} runs a side, alternating")
        print(f"bench scripts: {scripts}")
        print(f"load average before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
        table = compare(benches, trees, args.reps)
        print(f"load average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    finally:
        for tree in worktrees:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT)
        shutil.rmtree(scratch, ignore_errors=True)
    header = ["bench", "figure", "BASE", "HEAD", "change", "within 10%?"]
    header += ["BASE best", "HEAD best", "change", "within 10%?"]
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *table]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 1 if any(row[5] == "NO" for row in table) else 0


if __name__ == "__main__":
    sys.exit(main())
