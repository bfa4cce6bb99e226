"""Warm sandboxes (:mod:`labkit.grading.zygote`): one zygote per slot forks each notebook into
namespaces of its own; runs that share a zygote cannot see or outlive each other, and a run the
grader must stop ends its whole sandbox, the next one starting fresh (Linux, root grader)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest

from labkit.grading import execute, processes
from labkit.grading.execute import Limits, check_isolation, execute_submission, keep_warm

pytestmark = [
    pytest.mark.slow,  # five sandboxes, a stopped run: ~10 s
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--execute is Linux only"),
    pytest.mark.skipif(
        not (check_isolation().complete and check_isolation().own_uid),
        reason="warm sandboxes need a root grader with bubblewrap",
    ),
    pytest.mark.timeout(120),
]
LIMITS = Limits(cell_seconds=4, total_seconds=10, output_bytes=64 << 10)


def notebook(path: Path, *cells: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {},
                "cells": [
                    {"cell_type": "code", "metadata": {}, "source": source, "outputs": []}
                    for source in cells
                ],
            }
        )
    )
    return path


def stdout(result) -> str:
    return "".join(
        output.get("text", "")
        for cell in result.notebook["cells"]
        for output in cell.get("outputs", [])
        if output.get("name") == "stdout"
    )


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_the_isolation_report_says_notebooks_start_warm_after_a_probe_from_inside():
    found = check_isolation(warm=True)
    assert found.warm is True, found.problems
    assert "started warm" in found.report() and "probe notebook" in found.report()


def test_runs_sharing_a_zygote_see_nothing_of_each_other_and_nothing_outlives_a_run(
    tmp_path, scratch
):
    plant = notebook(
        tmp_path / "a" / "lab.ipynb",
        "import os, subprocess, pathlib\n"
        "for where in ('/tmp', '/dev/shm', os.environ['HOME'], '.'):\n"
        "    pathlib.Path(where, 'planted').write_text('secret of a')\n"
        "subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    import time; time.sleep(300)\n"
        "print('zygote', os.getppid(), 'planted')",
    )
    look = notebook(
        tmp_path / "b" / "lab.ipynb",
        "import os, json\n"
        "found = [w for w in ('/tmp', '/dev/shm', os.environ['HOME'], '.')\n"
        "         for f in os.listdir(w) if f == 'planted']\n"
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "print(json.dumps({'found': found, 'pids': pids, 'uid': os.getuid()}))",
    )
    with keep_warm():
        first = execute_submission(plant, student="a", lab="demo", limits=LIMITS)
        zygote = execute._kept.sandbox.zygote.process.pid
        uid = execute._kept.sandbox.uid
        assert processes.end_processes_of(uid) == []  # the sleepers ended with the run
        second = execute_submission(look, student="b", lab="demo", limits=LIMITS)
        assert execute._kept.sandbox.zygote.process.pid == zygote  # the same warm zygote
    assert first.status == "ok", first.reason
    assert "planted" in stdout(first)
    assert second.status == "ok", second.reason
    seen = json.loads(stdout(second))
    assert seen["found"] == [] and set(seen["pids"]) <= {1, 2} and seen["uid"] == uid
    assert list(scratch.iterdir()) == []  # the slot's folder went with the block
    assert not any(p.stat().st_uid == uid for p in Path("/proc").iterdir() if p.name.isdigit())


def test_the_runner_cannot_signal_its_init_regain_root_nor_uncover_what_is_hidden(
    tmp_path, scratch
):
    path = notebook(
        tmp_path / "lab.ipynb",
        "import os, signal, ctypes\n"
        "try:\n"
        "    os.kill(1, signal.SIGKILL); print('signalled init')\n"
        "except PermissionError:\n"
        "    print('init refused')\n"
        "try:\n"
        "    os.setuid(0); print('root again')\n"
        "except OSError:\n"
        "    print('setuid refused')\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "print('umount before', libc.umount2(b'/tmp', 2))\n"
        # a user namespace of its own (as under any bubblewrap sandbox) gives capabilities
        # there only: the mounts it inherited are locked together and stay
        "libc.unshare(0x10000000 | 0x00020000)\n"  # NEWUSER | NEWNS
        "print('umount after', libc.umount2(b'/tmp', 2), libc.umount2(b'/proc', 2))\n"
        "print('pids', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))",
    )
    result = execute_submission(path, student="s", lab="demo", limits=LIMITS)
    text = stdout(result)
    assert result.status == "ok", result.reason
    assert "init refused" in text and "setuid refused" in text, text
    assert "umount before -1" in text and "umount after -1 -1" in text, text
    assert "pids [1, 2]" in text, text


def test_a_run_the_grader_stops_ends_its_sandbox_and_the_next_run_gets_a_fresh_one(
    tmp_path, scratch
):
    loop = notebook(tmp_path / "a" / "lab.ipynb", "while True:\n    pass")
    fine = notebook(tmp_path / "b" / "lab.ipynb", "print('fine', 6 * 7)")
    with keep_warm():
        stopped = execute_submission(loop, student="a", lab="demo", limits=LIMITS)
        assert execute._kept.sandbox.zygote is None  # ended with the stopped run
        after = execute_submission(fine, student="b", lab="demo", limits=LIMITS)
    assert stopped.status == "timed-out", stopped.reason
    assert after.status == "ok" and "fine 42" in stdout(after), after.reason
    assert list(scratch.iterdir()) == []


def test_without_a_warm_sandbox_each_notebook_starts_cold(tmp_path, scratch, monkeypatch):
    monkeypatch.setenv(execute.COLD_VARIABLE, "1")
    path = notebook(tmp_path / "lab.ipynb", "import os\nprint('pid', os.getpid())")
    result = execute_submission(path, student="s", lab="demo", limits=LIMITS)
    assert result.status == "ok" and "pid 2" in stdout(result), result.reason
