"""Looks shared by the widgets: JupyterLab CSS variables, icons with words, tiny Markdown.

Right and wrong are shown with a word and an icon (✔ ✘ ⚠), never by colour alone; colours
come from JupyterLab's CSS variables so the dark theme works.
"""

from __future__ import annotations

import html
import re

__all__ = ["STATUS", "badge", "box", "inline_markdown", "markdown_to_html", "text_to_html"]

SUCCESS = "var(--jp-success-color1, #388e3c)"
ERROR = "var(--jp-error-color1, #d32f2f)"
WARN = "var(--jp-warn-color1, #f57c00)"
INFO = "var(--jp-info-color1, #0288d1)"
TEXT = "var(--jp-ui-font-color1, inherit)"
MUTED = "var(--jp-ui-font-color2, inherit)"
PANEL = "var(--jp-layout-color2, transparent)"
BORDER = "var(--jp-border-color1, #bdbdbd)"

# status -> (icon, words, colour)
STATUS: dict[str, tuple[str, str, str]] = {
    "correct": ("✔", "Right", SUCCESS),
    "partial": ("◐", "Partly right", WARN),
    "wrong": ("✘", "Wrong", ERROR),
    "format-error": ("⚠", "Format error", WARN),
    "recorded": ("✎", "Recorded", INFO),
    "no-tries-left": ("✘", "No tries left", ERROR),
    "restored": ("↺", "Restored", INFO),
    "refused": ("⚠", "Refused", ERROR),
    "simulated": ("⚠", "SIMULATED", WARN),
}

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*([^*\s][^*]*?)\*(?![*\w])")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")


def inline_markdown(text: str) -> str:
    """One line of Markdown as inline HTML: escaped, then `code`, **bold** and *italic*."""
    pieces = []
    last = 0
    for match in _CODE.finditer(text):
        pieces.append(_emphasis(html.escape(text[last : match.start()])))
        pieces.append(f"<code>{html.escape(match.group(1))}</code>")
        last = match.end()
    pieces.append(_emphasis(html.escape(text[last:])))
    return "".join(pieces)


def _emphasis(escaped: str) -> str:
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _ITALIC.sub(r"<em>\1</em>", escaped)


def markdown_to_html(text: str) -> str:
    """The few Markdown constructs prompts and messages use: paragraphs, ``-``/``1.`` lists,
    `code`, **bold** and *italic*. Everything else is escaped text."""
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    ordered = False

    def flush() -> None:
        nonlocal items
        if paragraph:
            blocks.append(f"<p>{inline_markdown(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            tag = "ol" if ordered else "ul"
            blocks.append(
                f"<{tag}>" + "".join(f"<li>{inline_markdown(i)}</li>" for i in items) + f"</{tag}>"
            )
            items = []

    for line in text.replace("\r\n", "\n").split("\n"):
        item = _ITEM.match(line)
        if item:
            if paragraph:
                flush()
            if not items:
                ordered = line.strip()[0].isdigit()
            items.append(item.group(1))
        elif not line.strip():
            flush()
        elif items and line.startswith(("  ", "\t")):
            items[-1] += " " + line.strip()
        else:
            if items:
                flush()
            paragraph.append(line.strip())
    flush()
    return "".join(blocks)


def text_to_html(text: str) -> str:
    """Plain text kept as typed (escaped, in a pre-wrapped block)."""
    return f"<pre style='white-space: pre-wrap; margin: 0'>{html.escape(text)}</pre>"


def badge(status: str, extra: str = "", *, words: str | None = None) -> str:
    """An icon and a word for ``status`` (colour is only a second cue); ``words`` replaces
    the status's own word."""
    icon, default, colour = STATUS[status]
    words = default if words is None else words
    label = f"{icon} {words}" + (f" {extra}" if extra else "")
    return f"<strong style='color: {colour}'>{html.escape(label)}</strong>"


def box(inner: str, status: str | None = None) -> str:
    """A panel with a left rule in the status colour."""
    colour = STATUS[status][2] if status else BORDER
    return (
        f"<div class='labkit-box' style='color: {TEXT}; background: {PANEL}; "
        f"border-left: 4px solid {colour}; padding: 4px 10px; margin: 4px 0'>{inner}</div>"
    )
