"""What a student does in a lab notebook, driven in the browser: answer an exercise in its
widget (a wrong answer, Hint, the right one), type in the explorer; and what they must see."""

from __future__ import annotations

import json
import re
from typing import Any

from browser.driver import NOTEBOOKS, STUDENT, NotebookPage
from labkit.exercises import PART_NAMES, Exercise, Feedback, Kind, Variant, check_answer
from labkit.labs import Lab
from labkit.widgets.exercise import shown_head
from labkit.widgets.style import STATUS

# Kinds a student answers by typing or clicking in the widget, in the order we prefer them.
WIDGET_KINDS = (Kind.SHORT_ANSWER, Kind.PREDICT_OUTPUT, Kind.MULTIPLE_CHOICE, Kind.NAME_THE_PARTS)


def notebook_lab(name: str) -> str | None:
    """The lab id the notebook's setup cell starts (``labkit.start("<lab>")``), if any."""
    cells = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if "setup" in cell.get("metadata", {}).get("tags", []):
            match = re.search(r"labkit\.start\(\s*[\"']([^\"']+)[\"']", "".join(cell["source"]))
            return match.group(1) if match else None
    return None


def shown_exercises(page: NotebookPage) -> list[str]:
    """Exercise ids of the cells tagged ``exercise-<id>``, in notebook order."""
    ids = []
    for cell in page.model()["cells"]:
        for tag in cell.get("metadata", {}).get("tags", []):
            if tag.startswith("exercise-"):
                ids.append(tag.removeprefix("exercise-"))
    return ids


def plain(text: str) -> str:
    """Markdown markers dropped and spaces collapsed: what the rendered HTML reads as."""
    return " ".join(re.sub(r"[`*]", "", text).split())


def badge_text(status: str) -> str:
    icon, words, _ = STATUS[status]
    return f"{icon} {words}"


def see_status(output: Any, status: str) -> None:
    """Wait until the widget's feedback shows ``status`` (its icon and word)."""
    output.get_by_text(badge_text(status)).first.wait_for()


def pick_exercise(lab: Lab, ids: list[str]) -> tuple[Exercise, Any] | None:
    """An exercise shown in the notebook, answered in its widget, with a typical wrong answer."""
    for kind in WIDGET_KINDS:
        for exercise_id in ids:
            exercise = lab.exercise(exercise_id)
            if exercise.kind is not kind or not exercise.examples:
                continue
            if exercise.max_tries is not None and exercise.max_tries < 2:
                continue
            return exercise, exercise.examples[0]
    return None


def expected_feedback(lab: Lab, exercise: Exercise, variant: Variant, raw: Any) -> Feedback:
    return check_answer(exercise, variant, raw, lab.new_world(STUDENT))


def enter_answer(page: NotebookPage, index: int, exercise: Exercise, raw: Any) -> None:
    """Type or click the answer into the exercise's widget, as a student would.

    Multiple choice: ``raw`` is an option's text (its Markdown as written or as shown) or its
    position; the student reads the lettered options and picks that option's letter."""
    output = page.cell(index).locator(".jp-OutputArea-output")
    textarea = output.locator(".widget-textarea textarea")
    radios = output.locator(".widget-radio-box")
    if exercise.kind is Kind.NAME_THE_PARTS:
        fields = output.locator(".widget-text input")
        for position, part in enumerate(PART_NAMES):
            fields.nth(position).fill(raw.get(part) or "")
    elif radios.count():
        if isinstance(raw, int):
            position = raw
        else:
            shown = [plain(text) for text in output.locator(".labkit-choice").all_inner_texts()]
            assert plain(raw) in shown, f"no option reads {plain(raw)!r}; the options: {shown}"
            position = shown.index(plain(raw))
        radios.locator("input[type=radio]").nth(position).check()
    elif textarea.count():
        textarea.fill(raw)
    else:
        output.locator(".widget-text input").first.fill(raw)


def check_and_see(page: NotebookPage, index: int, feedback: Feedback) -> None:
    """Click Check and wait for the feedback the lab definition predicts."""
    output = page.cell(index).locator(".jp-OutputArea-output")
    page.click(output.get_by_role("button", name="Check"))
    see_status(output, feedback.status)
    shown = plain(output.inner_text())
    lines = [line.removeprefix("- ") for line in feedback.message.splitlines() if line.strip()]
    lines[:1] = [shown_head(line) for line in lines[:1]]
    for line in lines[:2]:
        assert plain(line) in shown, f"feedback {line!r} not shown; the widget reads:\n{shown}"


def answer_wrong_hint_right(
    page: NotebookPage, lab: Lab, exercise: Exercise, example, keyed: Lab | None = None
) -> None:
    """Wrong answer and its mistake feedback, the Hint button, then the right answer.

    ``lab`` is the lab as the student's kernel has it (what the widget shows comes from it);
    ``keyed`` is the same lab keyed by the instructor's pack, for a graded lab whose shipped
    module holds no answers: the answers typed come from it."""
    index = page.cell_index(f"exercise-{exercise.id}")
    shown = lab.exercise(exercise.id)
    variant = lab.variant(shown, STUDENT)
    key_variant = (keyed or lab).variant(exercise, STUDENT)
    page.cell(index).scroll_into_view_if_needed()
    wrong = example.raw_for(key_variant)
    feedback = expected_feedback(lab, shown, variant, wrong)
    enter_answer(page, index, exercise, wrong)
    check_and_see(page, index, feedback)
    if exercise.feedback == "immediate":
        assert example.mistake in feedback.mistakes  # the definition names it; the widget shows it

    output = page.cell(index).locator(".jp-OutputArea-output")
    page.click(output.get_by_role("button", name=re.compile(r"Hint \(")))
    output.get_by_text("Hints", exact=True).first.wait_for()
    hints = plain(output.inner_text())
    if feedback.hints:
        assert plain(feedback.hints[0]) in hints
    else:
        assert "No hint yet" in hints or "No hints for this one" in hints

    right = exercise.key_raw(key_variant)
    enter_answer(page, index, exercise, right)
    status = "recorded" if exercise.feedback == "format-only" else "correct"
    page.click(output.get_by_role("button", name="Check"))
    see_status(output, status)


def assert_clean(page: NotebookPage) -> None:
    problems = page.problems()
    assert not problems, "\n".join(problems)


def assert_docker_outputs(page: NotebookPage) -> None:
    """Every cell running ``%docker`` / ``%%docker`` shows some output."""
    for index, cell in enumerate(page.model()["cells"]):
        source = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
        if re.search(r"^%%?docker\b", source, re.MULTILINE):
            text = page.cell(index).locator(".jp-OutputArea").inner_text().strip()
            assert text, f"cell {index} ({source.splitlines()[0]!r}) shows no output"


def explorer_reacts(page: NotebookPage, index: int) -> None:
    """Typing in the explorer changes the explanation on every keystroke."""
    output = page.cell(index).locator(".jp-OutputArea-output")
    field = output.locator(".widget-text input").first
    field.scroll_into_view_if_needed()
    field.fill("")
    field.press_sequentially("https://ghcr.io/Org/App", delay=10)
    output.get_by_text("Docker refuses this name").wait_for()
    field.fill("")
    field.press_sequentially("ghcr.io/org/app:1.0", delay=10)
    output.get_by_text("ghcr.io/org/app:1.0", exact=True).first.wait_for()  # the last keystroke
    shown = output.inner_text()
    assert "Valid name" in shown and "ghcr.io" in shown
