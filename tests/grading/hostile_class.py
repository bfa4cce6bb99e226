"""One hostile class, graded in default mode and with ``--execute`` (test_hostile_class.py).

Every student of the class is one attack (or one honest way of working), named by the student
id and documented in one line in :data:`CLASS`. Each submission carries its attack both ways a
grader can meet it: in what the notebook saved (its submission cell's record, the
``labkit-answers`` folder: what default mode reads) and in its code cells (what ``--execute``
runs). A record attack's code cell writes the same forged record where the run's records are
collected (``labkit-answers/planted.json``), so the re-run meets it too.

API:

- ``CLASS``: ``{student: (attack type, what it does)}``, in the order built; ``HONEST``: the
  honest students (``absent`` is on the roster and hands in nothing) and their totals;
- ``build(root, ctx) -> list[str]``: write every submission under ``root/<student>/``;
- ``Context``: the paths and markers the attacks aim at (the checks folder and its secret, the
  output folder, a unix socket folder, a TCP port);
- ``tree(root)``, ``processes_under(base)``: what the shared assertions compare.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grading.fixtures import (
    LAB,
    LAB_ID,
    TIME,
    WRONG_ANSWERS,
    notebook,
    record_for,
    write_submission,
)
from labkit.exercises import Kind
from labkit.records import Record

SECRET = "instructor-secret-4f9d2c"  # in the checks folder only: must reach no output
PEER_MARKER = "peer-notes-7c1e55"  # in honest-perfect's notebook only: must reach no other page
HONEST = {
    "honest-perfect": 10,
    "honest-widgets-only": 10,
    "honest-widgets-folder": 10,
    "honest-mistakes": 3.5,
    "honest-untouched": 0,
}


@dataclass(frozen=True)
class Context:
    """What the attacks aim at: the checks folder, the output folder, sockets outside."""

    base: Path  # the test's folder: submissions/, checks/, out-*/, scratch/ live here
    socket_dir: Path  # a world-writable folder with a listening unix socket ``s``
    abstract: str  # an abstract unix socket's name (no leading NUL)
    tcp_port: int  # a listening TCP port on 127.0.0.1

    @property
    def checks(self) -> Path:
        return self.base / "checks"


# -- cells --------------------------------------------------------------------------------------

SOLVE_ALL = (
    "for exercise in lab.definition.exercises:\n"
    "    variant = lab.variant(exercise.id)\n"
    "    if exercise.kind.value == 'task':\n"
    "        exercise.solve(lab.world, variant)\n"
    "        lab.check(exercise.id)\n"
    "    else:\n"
    "        lab.submit(exercise.id, exercise.key_raw(variant))"
)
TASKS = tuple(e.id for e in LAB.exercises if e.kind is Kind.TASK)


def answers(student: str, *, wrong: bool = False, only: tuple[str, ...] = ()) -> dict[str, Any]:
    """``student``'s answers to the non-task exercises: the key, or typical mistakes."""
    found = {}
    for exercise in LAB.exercises:
        if exercise.kind is Kind.TASK or (only and exercise.id not in only):
            continue
        variant = LAB.variant(exercise, student)
        found[exercise.id] = (
            WRONG_ANSWERS[exercise.id](variant) if wrong else exercise.key_raw(variant)
        )
    return found


def answers_cell(student: str, *, wrong: bool = False, only: tuple[str, ...] = ()) -> str:
    """A cell that submits answers worked out here (no exercise id in its source)."""
    packed = base64.b64encode(json.dumps(answers(student, wrong=wrong, only=only)).encode())
    return (
        "import base64, json\n"
        f"for exercise_id, raw in json.loads(base64.b64decode({packed.decode()!r})).items():\n"
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


def plant_cell(data: dict[str, Any], name: str = "planted.json") -> str:
    """A cell that writes ``data`` as a record where the run's records are collected; its world
    is dated an hour after the run, so a merge with the run's own record keeps its log."""
    packed = base64.b64encode(json.dumps(data).encode()).decode()
    return (
        "import base64, datetime, pathlib\n"
        f"text = base64.b64decode({packed!r}).decode()\n"
        "soon = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)).isoformat()\n"
        "text = text.replace('\"@@SOON@@\"', '\"' + soon + '\"')\n"
        "pathlib.Path('labkit-answers').mkdir(exist_ok=True)\n"
        f"pathlib.Path('labkit-answers', {name!r}).write_text(text)"
    )


def saved(student: str, **options: Any) -> Record:
    """What ``student``'s own kernel saved (fixed times; see fixtures.record_for)."""
    return record_for(student, **options)


def first_answer(student: str) -> Record:
    """A record with one answer (fully-qualified) and nothing solved: an attacker's own work."""
    return record_for(student, answers=answers(student, only=("fully-qualified",)), solve=())


def nothing(student: str) -> Record:
    return record_for(student, answers={}, solve=())


def lab_notebook(
    *cells: str, record: Record | dict[str, Any] | None = None, kernel: str = "python3"
) -> dict[str, Any]:
    """The fixtures' notebook whose last cell shows the record as the real lab's does."""
    made = notebook(record, kernel=kernel, extra=cells)
    made["cells"][-1]["source"] = "lab.submission()"
    return made


def write(folder: Path, *cells: str, record: Any = None, **options: Any) -> Path:
    """``folder/demo.ipynb`` with these code cells and this saved record."""
    data = record.to_json() if isinstance(record, Record) else record
    made = lab_notebook(*cells, record=data, **options)
    write_submission(folder, notebook_json=made)
    return folder


def write_record_file(folder: Path, text: str, name: str = f"{LAB_ID}.json") -> None:
    answers_dir = folder / "labkit-answers"
    answers_dir.mkdir(parents=True, exist_ok=True)
    (answers_dir / name).write_text(text, encoding="utf-8")


def forged(student: str, data: dict[str, Any], *cells: str) -> Callable[[Path, Context], None]:
    """A record attack: ``data`` saved in the notebook and planted again by its code."""

    def make(folder: Path, ctx: Context) -> None:
        write(folder, *cells, plant_cell(_soon(data)), record=data)

    return make


def _soon(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "world_updated": "@@SOON@@"}


# -- the class ------------------------------------------------------------------------------------

Builder = Callable[[Path, Context], None]
CLASS: dict[str, tuple[str, str]] = {}
_BUILDERS: dict[str, Builder] = {}


def student(student_id: str, attack: str, what: str) -> Callable[[Builder], Builder]:
    """Register a student: its attack type (a few words) and what it does (one line)."""

    def register(builder: Builder) -> Builder:
        assert student_id not in CLASS, student_id
        CLASS[student_id] = (attack, what)
        _BUILDERS[student_id] = builder
        return builder

    return register


# -- honest work


@student("honest-perfect", "honest", "answers and solves every exercise in code cells; the "
         "notebook carries its record")  # fmt: skip
def _(folder: Path, ctx: Context) -> None:
    write(folder, f"# my notes: {PEER_MARKER}", SOLVE_ALL, record=saved("honest-perfect"))
    write_record_file(folder, json.dumps(saved("honest-perfect").to_json()))


@student("honest-widgets-only", "honest", "answered in the widgets, handed in only the .ipynb "
         "(answers live only in its saved record); tasks solved in code cells")  # fmt: skip
def _(folder: Path, ctx: Context) -> None:
    write(folder, *map(solve_cell, TASKS), record=saved("honest-widgets-only"))


@student("honest-widgets-folder", "honest", "answered in the widgets, handed in labkit-answers/ "
         "and a notebook with no saved output; tasks solved in code cells")  # fmt: skip
def _(folder: Path, ctx: Context) -> None:
    write(folder, *map(solve_cell, TASKS))
    write_record_file(folder, json.dumps(saved("honest-widgets-folder").to_json()))


@student("honest-mistakes", "honest", "typical wrong answers in the widgets, one task solved")
def _(folder: Path, ctx: Context) -> None:
    record = saved("honest-mistakes", wrong=True, solve=(TASKS[0],))
    write(folder, solve_cell(TASKS[0]), record=record)


@student("honest-untouched", "honest", "ran the lab and answered nothing")
def _(folder: Path, ctx: Context) -> None:
    write(folder, record=nothing("honest-untouched"))


# -- loops, exits and kills (code; the saved record holds one answer given before the attack)


def _attack(student_id: str, *cells: str, before: bool = True) -> Builder:
    def make(folder: Path, ctx: Context) -> None:
        first = (answers_cell(student_id, only=("fully-qualified",)),) if before else ()
        write(folder, *first, *cells, record=first_answer(student_id))

    return make


student("loop-busy", "loop", "a busy loop after one answer")(
    _attack("loop-busy", "x = 0\nwhile True:\n    x += 1")
)
student("loop-sleep", "loop", "a sleeping loop after one answer")(
    _attack("loop-sleep", "import time\nwhile True:\n    time.sleep(0.1)")
)
student("exit-sys", "exit", "sys.exit() between two answers")(
    _attack(
        "exit-sys",
        "import sys\nsys.exit()",
        answers_cell("exit-sys", only=("latest-meaning",)),
    )
)
student("exit-os", "exit", "os._exit(1) between two answers")(
    _attack("exit-os", "import os\nos._exit(1)", answers_cell("exit-os", only=("latest-meaning",)))
)
student("kill-self", "kill", "SIGKILLs its own process")(
    _attack("kill-self", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
)
student("kill-grader", "kill of the grader", "SIGKILL to its parent, pid 1, every pid it can "
        "name, then kill(-1)")(_attack(
    "kill-grader",
    "import os, signal\n"
    "for pid in [os.getppid(), 1, *range(2, 5000)]:\n"
    "    if pid != os.getpid():\n"
    "        try:\n"
    "            os.kill(pid, signal.SIGKILL)\n"
    "        except OSError:\n"
    "            pass\n"
    "os.kill(-1, signal.SIGKILL)",
))  # fmt: skip
student("kill-peers", "kill of peers", "kills every process it can see for a second")(_attack(
    "kill-peers",
    "import os, signal, time\n"
    "end = time.time() + 1\n"
    "while time.time() < end:\n"
    "    for name in os.listdir('/proc'):\n"
    "        if name.isdigit() and int(name) not in (os.getpid(), 1):\n"
    "            try:\n"
    "                os.kill(int(name), signal.SIGKILL)\n"
    "            except OSError:\n"
    "                pass",
))  # fmt: skip
student("bomb-memory", "bomb", "asks for 8 GiB at once, then goes on")(
    _attack("bomb-memory", "hog = bytearray(8 << 30)", "print('still here')")
)
student("bomb-fork", "bomb", "forks 200 sleeping children")(_attack(
    "bomb-fork",
    "import os, time\n"
    "for _ in range(200):\n"
    "    try:\n"
    "        pid = os.fork()\n"
    "    except OSError:\n"
    "        break\n"
    "    if pid == 0:\n"
    "        time.sleep(300)\n"
    "        os._exit(0)",
))  # fmt: skip
student("escape-setsid", "escape", "leaves a grandchild in a new session, sleeping on")(_attack(
    "escape-setsid",
    "import os, time\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        time.sleep(300)\n"
    "    os._exit(0)\n"
    "os.wait()",
))  # fmt: skip
student("bomb-disk", "bomb", "writes a file until the size limit")(_attack(
    "bomb-disk",
    "with open('filler.bin', 'wb') as handle:\n"
    "    while True:\n"
    "        handle.write(b'x' * (1 << 20))",
))  # fmt: skip
student("bomb-output", "bomb", "prints without end")(
    _attack("bomb-output", "while True:\n    print('x' * 65536)")
)


@student("patch-labkit", "tamper", "patches labkit's checks and writes into the grades, the "
         "output folder and honest-perfect's folder")  # fmt: skip
def _(folder: Path, ctx: Context) -> None:
    subs = folder.parent
    targets = [
        ctx.base / "out-default" / "grades.csv",
        ctx.base / "out-execute" / "grades.csv",
        ctx.base / "FROM-A-STUDENT",
        subs / "honest-perfect" / "labkit-answers" / f"{LAB_ID}.json",
        subs / "honest-perfect" / f"{LAB_ID}.ipynb",
    ]
    write(
        folder,
        "import labkit.exercises, labkit.session\n"
        "labkit.exercises.check_answer = lambda *a, **k: 'full marks'\n"
        "labkit.session.check_answer = labkit.exercises.check_answer\n"
        "from pathlib import Path\n"
        f"targets = [Path(p) for p in {[str(t) for t in targets]!r}]\n"
        "here = Path.cwd()\n"
        "for up in [here, *here.parents][:6]:\n"
        "    targets += [up / 'grades.csv',\n"
        "                up / 'honest-perfect' / 'labkit-answers' / 'demo.json']\n"
        "for path in targets:\n"
        "    try:\n"
        "        path.parent.mkdir(parents=True, exist_ok=True)\n"
        "        path.write_text('forged')\n"
        "    except OSError:\n"
        "        pass",
        answers_cell("patch-labkit", wrong=True),
        record=saved("patch-labkit", wrong=True, solve=()),
    )


@student("shadow-modules", "tamper", "a labkit.py, tqdm.py, csv.py and html.py beside its "
         "notebook (importing any writes a marker)")  # fmt: skip
def _(folder: Path, ctx: Context) -> None:
    write(folder, SOLVE_ALL, record=saved("shadow-modules"))
    marker = ctx.base / "IMPORTED-FROM-SUBMISSION"
    shadow = f"open({str(marker)!r}, 'w').write('imported')\nraise SystemExit('shadowed')\n"
    for name in ("labkit.py", "tqdm.py", "csv.py", "html.py"):
        (folder / name).write_text(shadow, encoding="utf-8")


def _reader(student_id: str, paths: Callable[[Path, Context], list[str]], proc: bool) -> Builder:
    """Reads what it can of ``paths`` (and of every process's command line and environment),
    prints it, and submits it as its answer (it answered nothing in its own kernel)."""

    def make(folder: Path, ctx: Context) -> None:
        scan = (
            "import os\n"
            "for pid in os.listdir('/proc'):\n"
            "    for part in ('cmdline', 'environ'):\n"
            "        try:\n"
            "            found.append(open(f'/proc/{pid}/{part}', errors='replace').read())\n"
            "        except OSError:\n"
            "            pass\n"
            if proc
            else ""
        )
        write(
            folder,
            "found = []\n"
            f"for path in {paths(folder, ctx)!r}:\n"
            "    try:\n"
            "        found.append(open(path, errors='replace').read()[:2000])\n"
            "    except OSError:\n"
            "        pass\n" + scan + "print('\\n'.join(found))\n"
            "lab.submit('fully-qualified', ' '.join(found)[:3000] or 'nothing')\n"
            "lab.submit('latest-meaning', ' '.join(found)[:3000] or 'nothing')",
            record=nothing(student_id),
        )

    return make


student(
    "read-checks",
    "read of secrets",
    "reads the instructor's --checks folder (its checks and the assessment's key) and answers "
    "with it",
)(
    _reader(
        "read-checks",
        lambda folder, ctx: [
            str(ctx.checks / "secret_checks.py"),
            str(ctx.checks / "assessment_key.py"),
        ],
        proc=False,
    )
)
student(
    "read-cmdline",
    "read of secrets",
    "reads every process's command line and environment "
    "(the grader's names --checks) and answers with them",
)(_reader("read-cmdline", lambda folder, ctx: ["/proc/1/cmdline"], proc=True))
student("read-home", "read of secrets", "reads the instructor's home, /etc/shadow and /root")(
    _reader(
        "read-home",
        lambda folder, ctx: [
            str(Path.home() / ".bash_history"),
            str(Path.home() / ".ssh" / "id_rsa"),
            "/etc/shadow",
            "/root/.profile",
        ],
        proc=False,
    )
)
student("read-peers", "read of peers", "reads honest-perfect's notebook and record and "
        "answers with them")(_reader("read-peers", lambda folder, ctx: [
    str(folder.parent / "honest-perfect" / f"{LAB_ID}.ipynb"),
    str(folder.parent / "honest-perfect" / "labkit-answers" / f"{LAB_ID}.json"),
    "../honest-perfect/demo.ipynb"], proc=False))  # fmt: skip


@student("write-peers-proc", "write to peers", "writes a forged record into every other "
         "process's folder through /proc/PID/cwd and /proc/PID/root")  # fmt: skip
def _(folder: Path, ctx: Context) -> None:
    write(
        folder,
        answers_cell("write-peers-proc", only=("fully-qualified",)),
        "import os, time\n"
        "end = time.time() + 1\n"
        "while time.time() < end:\n"
        "    for pid in os.listdir('/proc'):\n"
        "        if not pid.isdigit() or int(pid) == os.getpid():\n"
        "            continue\n"
        "        for way in ('cwd', 'root'):\n"
        "            try:\n"
        "                target = f'/proc/{pid}/{way}/labkit-answers'\n"
        "                os.makedirs(target, exist_ok=True)\n"
        "                open(f'{target}/demo.json', 'w').write('{\"forged\": true}')\n"
        "            except OSError:\n"
        "                pass\n"
        "    time.sleep(0.05)",
        record=first_answer("write-peers-proc"),
    )


@student("socket-unix", "socket", "connects to a unix socket in a world-writable folder and to "
         "an abstract one")  # fmt: skip
def _(folder: Path, ctx: Context) -> None:
    write(folder, _connect_cell([("AF_UNIX", str(ctx.socket_dir / "s")),
                                 ("AF_UNIX", "\0" + ctx.abstract)]),
          record=nothing("socket-unix"))  # fmt: skip


@student("socket-tcp", "socket", "connects to a listening TCP port on 127.0.0.1")
def _(folder: Path, ctx: Context) -> None:
    write(folder, _connect_cell([("AF_INET", ("127.0.0.1", ctx.tcp_port))]),
          record=nothing("socket-tcp"))  # fmt: skip


def _connect_cell(addresses: list[tuple[str, Any]]) -> str:
    return (
        "import socket\n"
        f"for family, address in {addresses!r}:\n"
        "    s = socket.socket(getattr(socket, family))\n"
        "    s.settimeout(1)\n"
        "    try:\n"
        "        s.connect(tuple(address) if isinstance(address, list) else address)\n"
        "        s.sendall(b'hello from a notebook')\n"
        "    except OSError:\n"
        "        pass"
    )


@student("pipe-control", "pipe", "a failing cell, then fake done, start and finished lines on "
         "the grader's control pipe, then another failing cell")  # fmt: skip
def _(folder: Path, ctx: Context) -> None:
    write(
        folder,
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
        record=nothing("pipe-control"),
    )


@student("pipe-fifo", "pipe", "labkit-answers/demo.json is a FIFO (a reader would block)")
def _(folder: Path, ctx: Context) -> None:
    write(folder, answers_cell("pipe-fifo", only=("fully-qualified",)))
    (folder / "labkit-answers").mkdir()
    os.mkfifo(folder / "labkit-answers" / f"{LAB_ID}.json")


# -- records forged, borrowed and merged (saved, and planted again by the code)


def _register_records() -> None:
    perfect = saved("honest-perfect").to_json()

    edited = saved("forged-scores", wrong=True, solve=()).to_json()
    edited["score"] = 11
    edited["grades"] = {e.id: e.points for e in LAB.exercises}
    for entry in edited["answers"].values():
        entry["status"] = "correct"
    student("forged-scores", "forged record", "wrong answers with full marks typed into the "
            "record")(forged("forged-scores", edited))  # fmt: skip

    push = saved("forged-outcome", solve=()).to_json()
    target = LAB.variant("push-your-image", "forged-outcome").params["target"]
    push["events"] = [
        {"seq": 20, "time": TIME, "kind": "docker", "actor": "student",
         "action": f"docker push {target}", "args": {"stdin": False},
         "outcome": {"exit_code": 0, "output": "0123456789abcdef"}},
    ]  # fmt: skip
    student("forged-outcome", "forged record", "a push the log says succeeded, which replays as "
            "refused")(forged("forged-outcome", push))  # fmt: skip

    junk = saved("forged-junk", solve=()).to_json()
    junk["events"] = [{"seq": 1, "time": "yesterday", "kind": "magic", "actor": "x", "action": "y"}]
    student("forged-junk", "forged record", "an event log that cannot be replayed at all")(
        forged("forged-junk", junk)
    )

    impostor = saved("actor-teammate", solve=()).to_json()
    teammate = LAB.params_for("actor-teammate")["teammate"]
    impostor["events"] = [
        {"seq": 30, "time": TIME, "kind": "hub", "actor": teammate,
         "action": "create_repository", "args": {"name": "notes", "private": False},
         "outcome": {"ok": True}},
    ]  # fmt: skip
    student("actor-teammate", "impossible actor", "a Hub action done as its teammate, whose "
            "password the lab never gave it")(forged("actor-teammate", impostor))  # fmt: skip

    registry = saved("actor-docker", solve=()).to_json()
    registry["events"] = [
        {"seq": 30, "time": TIME, "kind": "docker", "actor": "root", "action": "docker images",
         "args": {"stdin": False}, "outcome": {"exit_code": 0, "output": ""}},
    ]  # fmt: skip
    student("actor-docker", "impossible actor", "a docker command run as 'root', not as the "
            "student")(forged("actor-docker", registry))  # fmt: skip

    merged = saved("merged-record", solve=()).to_json()
    merged["events"] = perfect["events"]
    student("merged-record", "merged record", "its own answers merged with honest-perfect's "
            "event log")(forged("merged-record", merged))  # fmt: skip

    saved_only = saved("merged-saved-only").to_json()
    saved_only["events"] = perfect["events"]

    @student("merged-saved-only", "merged record", "honest-perfect's event log in its saved "
             "record only; its code solves its own tasks")  # fmt: skip
    def _(folder: Path, ctx: Context) -> None:
        write(folder, *map(solve_cell, TASKS), record=saved_only)

    @student("copied-record", "copied record", "honest-perfect's record, copied into its folder "
             "and its notebook")  # fmt: skip
    def _(folder: Path, ctx: Context) -> None:
        write(folder, plant_cell(perfect, "copied.json"), record=perfect)
        write_record_file(folder, json.dumps(perfect))

    tries = saved("too-many-tries").to_json()
    tries["answers"]["latest-meaning"]["tries"] = 40
    student("too-many-tries", "forged record", "40 tries claimed on an exercise that allows 2")(
        forged("too-many-tries", tries)
    )
    shuffled = saved("seq-backwards").to_json()
    shuffled["events"] = [{**e, "seq": 100 - e["seq"]} for e in shuffled["events"]]
    student("seq-backwards", "forged record", "event sequence numbers that go back")(
        forged("seq-backwards", shuffled)
    )
    future = saved("date-future").to_json()
    for entry in future["answers"].values():
        entry["time"] = "2999-01-01T00:00:00+00:00"
    student("date-future", "forged record", "answers dated in the year 2999")(
        forged("date-future", future)
    )
    changed = saved("old-variant").to_json()
    changed["fingerprint"] = "000000000000"
    changed["labkit_version"] = "0.0.1"
    student("old-variant", "forged record", "a record from another labkit version and variant")(
        forged("old-variant", changed)
    )

    @student("lab-ids-invented", "unknown lab", "records for invented, over-long, formula and "
             "path-like lab ids")  # fmt: skip
    def _(folder: Path, ctx: Context) -> None:
        extra = []
        for index, lab_id in enumerate(("=cmd|'/c calc'!A0", "y" * 5000, "fake-lab", "../../etc")):
            data = saved("lab-ids-invented").to_json()
            data["lab"] = lab_id
            write_record_file(folder, json.dumps(data), f"extra{index}.json")
            extra.append(plant_cell(data, f"extra{index}.json"))
        write(folder, SOLVE_ALL, *extra, record=saved("lab-ids-invented"))


_register_records()


# -- ids a spreadsheet would evaluate, ids that collide


def _plain(student_id: str, *, wrong: bool = False) -> Builder:
    """Honest work under an awkward id: the key (or typical mistakes) and both tasks solved."""

    def make(folder: Path, ctx: Context) -> None:
        cells = map(solve_cell, TASKS) if wrong else (SOLVE_ALL,)
        write(folder, *cells, record=saved(student_id, wrong=wrong))

    return make


for _id, _what in (
    ('=HYPERLINK("evil")', "a folder name that is a spreadsheet formula (=)"),
    ("@SUM(1+1)", "a folder name that starts with @"),
    ("+cmd", "a folder name that starts with +"),
    ("-2+3", "a folder name that starts with -"),
):
    student(_id, "CSV formula", _what)(_plain(_id))
student("twin:a", "colliding ids", "an id that folds to the file name twin_a")(_plain("twin:a"))
student("twin_a", "colliding ids", "the id twin:a folds to, with other answers")(
    _plain("twin_a", wrong=True)
)
student("Case-Twin", "colliding ids", "an id equal to case-twin but for case")(_plain("Case-Twin"))
student("case-twin", "colliding ids", "the id Case-Twin folds to, with other answers")(
    _plain("case-twin", wrong=True)
)


# -- bombs and invalid numbers in the records


@student("bomb-replay", "bomb", "an event log of 6,000 events (the grader replays at most 5,000)")
def _(folder: Path, ctx: Context) -> None:
    data = saved("bomb-replay").to_json()
    events, seq = [], 1
    while len(events) < 6000:
        for event in data["events"]:
            events.append({**event, "seq": seq})
            seq += 1
    data["events"] = events[:6000]
    write(folder, plant_cell(_soon(data)), record=data)


@student("bomb-json", "bomb", "a 60 MB record of empty lists (1.4 GB once parsed)")
def _(folder: Path, ctx: Context) -> None:
    write(folder, answers_cell("bomb-json", only=("fully-qualified",)))
    text = json.dumps(first_answer("bomb-json").to_json())
    write_record_file(folder, text[:-1] + ', "bomb": [' + "[]," * 20_000_000 + "[]]}")


@student("bomb-huge-file", "bomb", "a 65 MiB record file (sparse), over the size limit")
def _(folder: Path, ctx: Context) -> None:
    write(folder, answers_cell("bomb-huge-file", only=("fully-qualified",)))
    (folder / "labkit-answers").mkdir()
    with open(folder / "labkit-answers" / f"{LAB_ID}.json", "wb") as handle:
        handle.truncate(65 << 20)


@student("answers-weird", "invalid numbers", "a 10 MB string, NaN, a 5,000-digit integer and "
         "200 levels of nesting as answers")  # fmt: skip
def _(folder: Path, ctx: Context) -> None:
    data = saved("answers-weird", solve=()).to_json()
    replacements = {
        "fully-qualified": json.dumps("x" * 10_000_000),
        "latest-meaning": "NaN",
        "name-the-parts": "9" * 5000,
        "fully-qualify": "[" * 200 + "]" * 200,
    }
    for exercise_id in replacements:
        data["answers"][exercise_id]["raw"] = f"@@{exercise_id}@@"
    text = json.dumps(data)
    for exercise_id, value in replacements.items():
        text = text.replace(json.dumps(f"@@{exercise_id}@@"), value)
    write(folder)
    write_record_file(folder, text)


@student("numbers-non-finite", "invalid numbers", "NaN and Infinity as tries, sequence numbers "
         "and exit codes")  # fmt: skip
def _(folder: Path, ctx: Context) -> None:
    text = json.dumps(saved("numbers-non-finite").to_json())
    text = text.replace('"tries": 1', '"tries": NaN', 1).replace(
        '"seq": ', '"seq": Infinity, "s": ', 1
    )
    text = text.replace('"exit_code": 0', '"exit_code": -Infinity', 1)
    write(folder, SOLVE_ALL)
    write_record_file(folder, text)


@student("answers-always-equal", "forged record", "objects pretending to equal anything, as "
         "answers")  # fmt: skip
def _(folder: Path, ctx: Context) -> None:
    data = saved("answers-always-equal", solve=()).to_json()
    data["answers"]["fully-qualify"]["raw"] = {"__eq__": True, "__class__": "AlwaysEqual"}
    data["answers"]["latest-meaning"]["raw"] = {"__eq__": "lambda self, other: True"}
    forged("answers-always-equal", data)(folder, ctx)


# -- files that lead elsewhere, and broken notebooks


@student("symlink-out", "read of peers", "labkit-answers/demo.json links to honest-perfect's "
         "record")  # fmt: skip
def _(folder: Path, ctx: Context) -> None:
    write(folder)
    (folder / "labkit-answers").mkdir()
    os.symlink(
        folder.parent / "honest-perfect" / "labkit-answers" / f"{LAB_ID}.json",
        folder / "labkit-answers" / f"{LAB_ID}.json",
    )


@student("symlink-loop", "loop", "labkit-answers/demo.json links to itself; up/ links to ..")
def _(folder: Path, ctx: Context) -> None:
    write(folder)
    (folder / "labkit-answers").mkdir()
    os.symlink(f"{LAB_ID}.json", folder / "labkit-answers" / f"{LAB_ID}.json")
    (folder / "up").symlink_to("..")


@student("notebook-cut", "broken notebook", "a notebook cut short (invalid JSON)")
def _(folder: Path, ctx: Context) -> None:
    folder.mkdir()
    whole = json.dumps(lab_notebook(SOLVE_ALL, record=saved("notebook-cut").to_json()), indent=1)
    (folder / f"{LAB_ID}.ipynb").write_text(whole[: len(whole) // 2], encoding="utf-8")


@student("notebook-non-utf8", "broken notebook", "a notebook with bytes that are not UTF-8")
def _(folder: Path, ctx: Context) -> None:
    folder.mkdir()
    body = json.dumps(lab_notebook(SOLVE_ALL, record=saved("notebook-non-utf8").to_json()))
    bad = body[:100].encode() + b"\xff\xfe" + body[100:].encode()
    (folder / f"{LAB_ID}.ipynb").write_bytes(bad)


@student("notebook-julia", "broken notebook", "a julia-1.9 kernel name on a perfect notebook")
def _(folder: Path, ctx: Context) -> None:
    write(folder, SOLVE_ALL, record=saved("notebook-julia"), kernel="julia-1.9")


def build(root: Path, ctx: Context) -> list[str]:
    """Write every student's submission under ``root``; the student ids, in the order built."""
    for student_id, builder in _BUILDERS.items():
        builder(root / student_id, ctx)
    return list(CLASS)


# -- what the shared assertions compare -----------------------------------------------------------


def tree(root: Path) -> dict[str, str]:
    """Every path under root: a hash of a file's bytes, a link's target, or its kind."""
    found = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.is_symlink():
            found[name] = "-> " + os.readlink(path)
        elif path.is_fifo():
            found[name] = "fifo"
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
