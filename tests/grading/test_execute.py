"""The --execute runner: outputs per cell, magics, environment, records, several at once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from labkit.grading.execute import (
    ExecutionItem,
    Limits,
    NotANotebook,
    execute_many,
    execute_submission,
    load_notebook,
)

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--execute is Linux only"),
    pytest.mark.timeout(60),
]
LIMITS = Limits(cell_seconds=10, total_seconds=20, output_bytes=64 << 10)


def write_notebook(path: Path, *cells: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
                "cells": [
                    {
                        "cell_type": "code",
                        "id": f"c{index}",
                        "metadata": {},
                        "source": source.splitlines(keepends=True),
                        "outputs": [{"output_type": "stream", "name": "stdout", "text": "old"}],
                        "execution_count": 99,
                    }
                    for index, source in enumerate(cells)
                ],
            }
        )
    )
    return path


def test_outputs_are_captured_per_cell_like_a_kernel(tmp_path):
    path = write_notebook(
        tmp_path / "lab.ipynb",
        "print('hello')\n40 + 2",
        "from IPython.display import display, HTML\ndisplay(HTML('<b>bold</b>'))",
        "import sys\nprint('warn', file=sys.stderr)",
        "1 / 0",
        "None",
    )
    result = execute_submission(path, student="s1", lab="demo", limits=LIMITS)
    assert result.status == "ok"
    assert "cell 4 (ZeroDivisionError)" in result.reason
    cells = result.notebook["cells"]
    assert [cell["execution_count"] for cell in cells] == [1, 2, 3, 4, 5]
    assert cells[0]["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": "hello\n"},
        {"output_type": "execute_result", "execution_count": 1, "data": {"text/plain": "42"},
         "metadata": {}},
    ]  # fmt: skip
    assert cells[1]["outputs"][0]["data"]["text/html"] == "<b>bold</b>"
    assert cells[2]["outputs"] == [{"output_type": "stream", "name": "stderr", "text": "warn\n"}]
    assert cells[3]["outputs"][0]["ename"] == "ZeroDivisionError"
    assert cells[4]["outputs"] == []


def test_magics_and_widgets_work_without_a_kernel(tmp_path):
    path = write_notebook(
        tmp_path / "lab.ipynb",
        "%load_ext labkit",
        "%docker pull alpine",
        "%%docker\ndocker images",
        "import ipywidgets\nipywidgets.IntSlider(3)",
    )
    result = execute_submission(path, student="s1", lab="demo", limits=LIMITS)
    assert result.status == "ok", result.reason
    cells = result.notebook["cells"]
    assert "Pulling from library/alpine" in cells[1]["outputs"][0]["text"]
    assert "alpine" in cells[2]["outputs"][0]["text"]
    assert "application/vnd.jupyter.widget-view+json" in cells[3]["outputs"][0]["data"]


def test_the_child_runs_as_the_student_in_a_scratch_folder(tmp_path):
    folder = tmp_path / "alice"
    path = write_notebook(
        folder / "lab.ipynb",
        "import os, sys\n"
        "print(os.environ['LABKIT_GRADING'], os.environ['LABKIT_STUDENT'])\n"
        "print(os.getcwd())\n"
        "print(sorted(os.listdir('.')))\n"
        "print(os.getcwd() in sys.path, '' in sys.path)\n"
        "print(input.__name__)",
        "input()",
    )
    (folder / "secret.txt").write_text("not copied")
    result = execute_submission(path, student="alice-42", lab="demo", limits=LIMITS)
    lines = result.notebook["cells"][0]["outputs"][0]["text"].splitlines()
    assert lines[0] == "1 alice-42"
    assert lines[1] != str(folder)
    assert "secret.txt" not in lines[2] and "lab.ipynb" in lines[2]
    assert lines[3] == "False False"
    assert result.notebook["cells"][1]["outputs"][0]["ename"] == "EOFError"  # never blocks


def test_saved_records_are_copied_in_and_the_runs_records_come_back(tmp_path):
    folder = tmp_path / "bob"
    answers = folder / "labkit-answers"
    answers.mkdir(parents=True)
    (answers / "demo.json").write_text(json.dumps({"lab": "demo", "saved": True}))
    (answers / "notes.txt").write_text("ignored")
    path = write_notebook(
        folder / "lab.ipynb",
        "import json, pathlib\n"
        "saved = json.loads(pathlib.Path('labkit-answers/demo.json').read_text())\n"
        "pathlib.Path('labkit-answers/other.json').write_text(json.dumps({'seen': saved}))",
    )
    before = path.read_bytes()
    result = execute_submission(path, student="bob", lab="demo", limits=LIMITS, extra_files=answers)
    assert result.status == "ok", result.reason
    assert result.records == [
        {"lab": "demo", "saved": True},
        {"seen": {"lab": "demo", "saved": True}},
    ]
    assert path.read_bytes() == before
    assert sorted(p.name for p in answers.iterdir()) == ["demo.json", "notes.txt"]


def test_execute_many_keeps_the_items_order(tmp_path):
    items = [
        ExecutionItem(write_notebook(tmp_path / f"s{n}.ipynb", f"print({n})"), f"s{n}", "demo")
        for n in range(4)
    ]
    done = []
    results = execute_many(items, 2, limits=LIMITS, on_done=lambda index, _: done.append(index))
    assert [r.notebook["cells"][0]["outputs"][0]["text"] for r in results] == [
        f"{n}\n" for n in range(4)
    ]
    assert sorted(done) == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "text",
    ['{"nbformat": 4}', '{"nbformat": 4, "cells": [1]}', '{"nbformat": 4.0, "cells": "x"}'],
)
def test_load_notebook_refuses_what_is_not_a_notebook(text):
    with pytest.raises(NotANotebook):
        load_notebook(text.encode())


def test_bubblewrap_shows_only_the_runtime_read_only_and_the_scratch_writable(
    monkeypatch, tmp_path
):
    """A checkout or venv under /tmp (CI clones anywhere) is hidden by the child's empty /tmp
    unless it is bound again, read-only; nothing else of the machine is bound (no ``/``, no
    home, no /etc); a root grader drops to the slot's uid with setpriv."""
    from labkit.grading import execute

    venv = Path("/tmp/some-clone/.venv")
    monkeypatch.setattr(execute, "_runtime_paths", lambda: [Path("/usr"), venv])
    args = execute._sandbox_prefix("/usr/bin/bwrap", tmp_path, 420_007)
    tmpfs = args.index("--tmpfs")
    bound = [args[i + 1] for i, a in enumerate(args) if a == "--ro-bind"]
    assert bound == ["/usr", str(venv)]
    assert args.index(str(venv)) > tmpfs  # after /tmp is emptied
    assert args[args.index("--bind") + 1] == str(tmp_path)
    for flag in ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent",
                 "--new-session"):  # fmt: skip
        assert flag in args
    assert "--reuid=420007" in args and "--no-new-privs" in args
    assert args[-1] == "--"


def test_isolation_is_complete_here_or_says_why():
    from labkit.grading.execute import check_isolation

    found = check_isolation()
    assert found.complete or found.problems
    assert ("in force" in found.report()) == found.complete


def test_without_a_sandbox_the_notebook_is_refused_unless_allowed(monkeypatch, tmp_path):
    from labkit.grading import execute

    monkeypatch.setitem(
        execute._isolation_cache,
        "checked",
        execute.Isolation(False, False, "none", ("bubblewrap (bwrap) is not installed",)),
    )
    path = write_notebook(tmp_path / "lab.ipynb", "print(6 * 7)")
    refused = execute_submission(path, student="s1", lab="demo", limits=LIMITS)
    assert refused.status == "error"
    assert "refused" in refused.reason and "bwrap" in refused.reason
    assert refused.notebook["cells"][0]["execution_count"] is None
    allowed = execute_submission(path, student="s1", lab="demo", limits=LIMITS, unisolated_ok=True)
    assert allowed.status == "ok", allowed.reason


def test_grade_check_isolation_reports_and_grading_refuses_without_a_sandbox(
    monkeypatch, tmp_path, capsys
):
    from labkit.cli import main
    from labkit.grading import execute

    assert main(["grade", str(tmp_path), "--execute", "--check-isolation"]) in (0, 1)
    assert "isolation:" in capsys.readouterr().out
    monkeypatch.setitem(
        execute._isolation_cache,
        "checked",
        execute.Isolation(False, False, "none", ("bubblewrap (bwrap) is not installed",)),
    )
    subs = tmp_path / "subs"
    write_notebook(subs / "s1" / "lab.ipynb", "print(1)")
    out = tmp_path / "out" / "grades.csv"
    assert main(["grade", str(subs), "--execute", "-o", str(out), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert "refusing to run student code" in error and "bwrap" in error
    assert not out.exists()
