"""One widget per exercise kind: prompt, input, Check, Hint and a feedback area.

All state lives in :class:`ExerciseView` (plain Python): tests set ``view.input.value`` (or
``view.inputs[part].value``), call ``view.check_button.click()`` and read ``view.state`` and
``view.feedback.value``. Nothing is printed from callbacks.
"""

from __future__ import annotations

# Lazy imports (inside functions): IPython.display (python -X importtime: 0.13 s) only when a view
# is displayed.
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets

from labkit.exercises import PART_NAMES, Exercise, Feedback, Kind, Variant
from labkit.widgets.check import CHECK_CSS, CheckButton, Mirrors
from labkit.widgets.style import MUTED, badge, box, inline_markdown, markdown_to_html

# Multiple choice: the options are an HTML list lettered A, B, C... (Markdown's `code` renders
# as <code>, which a radio button's label cannot show: ipywidgets sets it with textContent), and
# the answer is a radio group of those letters, labelled "Your answer" (the usual exam layout).
# The radio group's value is still the option's text: records and grading do not change.
CHOICES_CLASS = "labkit-choices"
# ipywidgets gives an HTML widget's text the height of one input row as its line height (28 px),
# which spreads a prompt or an option that wraps over twice the height of the notebook's text:
# the exercise's text is set as the notebook's Markdown is.
EXERCISE_CLASS = "labkit-exercise"
EXERCISE_CSS = f"""<style>
.{EXERCISE_CLASS} .widget-html-content {{ line-height: var(--jp-content-line-height, 1.6); }}
.{CHOICES_CLASS} {{ list-style: none; margin: 4px 0 6px 0; padding: 0; max-width: 48em; }}
.{CHOICES_CLASS} li {{ display: flex; gap: 0.5em; margin: 3px 0; overflow-wrap: anywhere; }}
.{CHOICES_CLASS} .labkit-letter {{ flex: none; min-width: 1.4em; font-weight: bold; }}
{CHECK_CSS}</style>"""
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

__all__ = ["ExerciseState", "ExerciseView", "choices_html", "feedback_html"]

Submit = Callable[[Any], Feedback]


@dataclass
class ExerciseState:
    """What the view shows: tries used, the last feedback, the hints unlocked, the answer."""

    tries_used: int = 0
    feedback: Feedback | None = None
    hints: tuple[str, ...] = ()
    hints_shown: bool = False
    answer: Any = None
    restored: bool = False
    history: list[str] = field(default_factory=list)  # statuses, oldest first


_STATUS_WORDS = re.compile(r"^(?:Correct: |Partly right |Not yet )")


def shown_head(head: str) -> str:
    """The first line of a feedback message as the widget shows it, beside its badge: the
    badge already says right / partly right / wrong, so the message does not say it twice."""
    return _STATUS_WORDS.sub("", head, count=1)


def choices_html(choices: list[str]) -> str:
    """The options of a multiple-choice exercise as a lettered list (``A.`` ...), each option's
    Markdown `code` as ``<code>``, everything escaped."""
    items = "".join(
        f"<li><span class='labkit-letter'>{LETTERS[i]}.</span>"
        f"<span class='labkit-choice'>{inline_markdown(choice)}</span></li>"
        for i, choice in enumerate(choices)
    )
    return f"<ol class='{CHOICES_CLASS}'>{items}</ol>"


def feedback_html(feedback: Feedback, *, restored: bool = False) -> str:
    """The feedback area's HTML: icon and word, the message (mistakes named), tries."""
    lines = feedback.message.split("\n")
    head, rest = lines[0], "\n".join(lines[1:]).strip()
    head = shown_head(head)
    extra = "(restored from your record)" if restored else ""
    joint = " " if not head or head.startswith("(") else ": "
    inner = f"{badge(feedback.status, extra)}{joint}{inline_markdown(head)}"
    if rest:
        inner += markdown_to_html(rest)
    tries = f"Tries used: {feedback.tries_used}"
    if feedback.tries_left is not None:
        tries += f" · tries left: {feedback.tries_left}"
    inner += f"<div style='color: {MUTED}; font-size: 90%'>{html.escape(tries)}</div>"
    return box(inner, feedback.status)


class ExerciseView:
    """The widget of one exercise; ``submit(raw) -> Feedback`` checks and records."""

    def __init__(
        self,
        exercise: Exercise,
        variant: Variant,
        submit: Submit,
        *,
        tries_used: int = 0,
    ) -> None:
        self.exercise = exercise
        self.variant = variant
        self.submit = submit
        self.kind = exercise.kind
        self.state = ExerciseState(tries_used=tries_used)
        self.state.hints = exercise.hints_unlocked(tries_used)
        # h3: an exercise sits under the notebook's h2 sections (axe: heading-order)
        size = "var(--jp-content-font-size2, 1.2em)"
        self.title = widgets.HTML(
            f"<h3 class='labkit-title' style='margin: 4px 0; font-size: {size}'>"
            f"{inline_markdown(exercise.title)}</h3>"
        )
        self.prompt = widgets.HTML(markdown_to_html(exercise.render_prompt(variant)))
        self.inputs: dict[str, widgets.Widget] = {}
        self.choices: widgets.HTML | None = None  # multiple choice: the lettered options
        self.input: widgets.Widget | None = self._build_input()
        self.check_button: CheckButton | None = None
        if self.kind is not Kind.CODE:
            self.check_button = CheckButton(
                self._mirrors(),
                lambda button: self.submit(self._pressed_raw(button)),
                description="Check",
                button_style="primary",
                icon="check",
                tooltip="Check",
            )
        # width auto: the description counts hints and tries, longer than a default button
        self.hint_button = widgets.Button(
            description="Hint", icon="lightbulb-o", layout=widgets.Layout(width="auto")
        )
        self.hint_button.on_click(lambda _: self.toggle_hints())
        self.hints = widgets.HTML("")
        self.feedback = widgets.HTML("")
        if self.kind is Kind.CODE:
            call = f"lab.answer({exercise.id!r}, value)"
            self.feedback.value = box(
                f"Pass your value with <code>{html.escape(call)}</code> in a code cell."
            )
        self._update_hint_button()
        buttons = [b for b in (self.check_button, self.hint_button) if b is not None]
        children: list[widgets.Widget] = [self.title, self.prompt]
        children += [w for w in (self.choices, self.input) if w is not None]
        children.append(widgets.HTML(EXERCISE_CSS, layout=widgets.Layout(display="none")))
        children += [widgets.HBox(buttons), self.feedback, self.hints]
        self.widget = widgets.VBox(children, layout=widgets.Layout(margin="6px 0"))
        self.widget.add_class(EXERCISE_CLASS)

    # -- building -------------------------------------------------------------------------

    def _build_input(self) -> widgets.Widget | None:
        choices = list(self.variant.params.get("choices", ()))
        wide = widgets.Layout(width="100%", max_width="48em")
        if self.kind is Kind.SHORT_ANSWER:
            return widgets.Text(placeholder="your answer", layout=wide)
        if self.kind is Kind.MULTIPLE_CHOICE or (self.kind is Kind.PREDICT_OUTPUT and choices):
            # the options a student reads, with their code; the radio group picks a letter, and
            # its value stays the option's text (what is recorded and graded)
            self.choices = widgets.HTML(choices_html(choices), layout=wide)
            return widgets.RadioButtons(
                options=[(LETTERS[i], c) for i, c in enumerate(choices)],
                value=None,
                description="Your answer:",
                orientation="horizontal",
                style={"description_width": "initial"},
                layout=wide,
            )
        if self.kind is Kind.NAME_THE_PARTS:
            for name in PART_NAMES:
                self.inputs[name] = widgets.Text(
                    description=name,
                    placeholder=name,
                    layout=widgets.Layout(width="24em"),
                )
            return widgets.VBox(list(self.inputs.values()))
        if self.kind is Kind.PREDICT_OUTPUT:
            return widgets.Textarea(
                placeholder="the lines the command prints",
                layout=widgets.Layout(width="100%", max_width="60em", height="6em"),
            )
        return None  # tasks and code: the work happens in other cells

    # -- the answer -----------------------------------------------------------------------

    def _mirrors(self) -> Mirrors:
        """Which field the Check button mirrors into which of its traits (see CheckButton)."""
        if self.kind is Kind.NAME_THE_PARTS:
            return {f"part_{name}": (field_, "value") for name, field_ in self.inputs.items()}
        if isinstance(self.input, widgets.RadioButtons):
            return {"index": (self.input, "index")}
        if isinstance(self.input, widgets.Text | widgets.Textarea):
            return {"answer": (self.input, "value")}
        return {}

    def _pressed_raw(self, button: CheckButton) -> Any:
        """The answer as it was in the page when Check was pressed: read from the button's own
        traits, which arrive with the press (a field's own messages may still be on the way)."""
        if self.kind is Kind.NAME_THE_PARTS:
            return {name: getattr(button, f"part_{name}") for name in self.inputs}
        if isinstance(self.input, widgets.RadioButtons):
            options = self.input.options
            index = button.index
            if index is None or not 0 <= index < len(options):
                return None
            option = options[index]
            return option[1] if isinstance(option, tuple) else option
        if self.input is None:
            return None
        return button.answer

    def raw(self) -> Any:
        """What the student entered, as the exercise's parser expects it (the fields' values as
        the kernel has them; a press of Check grades :meth:`_pressed_raw`)."""
        if self.kind is Kind.NAME_THE_PARTS:
            return {name: box.value for name, box in self.inputs.items()}
        if self.input is None:
            return None
        return self.input.value

    def fill(self, raw: Any) -> None:
        """Put a recorded answer back into the inputs (None clears them)."""
        if raw is None:
            for field_ in self.inputs.values():
                field_.value = ""
            if isinstance(self.input, widgets.RadioButtons):
                self.input.value = None
            elif isinstance(self.input, widgets.Text | widgets.Textarea):
                self.input.value = ""
            self.state.answer = None
            if self.check_button is not None:
                self.check_button.mirror()
            return
        if self.kind is Kind.NAME_THE_PARTS and isinstance(raw, dict):
            for name, field_ in self.inputs.items():
                value = raw.get(name)
                field_.value = value if isinstance(value, str) else ""
        elif isinstance(self.input, widgets.RadioButtons):
            options = [o[1] if isinstance(o, tuple) else o for o in self.input.options]
            if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < len(options):
                raw = options[raw]
            elif isinstance(raw, str) and raw not in options:
                # a record made by an earlier release: the choice as it was worded then is shown
                # selected as the option it became (as grading reads it)
                raw = dict(self.variant.params.get("choice_was", {})).get(raw, raw)
            self.input.value = raw if raw in options else None
        elif isinstance(self.input, widgets.Text | widgets.Textarea) and isinstance(raw, str):
            self.input.value = raw
        self.state.answer = raw
        if self.check_button is not None:
            self.check_button.mirror()

    # -- actions ---------------------------------------------------------------------------

    def check(self) -> Feedback:
        """What the Check button does: submit the entered answer and show the feedback."""
        return self.submit(self.raw())

    def show(self, feedback: Feedback, *, restored: bool = False) -> None:
        """Show ``feedback`` (the session calls this after every check of this exercise)."""
        self.state.feedback = feedback
        self.state.restored = restored
        self.state.tries_used = feedback.tries_used
        self.state.hints = feedback.hints
        if not restored:
            self.state.history.append(feedback.status)
        self.feedback.value = feedback_html(feedback, restored=restored)
        self._update_hint_button()
        if self.state.hints_shown:
            self._render_hints()

    def restore(self, raw: Any, tries_used: int, feedback: Feedback | None) -> None:
        """Refill from the record after a restart."""
        self.fill(raw)
        self.state.tries_used = tries_used
        self.state.hints = self.exercise.hints_unlocked(tries_used)
        if feedback is not None:
            self.show(feedback, restored=True)
        self._update_hint_button()

    def toggle_hints(self) -> None:
        """What the Hint button does: show (or hide) the hints unlocked so far."""
        self.state.hints_shown = not self.state.hints_shown
        self._render_hints()

    def _render_hints(self) -> None:
        if not self.state.hints_shown:
            self.hints.value = ""
            return
        unlocked = self.state.hints
        items = "".join(f"<li>{inline_markdown(h)}</li>" for h in unlocked)
        upcoming = [
            h.after_tries for h in self.exercise.hints if h.after_tries > self.state.tries_used
        ]
        note = ""
        if upcoming:
            n = min(upcoming)
            note = (
                f"<p style='color: {MUTED}'>Next hint after {n} tr{'y' if n == 1 else 'ies'}.</p>"
            )
        if not unlocked:
            body = "<p>No hint yet: try first.</p>" if upcoming else "<p>No hints for this one.</p>"
            self.hints.value = box("<strong>Hints</strong>" + body + note)
            return
        self.hints.value = box(f"<strong>Hints</strong><ul>{items}</ul>{note}")

    def _update_hint_button(self) -> None:
        used = self.state.tries_used
        count = len(self.state.hints)
        self.hint_button.description = (
            f"Hint ({count} unlocked, {used} tr{'y' if used == 1 else 'ies'})"
        )
        self.hint_button.tooltip = f"{used} tries used; {count} hints unlocked"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
