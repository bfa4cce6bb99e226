"""``labkit collect --hub`` (labkit/grading/hub.py) against a stand-in hub on loopback: the roster,
the layout ``labkit grade`` reads, and what a hostile hub or student server cannot make it do.
The real hub is in tests/hub/."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import pytest

from grading.fakehub import TOKEN, FakeHub, entry, serve
from labkit import cli
from labkit.errors import LabkitError
from labkit.grading import hub as hubmod
from labkit.grading.collect import collect, read_roster
from labkit.grading.hub import collect_from_hub, safe_name

NOTEBOOK = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []})
RECORD = json.dumps({"lab": "01-tags", "student": "ann", "answers": {}, "events": []})


@pytest.fixture
def fake() -> Iterator[FakeHub]:
    hub = FakeHub()
    server = serve(hub)
    hub.json("/hub/api/user", {"kind": "service", "name": "labkit-collect"})
    yield hub
    server.shutdown()
    server.server_close()


def users(hub: FakeHub, models: list[dict[str, Any]]) -> None:
    hub.json("/hub/api/users", {"items": models, "_pagination": {"next": None}})


def a_class(hub: FakeHub) -> None:
    users(
        hub,
        [
            {"name": "ann", "groups": ["students"]},
            {"name": "bob", "groups": ["students"]},
            {"name": "teacher", "groups": ["instructors"]},
        ],
    )
    hub.folder("ann", "labs", [entry("01-tags.ipynb"), entry("labkit-answers", "directory")])
    hub.folder("ann", "labs/labkit-answers", [entry("01-tags.json", "file")])
    hub.file("/user/ann/files/labs/01-tags.ipynb", NOTEBOOK.encode())
    hub.file("/user/ann/files/labs/labkit-answers/01-tags.json", RECORD.encode())
    hub.json("/user/bob/api/contents/labs", {"message": "bob's server is not running"}, 424)


def test_collects_the_students_into_the_layout_grade_reads(fake: FakeHub, tmp_path: Path) -> None:
    a_class(fake)
    out = tmp_path / "class"
    result = collect_from_hub(fake.url, TOKEN, out)
    assert result.roster == ["ann", "bob"]
    assert result.excluded == {"teacher": "in the group 'instructors'"}
    ann, bob = result.students
    assert ann.collected and ann.notebooks == ["01-tags.ipynb"]
    assert ann.records == ["labkit-answers/01-tags.json"]
    assert not bob.collected and "not running" in bob.problems[0]
    assert (out / "ann" / "01-tags.ipynb").read_text() == NOTEBOOK
    assert not (out / "bob").exists()
    assert (out / "roster.csv").read_text() == "student\nann\nbob\n"
    submissions = collect(out, roster=read_roster(out / "roster.csv"))
    by_student = {s.student: s for s in submissions}
    assert [p.name for p in by_student["ann"].record_files] == ["01-tags.json"]
    assert by_student["bob"].layout == "roster"  # graded as missing
    assert all(auth == f"token {TOKEN}" for _, auth in fake.requests)
    assert not list(tmp_path.glob(".class.partial-*"))


def test_the_tokens_own_user_and_exclude_are_left_out(fake: FakeHub, tmp_path: Path) -> None:
    a_class(fake)
    fake.json("/hub/api/user", {"kind": "user", "name": "bob"})
    result = collect_from_hub(fake.url, TOKEN, tmp_path / "o", exclude=["zed"])
    assert result.roster == ["ann"]
    assert result.excluded["bob"] == "the token's own user"
    result = collect_from_hub(
        fake.url, TOKEN, tmp_path / "p", exclude=["ann"], instructors_group=None
    )
    assert result.roster == ["teacher"]


def test_users_come_page_by_page(fake: FakeHub, tmp_path: Path) -> None:
    pages = {
        0: {"items": [{"name": "a1"}], "_pagination": {"next": {"offset": 1}}},
        1: {"items": [{"name": "a2"}], "_pagination": {"next": {"offset": 2}}},
        2: {"items": [{"name": "a3"}], "_pagination": {"next": None}},
    }
    seen: list[int] = []

    original = hubmod._Hub.get_json

    def get_json(self: Any, path: str, accept: str = "application/json") -> Any:
        if path.startswith("/hub/api/users?"):
            offset = int(path.split("offset=")[1].split("&")[0])
            seen.append(offset)
            return 200, pages[offset]
        return original(self, path, accept)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hubmod._Hub, "get_json", get_json)
        result = collect_from_hub(fake.url, TOKEN, tmp_path / "o")
    assert seen == [0, 1, 2]
    assert result.roster == ["a1", "a2", "a3"]


@pytest.mark.parametrize(
    "name",
    ["../evil.ipynb", ".hidden.ipynb", "a/b.ipynb", "x\x00.ipynb", "..", "é.ipynb", "a" * 200],
)
def test_unsafe_names_from_a_server_are_refused(fake: FakeHub, tmp_path: Path, name: str) -> None:
    users(fake, [{"name": "ann", "groups": []}])
    fake.folder("ann", "labs", [entry(name), entry("ok.ipynb")])
    fake.file("/user/ann/files/labs/ok.ipynb", NOTEBOOK.encode())
    fake.file(f"/user/ann/files/labs/{name}", b"{}")
    result = collect_from_hub(fake.url, TOKEN, tmp_path / "class")
    assert result.students[0].notebooks == ["ok.ipynb"]
    if name.endswith(".ipynb"):
        assert any("unsafe name" in p for p in result.students[0].problems)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert written == ["class", "class/ann", "class/ann/ok.ipynb", "class/roster.csv"]


def test_a_next_page_that_does_not_move_on_ends_the_list(fake: FakeHub, tmp_path: Path) -> None:
    fake.json(
        "/hub/api/users",
        {"items": [{"name": "ann"}], "_pagination": {"next": {"offset": 0}}},
    )
    fake.folder("ann", "labs", [])
    assert collect_from_hub(fake.url, TOKEN, tmp_path / "class", timeout=5).roster == ["ann"]
    fake.json("/hub/api/users", {"items": [{"name": "bob"}], "_pagination": "nonsense"})
    assert collect_from_hub(fake.url, TOKEN, tmp_path / "c2").roster == ["bob"]


def test_a_file_listed_twice_is_taken_once(fake: FakeHub, tmp_path: Path) -> None:
    users(fake, [{"name": "ann"}])
    fake.folder("ann", "labs", [entry("01-tags.ipynb"), entry("01-tags.ipynb")])
    fake.file("/user/ann/files/labs/01-tags.ipynb", NOTEBOOK.encode())
    result = collect_from_hub(fake.url, TOKEN, tmp_path / "class")
    assert result.students[0].notebooks == ["01-tags.ipynb"]
    assert result.students[0].problems == ["01-tags.ipynb is listed twice; the first one was taken"]


def test_unsafe_user_names_are_left_out(fake: FakeHub, tmp_path: Path) -> None:
    users(fake, [{"name": "../../etc"}, {"name": ".ssh"}, {"name": "ann"}])
    fake.folder("ann", "labs", [])
    result = collect_from_hub(fake.url, TOKEN, tmp_path / "class")
    assert result.roster == ["ann"]
    assert set(result.excluded) == {"../../etc", ".ssh"}
    assert not (tmp_path / "etc").exists()


def test_files_over_the_limit_are_refused(fake: FakeHub, tmp_path: Path) -> None:
    users(fake, [{"name": "ann"}])
    fake.folder(
        "ann",
        "labs",
        [entry("said-big.ipynb", size=10**12), entry("is-big.ipynb", size=5), entry("ok.ipynb")],
    )
    fake.file("/user/ann/files/labs/is-big.ipynb", b"x" * 2000)
    fake.file("/user/ann/files/labs/ok.ipynb", NOTEBOOK.encode())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hubmod, "MAX_FILE_BYTES", 1000)
        result = collect_from_hub(fake.url, TOKEN, tmp_path / "class")
    ann = result.students[0]
    assert ann.notebooks == ["ok.ipynb"]
    assert any("said-big.ipynb is 1000000000000 bytes" in p for p in ann.problems)
    assert any("is-big.ipynb is over the 1000 byte limit" in p for p in ann.problems)
    assert not any(r[0].endswith("said-big.ipynb") for r in fake.requests)  # never downloaded
    assert not (tmp_path / "class" / "ann" / "is-big.ipynb").exists()


def test_redirects_are_not_followed_with_the_token(fake: FakeHub, tmp_path: Path) -> None:
    elsewhere = FakeHub()
    other = serve(elsewhere)
    try:
        users(fake, [{"name": "ann"}])
        fake.folder("ann", "labs", [entry("01-tags.ipynb")])
        fake.routes["/user/ann/files/labs/01-tags.ipynb"] = (
            302,
            b"",
            {"Location": f"{elsewhere.url}/steal"},
        )
        result = collect_from_hub(fake.url, TOKEN, tmp_path / "class")
    finally:
        other.shutdown()
        other.server_close()
    assert elsewhere.requests == []
    assert result.students[0].problems == ["01-tags.ipynb: their server answered 302"]


def test_a_refused_token_stops_everything_and_writes_nothing(fake: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(LabkitError, match=r"refused the token \(403\)"):
        collect_from_hub(fake.url, "wrong-token", tmp_path / "class")
    fake.json("/hub/api/users", {"message": "requires list:users"}, 403)
    with pytest.raises(LabkitError, match="list:users"):
        collect_from_hub(fake.url, TOKEN, tmp_path / "class")
    assert list(tmp_path.iterdir()) == []


def test_a_used_output_folder_or_a_symlink_is_refused(fake: FakeHub, tmp_path: Path) -> None:
    a_class(fake)
    used = tmp_path / "used"
    used.mkdir()
    (used / "grades.csv").write_text("keep me")
    with pytest.raises(LabkitError, match="not an empty folder"):
        collect_from_hub(fake.url, TOKEN, used)
    assert (used / "grades.csv").read_text() == "keep me"
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(LabkitError, match="not an empty folder"):
        collect_from_hub(fake.url, TOKEN, tmp_path / "link")
    assert not (tmp_path / "elsewhere").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert collect_from_hub(fake.url, TOKEN, empty).roster == ["ann", "bob"]


def test_bad_addresses_are_refused_in_plain_words(tmp_path: Path) -> None:
    for url, words in (
        ("ftp://hub", "the hub's address"),
        ("http://user:pw@127.0.0.1:1", "no user, password"),
        ("http://127.0.0.1:1", "cannot reach the hub"),
    ):
        with pytest.raises(LabkitError, match=words):
            collect_from_hub(url, TOKEN, tmp_path / "class", timeout=2)
    with pytest.raises(LabkitError, match="--folder"):
        collect_from_hub("http://127.0.0.1:1", TOKEN, tmp_path / "class", folder="../x")


def test_safe_name() -> None:
    assert safe_name("ann") and safe_name("a.b-c_d@x+y") and safe_name("01-tags.ipynb")
    for bad in ("", ".", "..", ".x", "a/b", "a\\b", "a b", None, 3, "a" * 129):
        assert not safe_name(bad), bad


def test_cli_collect(fake: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a_class(fake)
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    out = io.StringIO()
    args = cli.build_parser().parse_args(
        ["collect", "--hub", fake.url, "--token-file", str(token), "-o", str(tmp_path / "c")]
    )
    assert cli._run_collect(args, out) == 0
    text = out.getvalue()
    assert "left out teacher (in the group 'instructors')" in text
    assert "ann: 1 notebooks, 1 records" in text
    assert "bob: nothing collected (their server is not running" in text
    assert "collected 1 of 2 students" in text
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    err = io.StringIO()
    args = cli.build_parser().parse_args(["collect", "--hub", fake.url, "-o", str(tmp_path / "d")])
    with redirect_stderr(err):
        assert cli._run_collect(args, io.StringIO()) == 2
    assert "--token-file" in err.getvalue()
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "wrong")
    with redirect_stderr(err):
        assert cli._run_collect(args, io.StringIO()) == 2
    assert "refused the token" in err.getvalue()
    assert not (tmp_path / "d").exists()
