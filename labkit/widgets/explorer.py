"""The reference explorer: type a name, see how Docker reads it, on every keystroke."""

from __future__ import annotations

# Lazy imports (inside functions): IPython.display (python -X importtime: 0.13 s) only when a view
# is displayed.
import html

import ipywidgets as widgets

from labkit.reference import Explanation, explain
from labkit.widgets.style import MUTED, badge, box

__all__ = ["ExplorerView", "explanation_html"]


def explanation_html(explanation: Explanation) -> str:
    """Parts with defaults marked, the familiar and fully qualified forms; or Docker's error
    and the hint."""
    if not explanation.text.strip():
        return box(f"<span style='color: {MUTED}'>Type an image name, such as alpine:3.21</span>")
    if not explanation.ok:
        return box(
            f"{badge('wrong', words='Docker refuses this name')}"
            f"<div><code>{html.escape(explanation.error or '')}</code></div>"
            f"<div>Hint: {html.escape(explanation.hint or '')}</div>",
            "wrong",
        )
    rows = []
    for part in explanation.parts:
        if part.value is None:
            value, source = "—", "none"
        else:
            value = f"<code>{html.escape(part.value)}</code>"
            source = "typed" if part.typed else "<em>default (Docker fills it in)</em>"
        rows.append(
            f"<tr><th style='text-align: left'>{html.escape(part.part)}</th><td>{value}</td>"
            f"<td>{source}</td><td style='color: {MUTED}'>{html.escape(part.why)}</td></tr>"
        )
    forms = [
        ("familiar", explanation.familiar, "how docker shows it"),
        ("fully qualified", explanation.fully_qualified, "what docker pulls or pushes"),
        ("endpoint", explanation.endpoint, "the host a client contacts"),
    ]
    for label, form, why in forms:
        rows.append(
            f"<tr><th style='text-align: left'>{label}</th>"
            f"<td colspan='2'><code>{html.escape(form or '')}</code></td>"
            f"<td style='color: {MUTED}'>{why}</td></tr>"
        )
    official = " · official image" if explanation.is_official else ""
    return box(
        badge("correct", words="Valid name" + official) + f"<table>{''.join(rows)}</table>",
        "correct",
    )


class ExplorerView:
    """A Text box and an HTML explanation that follows it (``observe(names="value")``)."""

    def __init__(self, text: str = "") -> None:
        self.text = widgets.Text(
            value=text,
            placeholder="an image name, e.g. alpine or ghcr.io/org/app:1.0",
            description="Image name",
            style={"description_width": "initial"},
            continuous_update=True,
            layout=widgets.Layout(width="100%", max_width="48em"),
        )
        self.output = widgets.HTML()
        self.explanation: Explanation = explain(text)
        self.text.observe(self._changed, names="value")
        self._render()
        self.widget = widgets.VBox([self.text, self.output])

    def _changed(self, change: dict) -> None:
        self.explanation = explain(change["new"])
        self._render()

    def _render(self) -> None:
        self.output.value = explanation_html(self.explanation)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
