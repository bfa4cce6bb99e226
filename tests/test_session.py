"""labkit.start and the lab session, without a kernel: records, restart, submission, reset."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("ipywidgets")

import labkit
from labkit import magic
from labkit.records import MIME_TYPE, Record, records_from_notebook
from labkit.session import LabSession, start

STUDENT = "session-student"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    for name in ("LABKIT_GRADING", "LABKIT_STUDENT", "JUPYTERHUB_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def record_file(folder):
    return folder / "labkit-answers" / "demo.json"


def test_start_is_the_lazy_export_and_binds_the_magic(tmp_path):
    lab = labkit.start("demo", student=STUDENT, folder=tmp_path)
    assert isinstance(lab, LabSession)
    assert (lab.id, lab.student, lab.student_source) == ("demo", STUDENT, "student=")
    assert magic.current_client() is lab.client
    assert lab.params["docker_id"] == lab.definition.params_for(STUDENT)["docker_id"]
    assert lab.variant("fully-qualified") == lab.definition.variant("fully-qualified", STUDENT)
    assert lab.hub.user == lab.params["docker_id"]


def test_header_says_whose_variant_and_where_the_id_came_from(tmp_path):
    lab = start("demo", student=STUDENT, folder=tmp_path)
    header = lab.header()
    assert f"variant for: <strong>{STUDENT}</strong>" in lab.header_html.value
    assert "(from student=)" in lab.header_html.value
    assert lab.title in lab.header_html.value
    assert header.children[1].children[1].value == "0 of 7 exercises answered correctly"


def test_start_prints_the_header_in_plain_python(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("labkit.session._shell", lambda: None)
    start("demo", student=STUDENT, folder=tmp_path)
    assert f"variant for: {STUDENT} (from student=)" in capsys.readouterr().out


def test_grading_mode_takes_the_student_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_GRADING", "1")
    monkeypatch.setenv("LABKIT_STUDENT", "graded-one")
    lab = start("demo", student="someone-else", folder=tmp_path)
    assert lab.student == "graded-one" and lab.grading
    assert "grading" in lab.student_source
    lab.reset()  # explains only; never prompts
    assert lab.variant("fully-qualified") == lab.definition.variant("fully-qualified", "graded-one")


def test_every_world_event_saves_the_student_slice_of_the_log(tmp_path):
    lab = start("demo", student=STUDENT, folder=tmp_path)
    assert not record_file(tmp_path).exists()  # nothing to save yet
    lab.client.run("docker pull alpine:3.21")
    saved = json.loads(record_file(tmp_path).read_text())
    assert [e["action"] for e in saved["events"]] == ["docker pull alpine:3.21"]
    assert saved["events"] == lab.definition.student_events(lab.world, STUDENT)
    assert saved["student"] == STUDENT
    assert saved["fingerprint"] == lab.definition.fingerprint(STUDENT)
    assert "password" not in record_file(tmp_path).read_text()


def test_restart_restores_the_world_and_refills_the_widgets(tmp_path):
    lab = start("demo", student=STUDENT, folder=tmp_path)
    lab.client.run("docker pull alpine:3.21")
    p = lab.params
    lab.hub.grant(p["org"], p["team"], p["app"], "read")
    view = lab.view("fully-qualified")
    view.input.value = "docker.io/alpine:1"
    view.check_button.click()
    lab.submit("latest-meaning", 0)
    parts_raw = {"registry": "docker.io", "namespace": "", "name": "x", "tag": ""}
    lab.submit("name-the-parts", parts_raw)

    again = start("demo", student=STUDENT, folder=tmp_path)
    images = again.client.run("docker images").stdout.splitlines()
    assert any(line.split()[:2] == ["alpine", "3.21"] for line in images)
    assert again.world.registry().accounts.orgs[p["org"]].teams[p["team"]].grants
    restored = again.view("fully-qualified")
    assert restored.input.value == "docker.io/alpine:1"
    assert restored.state.tries_used == 1 and restored.state.restored
    assert "restored from your record" in restored.feedback.value
    assert len(restored.state.hints) == 1
    assert again.view("name-the-parts").inputs["name"].value == "x"
    choice = again.view("latest-meaning")
    assert choice.input.value == choice.input.options[0][1]  # (label, choice) pairs
    assert "restored from" in again.header().children[0].value
    # tries carry over: the next counted answer is the second
    assert again.submit("fully-qualified", "docker.io/alpine:2").tries_used == 2
    # new events after a restart keep being saved, after the replayed ones
    again.client.run("docker pull busybox:1.37")
    actions = [e["action"] for e in json.loads(record_file(tmp_path).read_text())["events"]]
    assert [a for a in actions if a != "docker images"] == [
        "docker pull alpine:3.21",
        "grant",
        "docker pull busybox:1.37",
    ]


def test_progress_is_restored(tmp_path):
    lab = start("demo", student=STUDENT, folder=tmp_path)
    lab.submit("fully-qualified", lab.variant("fully-qualified").answer)
    again = start("demo", student=STUDENT, folder=tmp_path)
    assert again.counts() == (1, 0)
    assert again.progress().bar.value == 1


def test_a_corrupt_record_is_reported_in_the_header_and_kept(tmp_path):
    path = record_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{ not json")
    with pytest.warns(UserWarning):
        lab = start("demo", student=STUDENT, folder=tmp_path)
    assert lab.problems and "could not be read" in lab.problems[0]
    assert "could not be read" in lab.header_html.value
    kept = list(path.parent.glob("demo.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{ not json"
    lab.submit("fully-qualified", "alpine")
    assert kept[0].read_text() == "{ not json"
    assert Record.from_json(json.loads(path.read_text())).answers


def test_another_students_record_is_not_restored(tmp_path):
    start("demo", student="first", folder=tmp_path).submit("fully-qualified", "alpine")
    lab = start("demo", student="second", folder=tmp_path)
    assert not lab.record.answers
    assert any("not of 'second'" in problem for problem in lab.problems)


def test_submission_round_trips_through_a_saved_notebook(tmp_path, monkeypatch, capsys):
    lab = start("demo", student=STUDENT, folder=tmp_path)
    lab.client.run("docker pull alpine:3.21")
    lab.submit("fully-qualified", lab.variant("fully-qualified").answer)
    shown = []
    monkeypatch.setattr("labkit.session._shell", lambda: None)  # another test may start one
    monkeypatch.setattr(
        "labkit.session.display", lambda *objs, raw=False: shown.extend((o, raw) for o in objs)
    )
    lab.submission()
    bundle, raw = shown[0]
    assert raw is True and MIME_TYPE in bundle and "text/html" in bundle
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "outputs": [{"output_type": "display_data", "data": bundle, "metadata": {}}],
            }
        ]
    }
    saved = json.loads(json.dumps(notebook))  # what a saved .ipynb holds
    (record,) = records_from_notebook(saved)
    on_disk = Record.from_json(json.loads(record_file(tmp_path).read_text()))
    assert record == on_disk
    text = bundle["text/plain"]
    assert "Ctrl+S" in text and "File ▸ Save" in text and ".ipynb" in text
    assert "Ctrl+S" in bundle["text/html"] and "On your own" in bundle["text/html"]


def test_submission_in_plain_python_prints_the_summary(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("labkit.session._shell", lambda: None)
    lab = start("demo", student=STUDENT, folder=tmp_path)
    lab.submission()
    out = capsys.readouterr().out
    assert "Demo: one exercise of each kind:" in out and "not answered yet" in out
    assert f"labkit record of lab demo for {STUDENT}" in out


def test_reset_needs_confirmation_then_starts_over_and_is_recorded(tmp_path, capsys):
    # reset prints in a kernel too: its output is the cell's, not a callback's
    lab = start("demo", student=STUDENT, folder=tmp_path)
    lab.client.run("docker pull alpine:3.21")
    view = lab.view("fully-qualified")
    view.input.value = "alpine"
    view.check_button.click()

    lab.reset()
    assert "lab.reset(confirm=True)" in capsys.readouterr().out
    assert lab.record.answers

    lab.reset(confirm=True)
    saved = json.loads(record_file(tmp_path).read_text())
    assert saved["answers"] == {} and saved["events"] == [] and len(saved["resets"]) == 1
    assert "alpine" not in lab.client.run("docker images").stdout
    assert magic.current_client() is lab.client
    assert view.input.value == "" and view.feedback.value == "" and view.state.tries_used == 0
    lab.client.run("docker pull busybox:1.37")  # the new world still saves
    saved = json.loads(record_file(tmp_path).read_text())
    actions = [e["action"] for e in saved["events"] if e["action"] != "docker images"]
    assert actions == ["docker pull busybox:1.37"]

    again = start("demo", student=STUDENT, folder=tmp_path)
    assert not again.record.answers and len(again.record.resets) == 1


def test_works_with_an_ipython_shell(tmp_path, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()  # the one another test made, or a new one
    lab = start("demo", student=STUDENT, folder=tmp_path)
    assert "docker" in shell.magics_manager.magics["line"]
    assert magic.current_client() is lab.client
