"""Hostile and broken submissions in ``--execute`` mode: each gets a status and a reason,
quickly, and leaves no process behind (Linux only)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from labkit.grading.execute import ExecutionResult, Limits, execute_submission, isolation

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--execute is Linux only"),
    pytest.mark.timeout(60),
]

LIMITS = Limits(
    cell_seconds=3,
    total_seconds=8,
    memory_bytes=768 << 20,
    file_bytes=8 << 20,
    open_files=64,
    processes=32,
    output_bytes=64 << 10,
)


def notebook(*cells: str, kernel: str = "python3") -> dict:
    """An nbformat 4.5 notebook with these code cells (and one markdown cell first)."""
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": kernel, "display_name": kernel, "language": "python"}},
        "cells": [{"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "# Lab"}]
        + [
            {
                "cell_type": "code",
                "id": f"cell-{index}",
                "metadata": {},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
            for index, source in enumerate(cells)
        ],
    }


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def processes_with(marker: bytes) -> list[int]:
    """Live processes whose environment carries ``marker``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry.name}/environ").read_bytes()
            state = Path(f"/proc/{entry.name}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if marker in environ.split(b"\0") and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


@pytest.fixture
def class_folder(tmp_path, monkeypatch):
    """A submissions tree of two students, an output folder with grades.csv, and scratch
    folders made under tmp_path (so a '../' write cannot reach anything real)."""
    scratch_parent = tmp_path / "scratch"
    scratch_parent.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_parent))
    submissions = tmp_path / "submitted"
    for student in ("alice", "bob"):
        answers = submissions / student / "demo" / "labkit-answers"
        answers.mkdir(parents=True)
        (answers / "demo.json").write_text(json.dumps({"lab": "demo", "student": student}))
    output = tmp_path / "out"
    output.mkdir()
    (output / "grades.csv").write_text("student,lab,exercise,score,max,status,reason\n")
    return tmp_path


def run(root: Path, *cells: str, student: str | None = None, **options) -> ExecutionResult:
    """Write the notebook as bob's submission and execute it; assert nothing is left running."""
    student = student or f"hostile-{uuid.uuid4().hex[:12]}"
    folder = root / "submitted" / "bob" / "demo"
    path = folder / "lab.ipynb"
    kernel = options.pop("kernel", "python3")
    path.write_text(json.dumps(notebook(*cells, kernel=kernel)))
    before = tree_digest(root / "submitted"), tree_digest(root / "out")
    result = execute_submission(
        path,
        student=student,
        lab="demo",
        limits=options.pop("limits", LIMITS),
        extra_files=folder / "labkit-answers",
    )
    assert result.status and result.reason
    assert processes_with(f"LABKIT_STUDENT={student}".encode()) == []
    assert (tree_digest(root / "submitted"), tree_digest(root / "out")) == before
    assert list((root / "scratch").iterdir()) == []
    return result


def outputs_text(result: ExecutionResult) -> str:
    return json.dumps([cell.get("outputs", []) for cell in result.notebook["cells"]])


def test_a_perfect_notebook_runs_and_its_records_come_back(class_folder):
    result = run(
        class_folder,
        "import labkit\nlab = labkit.start('demo')",
        "statuses = {}\n"
        "for exercise in lab.definition.exercises:\n"
        "    variant = lab.variant(exercise.id)\n"
        "    if exercise.kind.value == 'task':\n"
        "        exercise.solve(lab.world, variant)\n"
        "        statuses[exercise.id] = lab.check(exercise.id).status\n"
        "    else:\n"
        "        key = exercise.key_raw(variant)\n"
        "        statuses[exercise.id] = lab.submit(exercise.id, key).status\n"
        "print(sorted(set(statuses.values())))",
        student="perfect-student",
    )
    assert result.status == "ok", result.reason
    from labkit.labs import get_lab

    ids = {exercise.id for exercise in get_lab("demo").exercises}
    records = [record for record in result.records if record.get("student") == "perfect-student"]
    assert len(records) == 1
    assert set(records[0]["answers"]) == ids
    assert "['correct']" in outputs_text(result)


def test_an_infinite_loop_times_out(class_folder):
    result = run(class_folder, "x = 1", "while True:\n    x += 1", "print('never')")
    assert result.status == "timed-out"
    assert "cell 3" in result.reason  # the markdown cell counts
    assert "never" not in outputs_text(result)


def test_a_sleep_loop_times_out(class_folder):
    result = run(class_folder, "import time\nwhile True:\n    time.sleep(0.1)")
    assert result.status == "timed-out"


def test_many_short_cells_hit_the_total_limit(class_folder):
    limits = Limits(cell_seconds=3, total_seconds=2)
    result = run(class_folder, *["import time; time.sleep(0.5)"] * 10, limits=limits)
    assert result.status == "timed-out"
    assert "in all" in result.reason


def test_sys_exit_is_an_error_in_its_cell_and_the_rest_runs(class_folder):
    result = run(class_folder, "import sys\nsys.exit()", "print('after exit')")
    assert result.status == "ok"
    assert "SystemExit" in result.reason
    assert "after exit" in outputs_text(result)


def test_os_exit_ends_the_run(class_folder):
    result = run(class_folder, "print('before')", "import os\nos._exit(1)", "print('after')")
    assert result.status == "killed"
    assert "exited with code 1" in result.reason and "cell 3" in result.reason
    assert "before" in outputs_text(result) and "after" not in outputs_text(result)


def test_a_killed_kernel(class_folder):
    result = run(class_folder, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    assert result.status == "killed"
    assert "SIGKILL" in result.reason


def test_a_memory_bomb(class_folder):
    result = run(
        class_folder,
        "hog = []\nwhile True:\n    hog.append(bytearray(32 << 20))",
        "del hog\nprint('survived')",
    )
    assert result.status == "memory-limit"
    assert "memory" in result.reason


def test_a_bounded_fork_bomb_is_ended(class_folder):
    result = run(
        class_folder,
        "import os, time\n"
        "children = 0\n"
        "for _ in range(200):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(300)\n"
        "        os._exit(0)\n"
        "    children += 1\n"
        "print('forked', children)",
    )
    assert result.status == "ok"
    assert "forked" in outputs_text(result)


@pytest.mark.skipif(
    os.geteuid() == 0 and not Path("/sys/fs/cgroup/pids").is_dir(),
    reason="an unbounded fork bomb needs RLIMIT_NPROC (not root) or a pids cgroup",
)
def test_a_real_fork_bomb_is_bounded_and_ended(class_folder):
    result = run(class_folder, "import os\nwhile True:\n    os.fork()", "print('after')")
    assert result.status in ("timed-out", "ok")


def test_a_setsid_escapee_is_ended(class_folder):
    result = run(
        class_folder,
        "import os, time\n"
        "read, write = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.write(write, str(os.getpid()).encode())\n"
        "        time.sleep(300)\n"
        "    os._exit(0)\n"
        "os.wait()\n"
        "escapee = int(os.read(read, 32))\n"
        "print('escapee', escapee, os.getsid(escapee) != os.getsid(0))",
    )
    assert result.status == "ok", result.reason
    text = outputs_text(result)
    assert "True" in text
    escapee = int(text.split("escapee ")[1].split()[0])
    assert not Path(f"/proc/{escapee}/environ").exists() or escapee not in processes_with(
        b"LABKIT_GRADING=1"
    )


def test_a_disk_filler_hits_the_file_size_limit(class_folder):
    result = run(
        class_folder,
        "with open('filler.bin', 'wb') as handle:\n"
        "    while True:\n"
        "        handle.write(b'x' * (1 << 20))",
    )
    assert result.status == "ok"
    assert "file-size limit" in result.reason


def test_a_flood_of_output_is_capped(class_folder):
    result = run(class_folder, "while True:\n    print('x' * 1000)", "print('next cell')")
    assert result.status == "output-limit"
    assert len(outputs_text(result)) < 4 * LIMITS.output_bytes
    assert result.notebook["cells"][2]["execution_count"] is not None  # the next cell ran


@pytest.mark.skipif(
    isolation() == "limits only",
    reason="without bubblewrap or an unprivileged user, a root child can write where it likes",
)
def test_monkeypatching_labkit_and_writing_elsewhere_changes_nothing_outside(class_folder):
    result = run(
        class_folder,
        "import labkit.exercises\n"
        "labkit.exercises.check_answer = lambda *args, **kwargs: 'full marks'\n"
        "from pathlib import Path\n"
        "here = Path.cwd()\n"
        "for up in [here, *here.parents][:6]:\n"
        "    for target in ('grades.csv', 'alice/labkit-answers/demo.json',\n"
        "                   'submitted/alice/demo/labkit-answers/demo.json'):\n"
        "        try:\n"
        "            path = up / target\n"
        "            path.parent.mkdir(parents=True, exist_ok=True)\n"
        "            path.write_text('forged')\n"
        "        except OSError:\n"
        "            pass\n"
        "print('done')",
    )
    assert result.status == "ok", result.reason


def test_a_labkit_py_beside_the_notebook_does_not_shadow_the_package(class_folder):
    shadow = class_folder / "submitted" / "bob" / "demo" / "labkit.py"
    shadow.write_text("raise SystemExit('shadowed')\nSHADOW = True\n")
    result = run(class_folder, "import labkit\nprint(hasattr(labkit, 'SHADOW'), labkit.__file__)")
    assert result.status == "ok", result.reason
    assert "False" in outputs_text(result)
    assert str(Path(__import__("labkit").__file__)) in outputs_text(result)


def test_a_wrong_kernel_name_still_runs(class_folder):
    result = run(class_folder, "print(40 + 2)", kernel="julia-1.9")
    assert result.status == "ok"
    assert "42" in outputs_text(result)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"nbformat": 3, "worksheets": [{"cells": []}]}', "nbformat 3"),
        (b'{"nbformat": 4, "cells": [', "not valid JSON"),
        (b'\xff\xfe{"nbformat": 4}', "not UTF-8"),
        (b"[1, 2]", "not a notebook"),
    ],
)
def test_files_that_are_not_notebooks(tmp_path, content, words):
    path = tmp_path / "lab.ipynb"
    path.write_bytes(content)
    result = execute_submission(path, student="s", lab="demo", limits=LIMITS)
    assert result.status == "not-a-notebook"
    assert words in result.reason
    assert result.notebook is None and result.records == []


def test_a_missing_notebook(tmp_path):
    result = execute_submission(tmp_path / "gone.ipynb", student="s", lab="demo", limits=LIMITS)
    assert result.status == "not-a-notebook"
    assert "does not exist" in result.reason
