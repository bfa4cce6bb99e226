"""The course-id form of 00-start-here: the student gives their id once, every lab uses it."""

from __future__ import annotations

import html

import ipywidgets as widgets

from labkit.errors import LabkitError
from labkit.records import NO_COURSE_ID, hub_account, remember_student
from labkit.widgets.check import CHECK_CSS, CheckButton
from labkit.widgets.style import badge

__all__ = ["CourseIdForm"]


class CourseIdForm:
    """A text box and a Save button; ``.message`` (HTML) says what happened."""

    def __init__(self, current: str = "", source: str = "") -> None:
        self.text = widgets.Text(
            value="",
            placeholder="the id your course gave you, e.g. s1234567",
            description="Course id:",
            layout=widgets.Layout(width="28em"),
        )
        # the id typed travels with the press (see labkit.widgets.check): Save never keeps the
        # first letters typed while the kernel was busy
        self.save_button = CheckButton(
            {"answer": (self.text, "value")},
            lambda button: self._save(button.answer),
            description="Save",
            icon="save",
        )
        self.message = widgets.HTML(
            value=(
                f"<span>Your variants are now for <code>{html.escape(current)}</code>"
                f" (from {html.escape(source)}).</span>"
                if current and current != NO_COURSE_ID
                else ""
            )
        )
        self.saved: str | None = None
        self.hub_user = hub_account()
        if self.hub_user:  # on a hub the account is the id (records.resolve_student)
            self.message.value = (
                f"<span>On this hub your course id is your hub account, "
                f"<code>{html.escape(self.hub_user)}</code>: every lab uses it for your "
                "variants, and your instructor grades your work under it. There is nothing to "
                "type here.</span>"
            )
            self.widget = widgets.VBox([self.message])
            return
        css = widgets.HTML(f"<style>{CHECK_CSS}</style>", layout=widgets.Layout(display="none"))
        self.widget = widgets.VBox([widgets.HBox([self.text, self.save_button]), self.message, css])

    def _save(self, typed: str | None = None) -> None:
        """Save ``typed`` (by default the field's value as the kernel has it)."""
        value = (self.text.value if typed is None else typed).strip()
        try:
            path = remember_student(value)
        except LabkitError as error:
            self.message.value = f"{badge('format-error')} {html.escape(str(error))}"
            return
        except OSError as error:
            self.message.value = f"{badge('refused')} cannot save it: {html.escape(str(error))}"
            return
        self.saved = value
        self.message.value = (
            f"{badge('recorded', words='Saved')} <code>{html.escape(value)}</code> in "
            f"<code>{html.escape(str(path))}</code>. Run the set-up cell again (and in any lab "
            "already open) to get your variants."
        )
