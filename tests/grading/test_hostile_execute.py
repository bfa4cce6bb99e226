"""Hostile and broken submissions in ``--execute`` mode: each gets a status and a reason,
quickly, and leaves no process behind (Linux only)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
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


def test_forged_control_lines_do_not_erase_the_failure_notes(class_folder):
    """The notebook's code shares the runner's process and can find its control pipe: fake
    "done" and "finished" lines are named, ignored, and the cells' errors stay."""
    forge = (
        "import json, os\n"
        "for name in os.listdir('/proc/self/fd'):\n"
        "    try:\n"
        "        fd = int(name)\n"
        "        if fd > 2 and os.readlink(f'/proc/self/fd/{fd}').startswith('pipe:'):\n"
        "            for cell in range(1, 8):\n"
        "                for event in ('done', 'start'):\n"
        "                    os.write(fd, (json.dumps({'event': event, 'cell': cell,\n"
        "                        'outputs': [], 'execution_count': 1}) + '\\n').encode())\n"
        '            os.write(fd, b\'{"event": "finished"}\\n\')\n'
        "    except OSError:\n"
        "        pass"
    )
    result = run(class_folder, "1 / 0", "undefined_name", forge, "raise ValueError('late')")
    assert result.status == "forged", result.reason
    assert "ZeroDivisionError" in result.reason and "NameError" in result.reason
    assert "ValueError" in result.reason
    assert "control channel" in result.reason


sandboxed = pytest.mark.skipif(
    isolation() == "limits only", reason="needs the bubblewrap sandbox (labkit grade refuses)"
)


@sandboxed
def test_the_grader_and_other_processes_cannot_be_seen_or_signalled(class_folder):
    """Its own PID namespace and uid: /proc shows only the sandbox, and SIGKILL to everything
    it can name (and to -1) reaches nothing outside."""
    me = os.getpid()
    result = run(
        class_folder,
        "import os, signal\n"
        "print('visible', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n"
        "for p in range(2, 70000):\n"
        "    if p != os.getpid():\n"
        "        try:\n"
        "            os.kill(p, signal.SIGKILL)\n"
        "        except OSError:\n"
        "            pass\n"
        f"for p in (1, os.getppid(), {me}):\n"
        "    try:\n"
        "        os.kill(p, signal.SIGKILL)\n"
        "        print('killed', p)\n"
        "    except OSError as e:\n"
        "        print('refused', p, e.errno)",
        "print('still here')",
    )
    text = outputs_text(result)
    assert result.status == "ok", result.reason
    visible = json.loads(text.split("visible ")[1].split("\\n")[0])
    assert len(visible) <= 3 and me not in visible
    assert "killed" not in text and "still here" in text
    assert os.getpid() == me  # the test (as the grader) is alive


@sandboxed
def test_secrets_the_home_and_other_students_are_not_visible(class_folder):
    secret = class_folder / "checks" / "secret_checks.py"
    secret.parent.mkdir()
    secret.write_text("ANSWER = 'the-hidden-answer-42'\n")
    peer = class_folder / "labkit-execute-peer"  # beside the scratch folders
    peer.mkdir()
    (peer / "notebook.ipynb").write_text("peer-notebook-secret")
    result = run(
        class_folder,
        "import os\n"
        f"paths = [{str(secret)!r}, {str(peer / 'notebook.ipynb')!r}, "
        f"{str(class_folder / 'submitted' / 'alice' / 'demo' / 'labkit-answers' / 'demo.json')!r},"
        " '/etc/shadow', '/etc/passwd', '/root/.bash_history', '/proc/1/cmdline',"
        " '/proc/1/environ']\n"
        "for path in paths:\n"
        "    try:\n"
        "        print('READ', path, open(path, 'rb').read()[:200])\n"
        "    except OSError as error:\n"
        "        print('no', path, type(error).__name__)\n"
        "print('root', sorted(os.listdir('/')))\n"
        "print('tmp', os.listdir('/tmp'))",
    )
    text = outputs_text(result)
    assert result.status == "ok", result.reason
    assert "READ" not in text.replace("READ /proc/1/cmdline", "").replace(
        "READ /proc/1/environ", ""
    )
    assert "the-hidden-answer-42" not in text and "peer-notebook-secret" not in text
    assert "labkit-execute-peer'" not in text.split("'tmp'")[-1]
    assert "'etc'" not in text and "'home'" not in text


@sandboxed
def test_no_socket_reaches_outside(class_folder, tmp_path):
    """No network (own namespace), no abstract unix socket (per network namespace), no unix
    socket file in a world-writable folder (not in its file system)."""
    import socket

    folder = Path(tempfile.mkdtemp(dir="/tmp", prefix="labkit-test-sock-"))
    folder.chmod(0o777)
    path_server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path_server.bind(str(folder / "s"))
    os.chmod(folder / "s", 0o777)
    path_server.listen()
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    name = f"labkit-test-{uuid.uuid4().hex}"
    abstract.bind("\0" + name)
    abstract.listen()
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen()
    try:
        result = run(
            class_folder,
            "import socket\n"
            "for family, address in [\n"
            f"        (socket.AF_UNIX, {str(folder / 's')!r}),\n"
            f"        (socket.AF_UNIX, '\\0' + {name!r}),\n"
            f"        (socket.AF_INET, ('127.0.0.1', {tcp.getsockname()[1]}))]:\n"
            "    s = socket.socket(family, socket.SOCK_STREAM)\n"
            "    s.settimeout(2)\n"
            "    try:\n"
            "        s.connect(address)\n"
            "        print('CONNECTED', address)\n"
            "    except OSError as error:\n"
            "        print('refused', type(error).__name__)",
        )
    finally:
        for sock in (path_server, abstract, tcp):
            sock.close()
        shutil.rmtree(folder)
    text = outputs_text(result)
    assert result.status == "ok", result.reason
    assert "CONNECTED" not in text and text.count("refused") == 3


@sandboxed
def test_two_notebooks_at_once_run_as_different_users_and_cannot_touch_each_other(
    class_folder,
):
    from labkit.grading.execute import ExecutionItem, execute_many

    cell = (
        "import os, time\n"
        "print('uid', os.getuid())\n"
        "time.sleep(0.5)\n"
        "print('pids', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n"
        "print('scratch', os.listdir(os.path.dirname(os.getcwd())))"
    )
    items = []
    for student in ("p1", "p2"):
        path = class_folder / "submitted" / student / "lab.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(notebook(cell)))
        items.append(ExecutionItem(path, student, "demo"))
    results = execute_many(items, jobs=2, limits=LIMITS)
    texts = [outputs_text(r) for r in results]
    assert all(r.status == "ok" for r in results), [r.reason for r in results]
    uids = [t.split("uid ")[1].split("\\n")[0] for t in texts]
    if isolation() == "bwrap+uid":
        assert uids[0] != uids[1] and "0" not in uids
    for text in texts:
        assert len(json.loads(text.split("pids ")[1].split("\\n")[0])) <= 3
        assert text.split("scratch ")[1].count("labkit-execute-") == 1  # its own scratch only
