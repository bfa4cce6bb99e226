# ruff: noqa: E501  (the golden CSV below has long lines)
"""One real ``labkit grade --execute -j 2`` run over a hostile and broken class (Linux only).

Every student gets rows with a status and a reason, the grades.csv is checked exactly, nothing
under SUBMISSIONS changes, the output folder holds only the report files, and no process of the
run is left behind. The run uses small limits (``--cell-timeout 3 --timeout 12``) so that the two
loops cost seconds, not minutes.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from grading.fixtures import LAB, LAB_ID, WRONG_ANSWERS, notebook, record_for, write_submission
from labkit.cli import main
from labkit.exercises import Kind
from labkit.grading.execute import isolation
from labkit.grading.grade import STATUS_ORDER

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--execute is Linux only"),
    pytest.mark.skipif(
        isolation() == "limits only",
        reason="without bubblewrap or an unprivileged user, a root child can write where it likes",
    ),
    pytest.mark.slow,
    pytest.mark.timeout(120),
]

SOLVE_ALL = (
    "for exercise in lab.definition.exercises:\n"
    "    variant = lab.variant(exercise.id)\n"
    "    if exercise.kind.value == 'task':\n"
    "        exercise.solve(lab.world, variant)\n"
    "        lab.check(exercise.id)\n"
    "    else:\n"
    "        lab.submit(exercise.id, exercise.key_raw(variant))"
)


def answers_cell(student: str, *, wrong: bool = False, only: tuple[str, ...] = ()) -> str:
    """A cell that submits answers worked out here for ``student`` (keys, or typical mistakes)."""
    answers = {}
    for exercise in LAB.exercises:
        if exercise.kind is Kind.TASK or (only and exercise.id not in only):
            continue
        variant = LAB.variant(exercise, student)
        answers[exercise.id] = (
            WRONG_ANSWERS[exercise.id](variant) if wrong else exercise.key_raw(variant)
        )
    packed = base64.b64encode(json.dumps(answers).encode()).decode()  # no id in the source
    return (
        "import base64, json\n"
        f"for exercise_id, raw in json.loads(base64.b64decode({packed!r})).items():\n"
        "    lab.submit(exercise_id, raw)"
    )


def solve_cell(task: str) -> str:
    """A cell that solves one task (by its index, so the source names no exercise id)."""
    index = [e.id for e in LAB.exercises].index(task)
    return (
        f"task = lab.definition.exercises[{index}]\n"
        "task.solve(lab.world, lab.variant(task.id))\n"
        "lab.check(task.id)"
    )


def lab_notebook(*extra: str, record: Any = None, kernel: str = "python3") -> dict:
    """The fixtures' notebook, whose last cell shows the record as the real lab's does."""
    made = notebook(record, kernel=kernel, extra=extra)
    made["cells"][-1]["source"] = "lab.submission()"
    return made


def build_execute_class(root: Path, out: Path) -> dict[str, str]:
    """The class under ``root/<student>/``: {student: what it is}. ``out`` is the output folder
    (a student writes at it)."""
    made: dict[str, str] = {}
    made["widgets-only"] = "honest: widget answers in the saved record, tasks solved in cells"

    def add(student: str, what: str, *extra: str, **options: Any) -> Path:
        made[student] = what
        folder = root / student
        write_submission(folder, notebook_json=lab_notebook(*extra, **options))
        return folder

    add("perfect", "answers every exercise and solves both tasks", SOLVE_ALL)
    add(
        "partly-wrong",
        "typical wrong answers, one task solved",
        answers_cell("partly-wrong", wrong=True),
        solve_cell("share-with-team"),
    )
    add("untouched", "runs the lab without answering anything")
    add(
        "infinite-loop",
        "a busy loop after one answer",
        answers_cell("infinite-loop", only=("fully-qualified",)),
        "x = 0\nwhile True:\n    x += 1",
    )
    add("sleep-loop", "a sleeping loop", "import time\nwhile True:\n    time.sleep(0.1)")
    add(
        "sys-exit",
        "sys.exit() between two answers",
        answers_cell("sys-exit", only=("fully-qualified",)),
        "import sys\nsys.exit()",
        answers_cell("sys-exit", only=("latest-meaning",)),
    )
    add(
        "os-exit",
        "os._exit(1) after one answer",
        answers_cell("os-exit", only=("fully-qualified",)),
        "import os\nos._exit(1)",
        answers_cell("os-exit", only=("latest-meaning",)),
    )
    add(
        "killed-kernel",
        "kills its own process",
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    )
    add(
        "memory-bomb",
        "asks for 8 GiB at once (over the limit), then answers",
        "hog = bytearray(8 << 30)",
        "print('still here')",
        answers_cell("memory-bomb", only=("fully-qualified",)),
    )
    add(
        "fork-bomb",
        "forks 200 sleeping children (bounded)",
        "import os, time\n"
        "for _ in range(200):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(300)\n"
        "        os._exit(0)",
    )
    add(
        "setsid-escapee",
        "a grandchild in a new session that sleeps on",
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(300)\n"
        "    os._exit(0)\n"
        "os.wait()",
    )
    add(
        "disk-filler",
        "writes a file until the size limit",
        "with open('filler.bin', 'wb') as handle:\n"
        "    while True:\n"
        "        handle.write(b'x' * (1 << 20))",
    )
    add("output-flood", "prints without end", "while True:\n    print('x' * 1000)")
    targets = [
        out / "grades.csv",
        out / "FROM-A-STUDENT",
        root / "perfect" / "labkit-answers" / f"{LAB_ID}.json",
        root / "perfect" / f"{LAB_ID}.ipynb",
    ]
    add(
        "monkeypatcher",
        "patches labkit's checks, writes into other folders and the grades",
        "import labkit.exercises, labkit.session\n"
        "labkit.exercises.check_answer = lambda *a, **k: 'full marks'\n"
        "labkit.session.check_answer = labkit.exercises.check_answer\n"
        "from pathlib import Path\n"
        f"targets = [Path(p) for p in {[str(t) for t in targets]!r}]\n"
        "here = Path.cwd()\n"
        "for up in [here, *here.parents][:6]:\n"
        "    targets += [up / 'grades.csv', up / 'perfect' / 'labkit-answers' / 'demo.json']\n"
        "for path in targets:\n"
        "    try:\n"
        "        path.parent.mkdir(parents=True, exist_ok=True)\n"
        "        path.write_text('forged')\n"
        "    except OSError:\n"
        "        pass",
        answers_cell("monkeypatcher", wrong=True),
    )
    folder = add("shadow-module", "a labkit.py beside the notebook", SOLVE_ALL)
    marker = root.parent / "IMPORTED-FROM-SUBMISSION"
    (folder / "labkit.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\nraise SystemExit('shadowed')\n",
        encoding="utf-8",
    )
    edited = record_for("hand-edited", wrong=True, solve=()).to_json()
    edited["score"] = 11
    edited["grades"] = {e.id: e.points for e in LAB.exercises}
    for entry in edited["answers"].values():
        entry["status"] = "correct"
    folder = add("hand-edited", "wrong answers with full marks typed into its record")
    (folder / "labkit-answers").mkdir()
    (folder / "labkit-answers" / f"{LAB_ID}.json").write_text(json.dumps(edited), encoding="utf-8")
    folder = add("impostor", "perfect's record in its folder, and nothing answered")
    (folder / "labkit-answers").mkdir()
    (folder / "labkit-answers" / f"{LAB_ID}.json").write_text(
        json.dumps(record_for("perfect").to_json()), encoding="utf-8"
    )
    made["invalid-json"] = "a notebook cut short"
    whole = json.dumps(lab_notebook(SOLVE_ALL), indent=1)
    (root / "invalid-json").mkdir()
    (root / "invalid-json" / f"{LAB_ID}.ipynb").write_text(whole[: len(whole) // 2])
    made["nbformat3"] = "an nbformat 3 notebook"
    (root / "nbformat3").mkdir()
    v3 = {
        "metadata": {"name": ""},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "code", "input": f'lab = labkit.start("{LAB_ID}")', "outputs": []}
                ]
            }
        ],
    }
    (root / "nbformat3" / f"{LAB_ID}.ipynb").write_text(json.dumps(v3))
    add(
        "wrong-kernel",
        "a julia-1.9 kernel name on a perfect notebook",
        SOLVE_ALL,
        kernel="julia-1.9",
    )
    made["non-utf8"] = "a notebook with bytes that are not UTF-8"
    (root / "non-utf8").mkdir()
    body = json.dumps(lab_notebook(SOLVE_ALL)).encode()
    (root / "non-utf8" / f"{LAB_ID}.ipynb").write_bytes(body[:100] + b"\xff\xfe" + body[100:])
    _add_sandbox_attacks(root, out, add)
    return made


SECRET = "instructor-secret-4f9d2c"  # in the --checks file: must appear in no output
SOCKET_DIR = Path(tempfile.gettempdir()) / "labkit-execute-class-sockets"


def _add_sandbox_attacks(root: Path, out: Path, add: Any) -> None:
    """Attacks on the grader, its peers, its secrets and the machine (need the sandbox)."""
    add(
        "grader-killer",
        "SIGKILL to its parent, pid 1, every pid it can name, then kill(-1)",
        answers_cell("grader-killer", only=("fully-qualified",)),
        "import os, signal\n"
        "for pid in [os.getppid(), 1, *range(2, 5000)]:\n"
        "    if pid != os.getpid():\n"
        "        try:\n"
        "            os.kill(pid, signal.SIGKILL)\n"
        "        except OSError:\n"
        "            pass\n"
        "os.kill(-1, signal.SIGKILL)",
    )
    add(
        "peer-killer",
        "keeps killing every process it can see for two seconds, then answers",
        "import os, signal, time\n"
        "end = time.time() + 2\n"
        "while time.time() < end:\n"
        "    for name in os.listdir('/proc'):\n"
        "        if name.isdigit() and int(name) not in (os.getpid(), 1):\n"
        "            try:\n"
        "                os.kill(int(name), signal.SIGKILL)\n"
        "            except OSError:\n"
        "                pass",
        answers_cell("peer-killer", only=("fully-qualified",)),
    )
    paths = [
        str(root.parent / "checks" / "secret_checks.py"),
        str(root / "perfect" / f"{LAB_ID}.ipynb"),
        "/proc/1/cmdline",
        "/etc/shadow",
        str(Path.home() / ".bash_history"),
    ]
    add(
        "secret-reader",
        "reads the checks, a peer's notebook, the grader's command line; answers with them",
        "found = []\n"
        f"for path in {paths!r}:\n"
        "    try:\n"
        "        found.append(open(path, errors='replace').read()[:2000])\n"
        "    except OSError:\n"
        "        pass\n"
        "import os\n"
        "for pid in os.listdir('/proc'):\n"
        "    try:\n"
        "        found.append(open(f'/proc/{pid}/cmdline').read())\n"
        "    except OSError:\n"
        "        pass\n"
        "print('\\n'.join(found))\n"
        "lab.submit('fully-qualified', ' '.join(found)[:3000] or 'nothing')",
    )
    add(
        "socket-caller",
        "connects to a unix socket in a world-writable folder, an abstract one and a port",
        "import socket\n"
        f"for family, address in [(socket.AF_UNIX, {str(SOCKET_DIR / 's')!r}),\n"
        "                        (socket.AF_UNIX, '\\0labkit-execute-class'),\n"
        "                        (socket.AF_INET, ('127.0.0.1', 22))]:\n"
        "    s = socket.socket(family)\n"
        "    s.settimeout(1)\n"
        "    try:\n"
        "        s.connect(address)\n"
        "        s.sendall(b'hello from a notebook')\n"
        "    except OSError:\n"
        "        pass",
    )
    add(
        "control-forger",
        "a failing cell, then fake done and finished lines on the grader's control pipe",
        "1 / 0",
        "import json, os\n"
        "for name in os.listdir('/proc/self/fd'):\n"
        "    try:\n"
        "        if os.readlink(f'/proc/self/fd/{name}').startswith('pipe:') and int(name) > 2:\n"
        "            for cell in range(0, 30):\n"
        "                for event in ('done', 'start'):\n"
        "                    os.write(int(name), (json.dumps({'event': event, 'cell': cell,\n"
        "                        'outputs': [], 'execution_count': 1}) + '\\n').encode())\n"
        '            os.write(int(name), b\'{"event": "finished"}\\n\')\n'
        "    except (OSError, ValueError):\n"
        "        pass",
        "raise ValueError('after the forgery')",
    )
    # honest: answered in the widgets (answers only in the saved record), tasks in code cells
    made_record = record_for("widgets-only")
    notebook_json = lab_notebook(
        solve_cell("share-with-team"), solve_cell("push-your-image"), record=made_record
    )
    write_submission(root / "widgets-only", notebook_json=notebook_json)


def tree(root: Path) -> dict[str, str]:
    """Every path under root: a hash of a file's bytes, a link's target, or 'dir'."""
    found = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.is_symlink():
            found[name] = "-> " + os.readlink(path)
        elif path.is_file():
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[name] = "dir"
    return found


def processes_under(base: Path) -> list[tuple[int, str]]:
    """Live processes (not this one) whose environment, cwd or command line names ``base``."""
    needle = str(base).encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        proc = Path("/proc") / entry.name
        try:
            state = (proc / "stat").read_text().rpartition(")")[2].split()[0]
            seen = (proc / "environ").read_bytes() + b"\0" + (proc / "cmdline").read_bytes()
            seen += b"\0" + os.readlink(proc / "cwd").encode()
        except OSError:
            continue
        if needle in seen and state not in ("Z", "X"):
            found.append((int(entry.name), (proc / "cmdline").read_bytes()[:200].decode()))
    return found


GOLDEN = """student,lab,exercise,score,max,status,reason
control-forger,demo,fully-qualified,0,2,unanswered,
control-forger,demo,latest-meaning,0,1,unanswered,
control-forger,demo,name-the-parts,0,1,unanswered,
control-forger,demo,predict-uppercase,0,1,unanswered,
control-forger,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
control-forger,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
control-forger,demo,fully-qualify,0,1,unanswered,
control-forger,demo,(total),0,10,forged,"demo.ipynb: all 12 code cells ran; errors in cell 9 (ZeroDivisionError), cell 11 (ValueError); the notebook's code wrote on the grader's control channel (an end of cell 1 out of turn, a start of cell 1 out of turn, an end of cell 2 out of turn, a start of cell 2 out of turn, an end of cell 3 out of turn): those lines were ignored"
disk-filler,demo,fully-qualified,0,2,unanswered,
disk-filler,demo,latest-meaning,0,1,unanswered,
disk-filler,demo,name-the-parts,0,1,unanswered,
disk-filler,demo,predict-uppercase,0,1,unanswered,
disk-filler,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
disk-filler,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
disk-filler,demo,fully-qualify,0,1,unanswered,
disk-filler,demo,(total),0,10,ok,demo.ipynb: all 10 code cells ran; errors in cell 9 (OSError); cell 9 hit the file-size limit (64 MiB)
fork-bomb,demo,fully-qualified,0,2,unanswered,
fork-bomb,demo,latest-meaning,0,1,unanswered,
fork-bomb,demo,name-the-parts,0,1,unanswered,
fork-bomb,demo,predict-uppercase,0,1,unanswered,
fork-bomb,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
fork-bomb,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
fork-bomb,demo,fully-qualify,0,1,unanswered,
fork-bomb,demo,(total),0,10,ok,
grader-killer,demo,fully-qualified,2,2,correct,
grader-killer,demo,latest-meaning,0,1,unanswered,
grader-killer,demo,name-the-parts,0,1,unanswered,
grader-killer,demo,predict-uppercase,0,1,unanswered,
grader-killer,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
grader-killer,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
grader-killer,demo,fully-qualify,0,1,unanswered,
grader-killer,demo,(total),2,10,ok,demo.ipynb: all 11 code cells ran; errors in cell 10 (ProcessLookupError)
hand-edited,demo,fully-qualified,1,2,partial,mistakes: missing-registry
hand-edited,demo,latest-meaning,0,1,wrong,mistakes: missing-tag
hand-edited,demo,name-the-parts,0.5,1,partial,mistakes: missing-library
hand-edited,demo,predict-uppercase,0,1,wrong,mistakes: wrong-line
hand-edited,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
hand-edited,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
hand-edited,demo,fully-qualify,0.5,1,partial,mistakes: missing-tag
hand-edited,demo,(total),2,10,ok,
impostor,demo,fully-qualified,0,2,unanswered,
impostor,demo,latest-meaning,0,1,unanswered,
impostor,demo,name-the-parts,0,1,unanswered,
impostor,demo,predict-uppercase,0,1,unanswered,
impostor,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
impostor,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
impostor,demo,fully-qualify,0,1,unanswered,
impostor,demo,(total),0,10,ok,the saved records of 'perfect' were not used: the run made this student's own
infinite-loop,demo,fully-qualified,2,2,correct,
infinite-loop,demo,latest-meaning,0,1,unanswered,
infinite-loop,demo,name-the-parts,0,1,unanswered,
infinite-loop,demo,predict-uppercase,0,1,unanswered,
infinite-loop,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
infinite-loop,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
infinite-loop,demo,fully-qualify,0,1,unanswered,
infinite-loop,demo,(total),2,10,timed-out,demo.ipynb: cell 10 ran longer than 3 s; it was stopped and the cells after it did not run
invalid-json,demo,fully-qualified,0,2,malformed,
invalid-json,demo,latest-meaning,0,1,malformed,
invalid-json,demo,name-the-parts,0,1,malformed,
invalid-json,demo,predict-uppercase,0,1,malformed,
invalid-json,demo,share-with-team,0,2,malformed,
invalid-json,demo,push-your-image,0,2,malformed,
invalid-json,demo,fully-qualify,0,1,malformed,
invalid-json,demo,(total),0,10,malformed,"demo.ipynb is not valid JSON (Unterminated string starting at: line 53, column 4); it may have been edited by hand or cut short"
killed-kernel,demo,fully-qualified,0,2,killed,
killed-kernel,demo,latest-meaning,0,1,killed,
killed-kernel,demo,name-the-parts,0,1,killed,
killed-kernel,demo,predict-uppercase,0,1,killed,
killed-kernel,demo,share-with-team,0,2,killed,
killed-kernel,demo,push-your-image,0,2,killed,
killed-kernel,demo,fully-qualify,0,1,killed,
killed-kernel,demo,(total),0,10,killed,demo.ipynb: the notebook's process was killed by signal 9 (SIGKILL) during cell 9; the cells after it did not run
memory-bomb,demo,fully-qualified,2,2,correct,
memory-bomb,demo,latest-meaning,0,1,unanswered,
memory-bomb,demo,name-the-parts,0,1,unanswered,
memory-bomb,demo,predict-uppercase,0,1,unanswered,
memory-bomb,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
memory-bomb,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
memory-bomb,demo,fully-qualify,0,1,unanswered,
memory-bomb,demo,(total),2,10,memory-limit,demo.ipynb: cell 9 ran out of memory (limit 1 GiB); the cells after it still ran
monkeypatcher,demo,fully-qualified,0,2,unanswered,
monkeypatcher,demo,latest-meaning,0,1,unanswered,
monkeypatcher,demo,name-the-parts,0,1,unanswered,
monkeypatcher,demo,predict-uppercase,0,1,unanswered,
monkeypatcher,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
monkeypatcher,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
monkeypatcher,demo,fully-qualify,0,1,unanswered,
monkeypatcher,demo,(total),0,10,ok,demo.ipynb: all 11 code cells ran; errors in cell 10 (AttributeError)
nbformat3,demo,fully-qualified,0,2,malformed,
nbformat3,demo,latest-meaning,0,1,malformed,
nbformat3,demo,name-the-parts,0,1,malformed,
nbformat3,demo,predict-uppercase,0,1,malformed,
nbformat3,demo,share-with-team,0,2,malformed,
nbformat3,demo,push-your-image,0,2,malformed,
nbformat3,demo,fully-qualify,0,1,malformed,
nbformat3,demo,(total),0,10,malformed,"demo.ipynb is an nbformat 3 notebook, which labkit cannot read records from; open it in Jupyter 4 or later and save it again"
non-utf8,demo,fully-qualified,0,2,malformed,
non-utf8,demo,latest-meaning,0,1,malformed,
non-utf8,demo,name-the-parts,0,1,malformed,
non-utf8,demo,predict-uppercase,0,1,malformed,
non-utf8,demo,share-with-team,0,2,malformed,
non-utf8,demo,push-your-image,0,2,malformed,
non-utf8,demo,fully-qualify,0,1,malformed,
non-utf8,demo,(total),0,10,malformed,demo.ipynb is not UTF-8 text (byte 0xff at offset 100); save it again from Jupyter
os-exit,demo,fully-qualified,2,2,correct,
os-exit,demo,latest-meaning,0,1,unanswered,
os-exit,demo,name-the-parts,0,1,unanswered,
os-exit,demo,predict-uppercase,0,1,unanswered,
os-exit,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
os-exit,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
os-exit,demo,fully-qualify,0,1,unanswered,
os-exit,demo,(total),2,10,killed,demo.ipynb: the notebook's process exited with code 1 during cell 10; the cells after it did not run
output-flood,demo,fully-qualified,0,2,unanswered,
output-flood,demo,latest-meaning,0,1,unanswered,
output-flood,demo,name-the-parts,0,1,unanswered,
output-flood,demo,predict-uppercase,0,1,unanswered,
output-flood,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
output-flood,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
output-flood,demo,fully-qualify,0,1,unanswered,
output-flood,demo,(total),0,10,output-limit,demo.ipynb: cell 9 printed more than 1 MiB of output; the notebook's later output was dropped
partly-wrong,demo,fully-qualified,1,2,partial,mistakes: missing-registry
partly-wrong,demo,latest-meaning,0,1,wrong,mistakes: missing-tag
partly-wrong,demo,name-the-parts,0.5,1,partial,mistakes: missing-library
partly-wrong,demo,predict-uppercase,0,1,wrong,mistakes: wrong-line
partly-wrong,demo,share-with-team,2,2,correct,
partly-wrong,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
partly-wrong,demo,fully-qualify,0.5,1,partial,mistakes: missing-tag
partly-wrong,demo,(total),4,10,ok,
peer-killer,demo,fully-qualified,2,2,correct,
peer-killer,demo,latest-meaning,0,1,unanswered,
peer-killer,demo,name-the-parts,0,1,unanswered,
peer-killer,demo,predict-uppercase,0,1,unanswered,
peer-killer,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
peer-killer,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
peer-killer,demo,fully-qualify,0,1,unanswered,
peer-killer,demo,(total),2,10,ok,
perfect,demo,fully-qualified,2,2,correct,
perfect,demo,latest-meaning,1,1,correct,
perfect,demo,name-the-parts,1,1,correct,
perfect,demo,predict-uppercase,1,1,correct,
perfect,demo,share-with-team,2,2,correct,
perfect,demo,push-your-image,2,2,correct,
perfect,demo,fully-qualify,1,1,correct,
perfect,demo,(total),10,10,ok,
secret-reader,demo,fully-qualified,0,2,wrong,mistakes: uppercase-repo; the exercise appears in 2 cells; the newest answer counts
secret-reader,demo,latest-meaning,0,1,unanswered,
secret-reader,demo,name-the-parts,0,1,unanswered,
secret-reader,demo,predict-uppercase,0,1,unanswered,
secret-reader,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
secret-reader,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
secret-reader,demo,fully-qualify,0,1,unanswered,
secret-reader,demo,(total),0,10,ok,
setsid-escapee,demo,fully-qualified,0,2,unanswered,
setsid-escapee,demo,latest-meaning,0,1,unanswered,
setsid-escapee,demo,name-the-parts,0,1,unanswered,
setsid-escapee,demo,predict-uppercase,0,1,unanswered,
setsid-escapee,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
setsid-escapee,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
setsid-escapee,demo,fully-qualify,0,1,unanswered,
setsid-escapee,demo,(total),0,10,ok,
shadow-module,demo,fully-qualified,2,2,correct,
shadow-module,demo,latest-meaning,1,1,correct,
shadow-module,demo,name-the-parts,1,1,correct,
shadow-module,demo,predict-uppercase,1,1,correct,
shadow-module,demo,share-with-team,2,2,correct,
shadow-module,demo,push-your-image,2,2,correct,
shadow-module,demo,fully-qualify,1,1,correct,
shadow-module,demo,(total),10,10,ok,
sleep-loop,demo,fully-qualified,0,2,timed-out,
sleep-loop,demo,latest-meaning,0,1,timed-out,
sleep-loop,demo,name-the-parts,0,1,timed-out,
sleep-loop,demo,predict-uppercase,0,1,timed-out,
sleep-loop,demo,share-with-team,0,2,timed-out,
sleep-loop,demo,push-your-image,0,2,timed-out,
sleep-loop,demo,fully-qualify,0,1,timed-out,
sleep-loop,demo,(total),0,10,timed-out,demo.ipynb: cell 9 ran longer than 3 s; it was stopped and the cells after it did not run
socket-caller,demo,fully-qualified,0,2,unanswered,
socket-caller,demo,latest-meaning,0,1,unanswered,
socket-caller,demo,name-the-parts,0,1,unanswered,
socket-caller,demo,predict-uppercase,0,1,unanswered,
socket-caller,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
socket-caller,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
socket-caller,demo,fully-qualify,0,1,unanswered,
socket-caller,demo,(total),0,10,ok,
sys-exit,demo,fully-qualified,2,2,correct,
sys-exit,demo,latest-meaning,1,1,correct,
sys-exit,demo,name-the-parts,0,1,unanswered,
sys-exit,demo,predict-uppercase,0,1,unanswered,
sys-exit,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
sys-exit,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
sys-exit,demo,fully-qualify,0,1,unanswered,
sys-exit,demo,(total),3,10,ok,demo.ipynb: all 12 code cells ran; errors in cell 10 (SystemExit)
untouched,demo,fully-qualified,0,2,unanswered,
untouched,demo,latest-meaning,0,1,unanswered,
untouched,demo,name-the-parts,0,1,unanswered,
untouched,demo,predict-uppercase,0,1,unanswered,
untouched,demo,share-with-team,0,2,unanswered,"mistakes: no-team-access, repo-private"
untouched,demo,push-your-image,0,2,unanswered,mistakes: not-logged-in
untouched,demo,fully-qualify,0,1,unanswered,
untouched,demo,(total),0,10,ok,
widgets-only,demo,fully-qualified,2,2,correct,
widgets-only,demo,latest-meaning,1,1,correct,
widgets-only,demo,name-the-parts,1,1,correct,
widgets-only,demo,predict-uppercase,1,1,correct,
widgets-only,demo,share-with-team,2,2,correct,
widgets-only,demo,push-your-image,2,2,correct,
widgets-only,demo,fully-qualify,1,1,correct,
widgets-only,demo,(total),10,10,ok,
wrong-kernel,demo,fully-qualified,2,2,correct,
wrong-kernel,demo,latest-meaning,1,1,correct,
wrong-kernel,demo,name-the-parts,1,1,correct,
wrong-kernel,demo,predict-uppercase,1,1,correct,
wrong-kernel,demo,share-with-team,2,2,correct,
wrong-kernel,demo,push-your-image,2,2,correct,
wrong-kernel,demo,fully-qualify,1,1,correct,
wrong-kernel,demo,(total),10,10,ok,"demo.ipynb names the kernel 'julia-1.9', not python3"
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("execute-class")
    subs, out, scratch = base / "submissions", base / "out", base / "scratch"
    scratch.mkdir()
    made = build_execute_class(subs, out)
    checks = base / "checks"
    checks.mkdir()
    (checks / "secret_checks.py").write_text(f"SECRET = {SECRET!r}\nCHECKS = {{}}\n")
    before = tree(subs), tree(checks)
    import socket

    SOCKET_DIR.mkdir(exist_ok=True)
    SOCKET_DIR.chmod(0o777)
    listeners = []
    for address in (str(SOCKET_DIR / "s"), "\0labkit-execute-class"):
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(address)
        listener.listen()
        listener.setblocking(False)
        listeners.append(listener)
    os.chmod(SOCKET_DIR / "s", 0o777)
    saved, tempfile.tempdir = tempfile.tempdir, str(scratch)  # workers fork with it
    try:
        argv = ["grade", str(subs), "-o", str(out / "grades.csv"), "--execute", "-j", "2"]
        argv += ["--cell-timeout", "3", "--timeout", "12", "--checks", str(checks)]
        argv += ["--feedback", str(out / "feedback")]
        assert main([*argv, "--no-progress"]) == 0
        connections = 0
        for listener in listeners:
            try:
                listener.accept()
                connections += 1
            except BlockingIOError:
                pass
    finally:
        tempfile.tempdir = saved
        for listener in listeners:
            listener.close()
        shutil.rmtree(SOCKET_DIR, ignore_errors=True)
    assert connections == 0  # no notebook reached a socket outside its sandbox
    return base, subs, out, scratch, made, before


def test_the_grades_csv_is_exactly_the_golden_one(run):
    _, _, out, _, _, _ = run
    assert (out / "grades.csv").read_text(encoding="utf-8") == GOLDEN


def test_every_student_has_rows_with_a_status_and_a_reason(run):
    _, _, out, _, made, _ = run
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8"))))
    totals = {r["student"]: r for r in rows if r["exercise"] == "(total)"}
    assert sorted(totals) == sorted(made)
    for student, row in totals.items():
        assert row["status"] in STATUS_ORDER, student
        if row["status"] != "ok":
            assert row["reason"], student
    per_student = {s: [r for r in rows if r["student"] == s] for s in made}
    assert all(len(r) == len(LAB.exercises) + 1 for r in per_student.values())


def test_nothing_under_submissions_changed_and_nothing_was_imported(run):
    base, subs, _, _, _, before = run
    assert (tree(subs), tree(base / "checks")) == before
    assert not (base / "IMPORTED-FROM-SUBMISSION").exists()


def test_the_output_folder_holds_only_the_reports(run):
    _, _, out, scratch, _, _ = run
    assert sorted(p.name for p in out.iterdir()) == [
        "feedback",
        "grades-demo.csv",
        "grades-report.html",
        "grades.csv",
    ]
    assert list(scratch.iterdir()) == []


def test_no_process_of_the_run_is_left(run):
    base, _, _, _, _, _ = run
    assert processes_under(base) == []


def totals(out: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8")))
    return {r["student"]: r for r in rows if r["exercise"] == "(total)"}


def test_a_run_with_errors_in_cells_says_so(run):
    _, _, out, _, _, _ = run
    rows = totals(out)
    assert "SystemExit" in rows["sys-exit"]["reason"]
    assert "file-size limit" in rows["disk-filler"]["reason"]
    assert "AttributeError" in rows["monkeypatcher"]["reason"]


def test_a_record_of_another_student_is_not_laundered_by_the_run(run):
    _, _, out, _, _, _ = run
    row = totals(out)["impostor"]
    assert row["status"] == "other-student" or row["score"] == "0", row


def test_the_outputs_hold_no_secret_and_no_peers_work(run):
    """The checks file, the grader's command line and other students' notebooks were out of
    the secret-reader's sight: nothing of them reached its answer or any output."""
    base, _, out, _, _, _ = run
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert SECRET not in text, path
            assert str(base / "checks") not in text, path
            assert "--checks" not in text, path


def test_sandbox_attacks_cost_the_attacker_only(run):
    _, _, out, _, _, _ = run
    rows = totals(out)
    # kill(-1) finds nothing it may signal: the grader and its peers are out of reach
    assert (rows["grader-killer"]["score"], rows["grader-killer"]["status"]) == ("2", "ok")
    assert "ProcessLookupError" in rows["grader-killer"]["reason"]
    assert rows["peer-killer"]["score"] == "2" and rows["peer-killer"]["status"] == "ok"
    assert rows["control-forger"]["status"] == "forged"
    assert "ZeroDivisionError" in rows["control-forger"]["reason"]
    assert "ValueError" in rows["control-forger"]["reason"]
    assert (rows["widgets-only"]["score"], rows["widgets-only"]["status"]) == ("10", "ok")
    assert (rows["perfect"]["score"], rows["perfect"]["status"]) == ("10", "ok")
