"""The Check button: its press reaches the kernel together with the answer it checks.

Why not a plain ``Button``: ipywidgets 8's frontend sends at most one state message per model
at a time. While a model's message waits for the kernel (no "idle" back yet), its further
changes are buffered and sent together after that idle (``WidgetModel.sync``,
``_pending_msgs`` / ``_msg_buffer`` in @jupyter-widgets/base widget.ts). A Button's click is a
custom message (``send``), which is not held back. So with the kernel busy (a long cell still
running, a slow round trip) a student who types an answer and presses Check at once has the
kernel receive the first keystroke, then the click, then the rest: Check graded a stale answer.

This button is a stock ``ToggleButton`` (no JavaScript of ours: JupyterLite and the hub run
stock ipywidgets) with extra synced traits that hold the answer. Each answer field is mirrored
into them in the browser by a ``jsdlink`` (the frontend's DirectionalLinkModel sets the
target model's attribute and saves it, on every change of the source), so the answer and the
press are changes of ONE model: the frontend's buffer merges them and the kernel receives them
together, in order, the answer as it was when Check was pressed. The kernel grades on
``value`` becoming True, reads the answer from this button's own traits, and sets ``value``
back to False. The page shows a ``<button>`` (Enter and Space press it, as before); CSS keeps
the pressed state looking like the unpressed primary button.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from traitlets import Int, Unicode

__all__ = ["CHECK_CLASS", "CHECK_CSS", "CheckButton", "Mirrors"]

CHECK_CLASS = "labkit-check"

# A ToggleButton shows "mod-active" (the look of a button held down) while its value is True,
# that is until the kernel has graded. Today's Check button does not stay pressed: same look.
CHECK_CSS = f"""
.jupyter-button.{CHECK_CLASS}.mod-active {{
  box-shadow: none; color: var(--jp-ui-font-color1); background-color: var(--jp-layout-color2);
}}
.jupyter-button.mod-primary.{CHECK_CLASS}.mod-active {{
  color: var(--jp-ui-inverse-font-color1); background-color: var(--jp-brand-color1);
}}
.jupyter-button.{CHECK_CLASS}.mod-active:hover:enabled,
.jupyter-button.{CHECK_CLASS}.mod-active:focus:enabled {{
  box-shadow: 0 2px 2px 0 rgba(0, 0, 0, var(--md-shadow-key-penumbra-opacity)),
    0 3px 1px -2px rgba(0, 0, 0, var(--md-shadow-key-umbra-opacity)),
    0 1px 5px 0 rgba(0, 0, 0, var(--md-shadow-ambient-shadow-opacity));
}}
"""

# trait of the button -> (answer widget, its synced trait)
Mirrors = dict[str, tuple[widgets.Widget, str]]


class CheckButton(widgets.ToggleButton):
    """A button that carries the answer it checks (see the module docstring).

    ``mirrors`` names, per trait of this button, the answer widget and trait it copies
    (``{"answer": (text, "value")}``, ``{"index": (radio, "index")}``, one ``part_<name>`` per
    field of name-the-parts). ``on_press(button)`` runs when the button is pressed; it reads
    the answer from the button's traits. ``click()`` does in Python what a press in the page
    does (tests and the headless widgets use it).
    """

    answer = Unicode("").tag(sync=True)  # a text field's or text area's value
    index = Int(None, allow_none=True).tag(sync=True)  # a radio group's index
    part_registry = Unicode("").tag(sync=True)
    part_namespace = Unicode("").tag(sync=True)
    part_name = Unicode("").tag(sync=True)
    part_tag = Unicode("").tag(sync=True)

    def __init__(
        self,
        mirrors: Mirrors,
        on_press: Callable[[CheckButton], Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(value=False, **kwargs)
        self.add_class(CHECK_CLASS)
        unknown = [trait for trait in mirrors if trait not in self.keys]
        if unknown:
            raise ValueError(f"CheckButton has no synced trait {unknown[0]!r}")
        self.mirrors = dict(mirrors)
        self.mirror()
        # one-way, in the browser: field -> button (never back)
        self.links = [
            widgets.jsdlink((source, attr), (self, trait))
            for trait, (source, attr) in self.mirrors.items()
        ]
        self._on_press = on_press
        self.observe(self._press_changed, names="value")

    def mirror(self) -> None:
        """Copy the fields' values (as the kernel has them) into this button's traits: what the
        links do in the browser on every keystroke."""
        for trait, (source, attr) in self.mirrors.items():
            self.set_trait(trait, getattr(source, attr))

    def click(self) -> None:
        """Press the button as a student does in the page (answer mirrored, then pressed)."""
        self.mirror()
        self.value = True

    def _press_changed(self, change: dict[str, Any]) -> None:
        if not change["new"]:
            return
        try:
            self._on_press(self)
        finally:
            self.value = False
