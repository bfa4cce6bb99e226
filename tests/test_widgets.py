"""The widgets, headless: driven with value setters and Button.click(), read from their state."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

pytest.importorskip("ipywidgets")
import ipywidgets as widgets

from labkit.labs import Lab, get_lab
from labkit.labs.demo import CHOICE_LATEST, OFFICIAL_TAGS, _parts
from labkit.session import LabSession
from labkit.widgets.style import markdown_to_html

STUDENT = "widget-student"


@pytest.fixture(autouse=True)
def _not_grading(monkeypatch, tmp_path):
    monkeypatch.delenv("LABKIT_GRADING", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def lab(tmp_path) -> LabSession:
    return LabSession(get_lab("demo"), STUDENT, folder=tmp_path)


def stored(tmp_path, lab_id: str = "demo") -> dict:
    return json.loads((tmp_path / "labkit-answers" / f"{lab_id}.json").read_text())


def answer_with(view, value) -> None:
    view.input.value = value
    view.check_button.click()


# -- each kind: right, wrong, malformed ----------------------------------------------------------


def test_short_answer_right_wrong_and_malformed(lab, tmp_path):
    view = lab.view("fully-qualified")
    assert isinstance(view.input, widgets.Text)
    variant = lab.variant("fully-qualified")

    answer_with(view, "docker.io/" + variant.params["short"])
    assert view.state.feedback.status == "partial"
    assert "◐ Partly right" in view.feedback.value
    assert "library/" in view.feedback.value  # the mistake is named
    assert view.state.tries_used == 1

    answer_with(view, "alpine:::")
    assert view.state.feedback.status == "format-error"
    assert "⚠ Format error" in view.feedback.value
    assert "did not use a try" in view.feedback.value
    assert "Format error: Format error" not in view.feedback.value  # said once, by the badge
    assert view.state.tries_used == 1

    answer_with(view, variant.answer)
    assert view.state.feedback.status == "correct"
    assert "✔ Right" in view.feedback.value
    record = stored(tmp_path)["answers"]["fully-qualified"]
    assert record["raw"] == variant.answer
    assert (record["tries"], record["format_errors"]) == (2, 1)


def test_short_answer_wrong_shows_the_cross(lab):
    view = lab.view("fully-qualified")
    answer_with(view, "https://docker.io/library/" + lab.variant("fully-qualified").params["short"])
    assert view.state.feedback.status == "wrong"
    assert "✘ Wrong" in view.feedback.value
    assert view.state.feedback.mistakes == ("url-scheme",)


def test_multiple_choice_right_wrong_malformed_and_no_tries_left(lab, tmp_path):
    view = lab.view("latest-meaning")
    assert isinstance(view.input, widgets.RadioButtons)
    view.check_button.click()  # nothing picked
    assert view.state.feedback.status == "format-error"
    assert view.state.tries_used == 0

    name = lab.variant("latest-meaning").params["name"]
    answer_with(view, f"the newest version, `{name}:{OFFICIAL_TAGS[name][-1]}`")
    assert view.state.feedback.status == "wrong"
    assert "latest-is-newest" in view.state.feedback.mistakes
    assert "not necessarily the newest" in view.feedback.value

    answer_with(view, CHOICE_LATEST)
    assert view.state.feedback.status == "correct"
    assert stored(tmp_path)["answers"]["latest-meaning"]["raw"] == CHOICE_LATEST

    answer_with(view, CHOICE_LATEST)  # max_tries = 2
    assert view.state.feedback.status == "no-tries-left"
    assert "No tries left" in view.feedback.value
    assert stored(tmp_path)["answers"]["latest-meaning"]["tries"] == 2


def test_name_the_parts_has_one_text_per_part(lab, tmp_path):
    view = lab.view("name-the-parts")
    assert set(view.inputs) == {"registry", "namespace", "name", "tag"}
    variant = lab.variant("name-the-parts")

    view.check_button.click()  # the name is empty
    assert view.state.feedback.status == "format-error"

    for part, value in _parts(variant, namespace="").items():
        view.inputs[part].value = value
    view.check_button.click()
    assert view.state.feedback.status == "partial"
    assert "missing-library" in view.state.feedback.mistakes
    assert "library" in view.feedback.value

    for part, value in _parts(variant).items():
        view.inputs[part].value = value
    view.check_button.click()
    assert view.state.feedback.status == "correct"
    assert stored(tmp_path)["answers"]["name-the-parts"]["raw"] == _parts(variant)


def test_predict_output_uses_a_textarea(lab, tmp_path):
    view = lab.view("predict-uppercase")
    assert isinstance(view.input, widgets.Textarea)
    key = lab.variant("predict-uppercase").answer

    answer_with(view, "   ")
    assert view.state.feedback.status == "format-error"
    answer_with(view, key.replace("library/", ""))
    assert view.state.feedback.mistakes == ("missing-library",)
    assert "✘ Wrong" in view.feedback.value
    answer_with(view, "  " + key.replace(" ", "   ") + "\n")
    assert view.state.feedback.status == "correct"
    assert stored(tmp_path)["answers"]["predict-uppercase"]["tries"] == 2


def test_task_widget_checks_the_world_not_an_input(lab, tmp_path):
    view = lab.view("share-with-team")
    assert view.input is None and view.check_button is not None
    view.check_button.click()
    assert view.state.feedback.status == "wrong"
    assert "no access" in view.feedback.value

    p = lab.params
    lab.hub.grant(p["org"], p["team"], p["app"], "read")
    view.check_button.click()
    assert "team-read-only" in view.state.feedback.mistakes
    assert "Read-only" in view.feedback.value

    lab.hub.grant(p["org"], p["team"], p["app"], "write")
    lab.hub.set_visibility(f"{p['org']}/{p['app']}", False)
    view.check_button.click()
    assert view.state.feedback.status == "correct"
    assert "1 hidden check run at grading" in view.feedback.value
    assert len(stored(tmp_path)["events"]) == 3


def test_code_widget_has_no_check_button_and_shows_lab_answer(lab, tmp_path):
    view = lab.view("fully-qualify")
    assert view.input is None and view.check_button is None
    assert "lab.answer(&#x27;fully-qualify&#x27;" in view.feedback.value

    assert lab.answer("fully-qualify", {1, 2}) is None
    assert view.state.feedback.status == "format-error"
    assert "⚠ Format error" in view.feedback.value

    key = list(lab.variant("fully-qualify").answer)
    lab.answer("fully-qualify", [n.rsplit(":", 1)[0] for n in key])
    assert view.state.feedback.status in ("partial", "wrong")
    assert "missing-tag" in view.state.feedback.mistakes

    lab.answer("fully-qualify", key)
    assert view.state.feedback.status == "correct"
    assert stored(tmp_path)["answers"]["fully-qualify"]["raw"] == key


# -- hints, hidden checks, format-only ------------------------------------------------------------


# -- Check carries the answer it checks (labkit.widgets.check) ------------------------------------


def press_in_the_page(view, **carried) -> None:
    """What the page sends on Check: the button's mirrored answer and value=True, one message
    (the fields' own messages may still be on their way)."""
    view.check_button.set_state({**carried, "value": True})


def test_a_press_grades_the_answer_the_button_carries_not_the_fields_last_message(lab):
    view = lab.view("fully-qualified")
    variant = lab.variant("fully-qualified")
    view.input.value = "d"  # the first keystroke reached the kernel; the rest did not yet
    press_in_the_page(view, answer=variant.answer)
    assert view.state.feedback.status == "correct"
    assert view.check_button.value is False  # released by the kernel, ready for the next press
    assert view.state.tries_used == 1


def test_a_press_of_a_radio_group_grades_the_carried_index(lab, tmp_path):
    view = lab.view("latest-meaning")
    choices = lab.variant("latest-meaning").params["choices"]
    view.input.value = next(c for c in choices if c != CHOICE_LATEST)  # picked first
    press_in_the_page(view, index=choices.index(CHOICE_LATEST))
    assert view.state.feedback.status == "correct"
    assert stored(tmp_path)["answers"]["latest-meaning"]["raw"] == CHOICE_LATEST
    press_in_the_page(view, index=None)  # nothing picked: a format error, no try
    assert view.state.feedback.status == "format-error"


def test_a_press_of_name_the_parts_grades_the_carried_parts(lab):
    view = lab.view("name-the-parts")
    parts = _parts(lab.variant("name-the-parts"))
    press_in_the_page(view, **{f"part_{name}": value for name, value in parts.items()})
    assert view.state.feedback.status == "correct"


def test_the_fields_are_mirrored_into_the_button_by_links_in_the_page(lab):
    from labkit.widgets.check import CHECK_CLASS, CheckButton

    view = lab.view("name-the-parts")
    links = {(link.source[0], link.source[1], link.target[1]) for link in view.check_button.links}
    assert links == {(field, "value", f"part_{name}") for name, field in view.inputs.items()}
    assert all(
        isinstance(link, widgets.widget_link.DirectionalLink) for link in view.check_button.links
    )
    assert CHECK_CLASS in view.check_button._dom_classes
    choice = lab.view("latest-meaning").check_button
    assert [(link.source[1], link.target[1]) for link in choice.links] == [("index", "index")]
    with pytest.raises(ValueError, match="no synced trait"):
        CheckButton({"nope": (view.inputs["tag"], "value")}, lambda _: None)


def test_a_restored_answer_is_in_the_button_too(tmp_path):
    first = LabSession(get_lab("demo"), STUDENT, folder=tmp_path)
    answer_with(first.view("fully-qualified"), "docker.io/alpine:1")
    again = LabSession(get_lab("demo"), STUDENT, folder=tmp_path)
    view = again.view("fully-qualified")
    assert view.input.value == view.check_button.answer == "docker.io/alpine:1"
    view.fill(None)
    assert view.check_button.answer == ""


def test_multiple_choice_options_are_lettered_with_their_code_and_escaped(lab):
    from labkit.widgets.exercise import choices_html

    view = lab.view("latest-meaning")
    choices = lab.variant("latest-meaning").params["choices"]
    assert [label for label, _ in view.input.options] == ["A", "B", "C", "D"]
    assert [value for _, value in view.input.options] == choices  # recorded as before
    assert view.input.description == "Your answer:"
    assert "the tag <code>latest</code> points to" in view.choices.value
    shown = choices_html(["`<b>` & <script>alert(1)</script>", "plain"])
    assert "<code>&lt;b&gt;</code> &amp; &lt;script&gt;" in shown and "<script>" not in shown
    assert "<span class='labkit-letter'>B.</span>" in shown


def test_titles_and_feedback_render_inline_code_and_escape_the_student(lab):
    from labkit.exercises import Feedback
    from labkit.widgets.exercise import ExerciseView, feedback_html

    exercise = replace(
        get_lab("demo").exercise("latest-meaning"), title="What `latest` <i>means</i>"
    )
    view = ExerciseView(exercise, lab.variant("latest-meaning"), lambda raw: None)
    assert "What <code>latest</code> &lt;i&gt;means&lt;/i&gt;</h3>" in view.title.value
    shown = feedback_html(
        Feedback("wrong", "Not yet: the tag `latest` is not <b>\n- you wrote `<img src=x>`")
    )
    assert "the tag <code>latest</code> is not &lt;b&gt;" in shown
    assert "<code>&lt;img src=x&gt;</code>" in shown and "<img" not in shown
    answer_with(lab.view("fully-qualified"), "<img src=x onerror=alert(1)>")
    echoed = lab.view("fully-qualified").feedback.value
    assert "<img" not in echoed and "&lt;img" in echoed


def test_hints_unlock_on_schedule(lab):
    view = lab.view("fully-qualify")  # its hint unlocks after 2 tries
    view.hint_button.click()
    assert view.state.hints_shown and view.state.hints == ()
    assert "No hint yet" in view.hints.value
    assert "Next hint after 2 tries" in view.hints.value
    assert "0 tries" in view.hint_button.description

    lab.answer("fully-qualify", ["x"])
    assert view.state.hints == () and "1 try" in view.hint_button.description
    lab.answer("fully-qualify", ["y"])
    assert len(view.state.hints) == 1
    assert "with_default_tag" in view.hints.value
    assert "1 unlocked, 2 tries" in view.hint_button.description
    view.hint_button.click()
    assert view.hints.value == ""


def test_format_errors_do_not_unlock_hints(lab):
    view = lab.view("fully-qualified")
    for _ in range(3):
        answer_with(view, "")
    assert view.state.tries_used == 0 and view.state.hints == ()


def test_hidden_checks_never_appear_in_feedback(lab):
    hidden = [h.name for e in lab.definition.exercises for h in e.hidden]
    assert hidden
    view = lab.view("fully-qualified")
    answer_with(view, "docker.io/library/alpine:0.0.1")  # fails the hidden "exists" check too
    answer_with(view, lab.variant("fully-qualified").answer)
    lab.answer("fully-qualify", list(reversed(lab.variant("fully-qualify").answer)))
    texts = view.feedback.value + lab.view("fully-qualify").feedback.value
    for name in hidden:
        assert name not in texts
    assert "all tests passed" not in texts.lower()


def test_format_only_exercise_says_recorded_and_never_right_or_wrong(tmp_path):
    demo = get_lab("demo")
    exercise = replace(demo.exercise("fully-qualified"), feedback="format-only")
    lab_def = Lab(id="assess", title="Assessment", exercises=(exercise,))
    lab = LabSession(lab_def, STUDENT, folder=tmp_path)
    view = lab.view("fully-qualified")
    answer_with(view, "docker.io/alpine:1")
    assert view.state.feedback.status == "recorded"
    assert "✎ Recorded" in view.feedback.value and "✔" not in view.feedback.value
    assert "Wrong" not in view.feedback.value and "library" not in view.feedback.value
    assert stored(tmp_path, "assess")["answers"]["fully-qualified"]["tries"] == 1


# -- the other widgets -----------------------------------------------------------------------


def test_explorer_reacts_to_every_keystroke(lab):
    explorer = lab.explorer("alpine")
    assert "default" in explorer.output.value and "docker.io/library/alpine:latest" in (
        explorer.output.value
    )
    explorer.text.value = "Alpine"
    assert not explorer.explanation.ok
    assert "must be lowercase" in explorer.output.value
    assert "Hint" in explorer.output.value and "✘" in explorer.output.value
    explorer.text.value = "ghcr.io/acme/app:1.0"
    assert explorer.explanation.fully_qualified == "ghcr.io/acme/app:1.0"
    assert "typed" in explorer.output.value


def test_permission_matrix_change_calls_the_hub_and_is_recorded(lab, tmp_path):
    p = lab.params
    matrix = lab.permissions(p["org"], registry="docker.io")
    assert set(matrix.cells) == {(p["team"], p["app"])}
    assert matrix.cells[(p["team"], p["app"])].value == "none"
    matrix.set(p["team"], p["app"], "write")
    assert matrix.level(p["team"], p["app"]) == "write"
    event = lab.world.events[-1]
    assert (event.kind, event.action, event.args["permission"]) == ("hub", "grant", "write")
    assert stored(tmp_path)["events"][-1]["action"] == "grant"
    assert "Read &amp; Write" in matrix.message.value
    matrix.set(p["team"], p["app"], "none")
    assert matrix.level(p["team"], p["app"]) == "none"
    assert lab.world.events[-1].action == "revoke"


def test_permission_matrix_shows_a_refusal_and_keeps_the_real_value(lab):
    p = lab.params
    matrix = lab.permissions(p["org"], registry="docker.io")
    matrix.user = p["teammate"]  # a member, not an owner: Hub refuses
    matrix.set(p["team"], p["app"], "admin")
    assert matrix.cells[(p["team"], p["app"])].value == "none"
    assert "⚠ Refused" in matrix.message.value
    assert lab.world.events[-1].outcome["ok"] is False


def test_permission_matrix_change_arriving_after_a_refresh_shows_in_the_new_grid(lab):
    """In the page a Refresh click is sent at once while a Dropdown's change waits for a busy
    kernel: the change lands on the cell of the grid before, and the new grid shows it."""
    p = lab.params
    matrix = lab.permissions(p["org"], registry="docker.io")
    before = matrix.cells[(p["team"], p["app"])]
    grants = len([e for e in lab.world.events if e.action == "grant"])
    matrix.refresh()
    after = matrix.cells[(p["team"], p["app"])]
    assert after is not before
    before.value = "read"
    assert matrix.level(p["team"], p["app"]) == "read"
    assert after.value == "read"
    assert lab.world.events[-1].action == "grant"
    assert len([e for e in lab.world.events if e.action == "grant"]) == grants + 1  # once


def test_push_view_lists_layers_digest_and_size(lab):
    p = lab.params
    client = lab.client
    client.run(f"docker login -u {p['docker_id']} --password-stdin", p["password"])
    client.run("docker pull alpine:3.21")
    client.run(f"docker tag alpine:3.21 {p['docker_id']}/web:1.0")
    result = client.run(f"docker push {p['docker_id']}/web:1.0")
    view = lab.push_view(result)
    assert view.summary.repository == f"docker.io/{p['docker_id']}/web"
    assert view.layers and all(status for _, status in view.layers)
    assert view.summary.digest and view.summary.digest in result.stdout
    assert f"size: {view.summary.size}" in result.stdout
    assert "✔ Pushed" in view.output.value

    failed = lab.push_view(client.run(f"docker push {p['docker_id']}/missing:1"))
    assert failed.summary.digest is None and "✘ Push failed" in failed.output.value


def test_browser_shows_visibility_badges_and_refreshes(lab):
    browser = lab.browser()
    browser.namespace.value = "library"
    assert browser.repositories()["library/alpine"]["official"]
    assert "★ Docker Official Image" in browser.table.value
    p = lab.params
    browser.namespace.value = p["org"]
    assert "<strong>private</strong>" in browser.table.value
    lab.hub.set_visibility(f"{p['org']}/{p['app']}", False)
    browser.refresh()
    assert browser.namespace.value == p["org"]
    assert "public" in browser.table.value
    assert "<strong>private</strong>" not in browser.table.value


def test_scan_view_is_marked_simulated(lab):
    view = lab.scan("alpine:3.21")
    assert view.report is not None and view.report.simulated
    assert "SIMULATED" in view.output.value
    missing = lab.scan("alpine:0.0.1")
    assert missing.error and "SIMULATED" in missing.output.value


def test_progress_counts_right_answers(lab):
    progress = lab.progress()
    assert progress.label.value == "0 of 7 exercises answered correctly"
    lab.submit("fully-qualified", lab.variant("fully-qualified").answer)
    lab.submit("latest-meaning", "wrong")  # a format error
    assert progress.bar.value == 1
    assert progress.label.value == "1 of 7 exercises answered correctly"


def test_markdown_conversion_of_prompts():
    html = markdown_to_html("Pull `a<b>` **now**\n\n- one\n- *two*\n\n1. x")
    assert html == (
        "<p>Pull <code>a&lt;b&gt;</code> <strong>now</strong></p>"
        "<ul><li>one</li><li><em>two</em></li></ul><ol><li>x</li></ol>"
    )
