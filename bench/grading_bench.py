"""Grading throughput on the same generated class: labkit grade, labkit grade --execute, a bare
nbclient loop, and nbgrader autograde.

    .venv/bin/python bench/grading_bench.py [--students 40] [--lab 02-image-names] [-j 2]
        [--skip-execute] [--skip-nbclient] [--skip-nbgrader] [--keep DIR]

The class: one folder per student holding the lab's notebook from ``notebooks/`` (its
submission cell's output carrying the student's record) and ``labkit-answers/<lab>.json``;
a third of the students answer with the lab's typical wrong answers. nbgrader (0.9.x) is
installed in its own throwaway venv under /tmp (never in the test extra); when it cannot be
installed the bench says why and skips that row. Every figure is wall-clock seconds of one
run of a whole command (Python start-up included), on this machine; speed goals live here, not
in timed tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
NBGRADER_VENV = Path(
    os.environ.get("LABKIT_BENCH_NBGRADER_VENV")
    or Path(tempfile.gettempdir()) / "labkit-bench-nbgrader-venv"
)
NBGRADER_SPEC = "nbgrader>=0.9,<0.10"


def make_record(lab: Any, student: str, wrong: bool) -> dict[str, Any]:
    """A record as the student's kernel saves it: the key's answers (or each exercise's first
    typical wrong answer) and the event log of solving every task."""
    from labkit import __version__
    from labkit.exercises import Kind
    from labkit.records import Record
    from labkit.world import Clock

    world = lab.new_world(student, clock=Clock.fixed())
    record = Record(lab.id, student, lab.fingerprint(student), __version__)
    for exercise in lab.exercises:
        variant = lab.variant(exercise, student)
        if exercise.kind is Kind.TASK:
            solve = exercise.options.get("solve")
            if solve is not None and not wrong:
                solve(world, variant)
            continue
        raw = exercise.key_raw(variant)
        if wrong and exercise.examples:
            raw = exercise.examples[0].raw_for(variant)
        record = record.with_answer(exercise.id, raw, when="2025-01-15T10:00:00+00:00")
    record = record.with_events(lab.student_events(world, student), when="2025-01-15T10:00:00")
    return record.to_json()


def build_class(folder: Path, lab_id: str, students: int) -> list[str]:
    """``folder/<student>/<lab>.ipynb`` + ``labkit-answers/<lab>.json`` for each student."""
    from labkit.labs import get_lab
    from labkit.records import MIME_TYPE

    lab = get_lab(lab_id)
    source = json.loads((ROOT / "notebooks" / f"{lab_id}.ipynb").read_text(encoding="utf-8"))
    names = [f"student{index:03d}" for index in range(students)]
    for index, student in enumerate(names):
        record = make_record(lab, student, wrong=index % 3 == 2)
        notebook = json.loads(json.dumps(source))
        for cell in notebook["cells"]:
            if "submission" in cell.get("metadata", {}).get("tags", []):
                cell["outputs"] = [
                    {"output_type": "display_data", "metadata": {}, "data": {MIME_TYPE: record}}
                ]
        target = folder / student
        (target / "labkit-answers").mkdir(parents=True)
        (target / f"{lab_id}.ipynb").write_text(json.dumps(notebook, indent=1), encoding="utf-8")
        (target / "labkit-answers" / f"{lab_id}.json").write_text(json.dumps(record))
    return names


LAST_CPU = [0.0]  # CPU seconds (user + system) of the last timed command and its descendants
CPUACCT = Path("/sys/fs/cgroup/cpuacct")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path | None = None, env: dict | None = None) -> float:
    """Wall-clock seconds of ``command``; its CPU seconds in ``LAST_CPU[0]``, a figure the
    machine's other load changes far less than the wall clock: from a cpuacct cgroup of its
    own when this process may make one (every descendant counts, sandboxed ones too), else
    from the rusage of the processes it waited for."""
    group = None
    if os.access(CPUACCT, os.W_OK):
        group = CPUACCT / f"labkit-bench-{os.getpid()}-{time.monotonic_ns()}"
        try:
            group.mkdir()
        except OSError:
            group = None

    def join() -> None:  # in the child, before exec
        if group is not None:
            fd = os.open(group / "cgroup.procs", os.O_WRONLY)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)

    started, cpu = time.perf_counter(), _children_cpu()
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, preexec_fn=join
    )
    seconds = time.perf_counter() - started
    LAST_CPU[0] = _children_cpu() - cpu
    if group is not None:
        LAST_CPU[0] = int((group / "cpuacct.usage").read_text()) / 1e9
        for _ in range(100):
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.05)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}... failed:\n{result.stderr[-2000:]}")
    return seconds


def labkit_grade(subs: Path, out: Path, jobs: int, *extra: str) -> float:
    command = [PYTHON, "-m", "labkit.cli", "grade", str(subs), "-o", str(out / "grades.csv")]
    return timed([*command, "-j", str(jobs), "--no-progress", *extra], cwd=out)


def nbclient_loop(subs: Path, lab_id: str) -> float:
    """A fresh kernel per notebook with bare nbclient (the floor for executing notebooks)."""
    code = (
        "import json, sys, pathlib\n"
        "import nbformat\n"
        "from nbclient import NotebookClient\n"
        "for path in sorted(pathlib.Path(sys.argv[1]).glob('*/*.ipynb')):\n"
        "    nb = nbformat.read(path, as_version=4)\n"
        "    NotebookClient(nb, timeout=60, kernel_name='python3', allow_errors=True,\n"
        "                   resources={'metadata': {'path': str(path.parent)}}).execute()\n"
    )
    scratch = Path(tempfile.mkdtemp(prefix="labkit-bench-nbclient-"))
    try:
        copy = scratch / "subs"
        shutil.copytree(subs, copy)
        return timed([PYTHON, "-c", code, str(copy)], cwd=scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def ensure_nbgrader() -> tuple[Path | None, str]:
    """The nbgrader executable in a throwaway venv, or (None, why not)."""
    exe = NBGRADER_VENV / "bin" / "nbgrader"
    if exe.exists():
        return exe, ""
    try:
        subprocess.run([PYTHON, "-m", "venv", str(NBGRADER_VENV)], check=True, capture_output=True)
        pip = [str(NBGRADER_VENV / "bin" / "pip"), "install", "-q", NBGRADER_SPEC, "ipykernel"]
        result = subprocess.run(pip, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.SubprocessError) as error:
        return None, f"cannot make a venv for nbgrader: {error}"
    if result.returncode != 0 or not exe.exists():
        lines = [line for line in result.stderr.splitlines() if not line.startswith("WARNING")]
        return None, "pip could not install nbgrader: " + " ".join(lines[-3:])
    return exe, ""


def nbgrader_autograde(subs: Path, names: list[str], lab_id: str) -> tuple[float | None, str]:
    """``nbgrader autograde`` on an nbgrader assignment with the same code cells plus one
    autograded test cell, every student submitted."""
    exe, why = ensure_nbgrader()
    if exe is None:
        return None, why
    course = Path(tempfile.mkdtemp(prefix="labkit-bench-nbgrader-"))
    try:
        source = json.loads((ROOT / "notebooks" / f"{lab_id}.ipynb").read_text())
        test = {
            "cell_type": "code",
            "execution_count": None,
            "id": "bench-test",
            "metadata": {
                "nbgrader": {
                    "grade": True,
                    "grade_id": "bench-test",
                    "locked": True,
                    "points": 1,
                    "schema_version": 3,
                    "solution": False,
                    "task": False,
                }
            },
            "outputs": [],
            "source": "assert lab is not None",
        }
        source["cells"].append(test)
        (course / "source" / "lab").mkdir(parents=True)
        (course / "source" / "lab" / "lab.ipynb").write_text(json.dumps(source))
        (course / "nbgrader_config.py").write_text(
            "c = get_config()\n"
            f"c.CourseDirectory.root = {str(course)!r}\n"
            "c.CourseDirectory.db_assignments = [dict(name='lab')]\n"
            f"c.CourseDirectory.db_students = [{', '.join(repr(dict(id=n)) for n in names)}]\n"
            "c.ExecutePreprocessor.kernel_name = 'labkit-bench'\n"
        )
        # the kernel runs in labkit's venv (so the notebook's `import labkit` works), through a
        # kernel spec of its own; nbgrader's tools (alembic...) come from its venv
        spec = course / "jupyter" / "kernels" / "labkit-bench"
        spec.mkdir(parents=True)
        argv = [PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        spec.joinpath("kernel.json").write_text(
            json.dumps({"argv": argv, "display_name": "labkit bench", "language": "python"})
        )
        source["metadata"]["kernelspec"] = {
            "name": "labkit-bench",
            "display_name": "labkit bench",
            "language": "python",
        }
        (course / "source" / "lab" / "lab.ipynb").write_text(json.dumps(source))
        env = {
            **os.environ,
            "PATH": f"{exe.parent}:{os.environ['PATH']}",
            "JUPYTER_PATH": str(course / "jupyter"),
            "VIRTUAL_ENV": str(NBGRADER_VENV),
        }
        timed([str(exe), "db", "assignment", "add", "lab"], cwd=course, env=env)
        for name in names:
            timed([str(exe), "db", "student", "add", name], cwd=course, env=env)
        timed([str(exe), "generate_assignment", "lab", "--force"], cwd=course, env=env)
        released = course / "release" / "lab" / "lab.ipynb"
        for name in names:
            target = course / "submitted" / name / "lab"
            target.mkdir(parents=True)
            shutil.copy(released, target / "lab.ipynb")
            shutil.copytree(subs / name / "labkit-answers", target / "labkit-answers")
        seconds = timed([str(exe), "autograde", "lab", "--force"], cwd=course, env=env)
        return seconds, ""
    except RuntimeError as error:
        return None, f"nbgrader autograde failed: {str(error)[-600:]}"
    finally:
        shutil.rmtree(course, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument(
        "--execute-students",
        type=int,
        default=None,
        help="how many of the students the --execute, nbclient and nbgrader rows run "
        "(default: all); ratios compare time per submission",
    )
    parser.add_argument("--lab", default="02-image-names")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--skip-execute", action="store_true")
    parser.add_argument("--skip-nbclient", action="store_true")
    parser.add_argument("--skip-nbgrader", action="store_true")
    parser.add_argument("--keep", metavar="DIR", help="build the class in DIR and keep it")
    args = parser.parse_args(argv)

    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="labkit-bench-"))
    subs, out = base / "submissions", base / "out"
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    names = build_class(subs, args.lab, args.students)
    n = len(names)
    print(f"{n} submissions of {args.lab} built in {time.perf_counter() - started:.2f} s")
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    # the slow rows run on the first ``few`` students (a folder of their own)
    few = min(n, args.execute_students or n)
    small = subs
    if few < n:
        small = base / "submissions-few"
        for name in names[:few]:
            shutil.copytree(subs / name, small / name)
    from labkit.grading.execute import check_isolation

    print(check_isolation(warm=True).report())
    rows: list[tuple[str, float | None, int, str, float]] = []

    def row(name: str, seconds: float | None, count: int, why: str = "") -> None:
        rows.append((name, seconds, count, why, LAST_CPU[0] if seconds is not None else 0.0))

    row("labkit grade -j 1", labkit_grade(subs, out, 1), n)
    row(f"labkit grade -j {args.jobs}", labkit_grade(subs, out, args.jobs), n)
    if not args.skip_execute:
        try:
            seconds = labkit_grade(small, out, args.jobs, "--execute")
            row(f"labkit grade --execute -j {args.jobs}", seconds, few)
        except RuntimeError as error:
            row("labkit grade --execute", None, few, str(error)[-300:])
    if not args.skip_nbclient:
        row("bare nbclient loop", nbclient_loop(small, args.lab), few)
    if not args.skip_nbgrader:
        seconds, why = nbgrader_autograde(small, names[:few], args.lab)
        row("nbgrader autograde", seconds, few, why)
    found = [(s / k, c / k) for name, s, k, _, c in rows if name == "nbgrader autograde" and s]
    reference, reference_cpu = found[0] if found else (1.3, 0.0)
    where = "measured" if found else "the issue's 1.3 s per submission"
    print(
        f"\n{'run':<32} {'students':>8} {'seconds':>8} {'s/sub':>7} {'vs nbgrader':>11}"
        f" {'CPU s':>7} {'CPU/sub':>8} {'CPU vs':>7}"
    )
    for name, seconds, count, why, cpu in rows:
        if seconds is None:
            print(f"{name:<32} {count:>8} {'skipped':>8}   {why}")
            continue
        ratio = reference / (seconds / count)
        cpu_ratio = f"{reference_cpu / (cpu / count):6.1f}x" if reference_cpu and cpu else ""
        cpu_text = f" {cpu:7.2f} {cpu / count:8.4f} {cpu_ratio:>7}"
        if "--execute" in name and not os.access(CPUACCT, os.W_OK):
            # a sandbox's processes are reaped in its PID namespace, out of rusage's sight
            cpu_text = f" {'-':>7} {'-':>8} {'-':>7}"
        print(
            f"{name:<32} {count:8d} {seconds:8.2f} {seconds / count:7.4f} {ratio:10.1f}x" + cpu_text
        )
    print(f"\nratios: nbgrader autograde's time per submission ({where}) / this run's;")
    print(
        "CPU: user + system seconds of the command and all its descendants (a cpuacct cgroup per "
        "command; without one, only processes waited for, so none for --execute)"
    )
    print("goals (issue 13): default mode 1,000 in <= 5 s and >= 250x, --execute -j 2 >= 10x")
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
