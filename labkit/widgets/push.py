"""The push view: each layer with its final status, then the digest and the size."""

from __future__ import annotations

# Lazy imports (inside functions): IPython.display (python -X importtime: 0.13 s) only when a view
# is displayed.
import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ipywidgets as widgets

from labkit.widgets.style import MUTED, badge, box, text_to_html

if TYPE_CHECKING:
    from labkit.shell import Result

__all__ = ["PushSummary", "PushView", "parse_push"]

_REPO = re.compile(r"^The push refers to repository \[(?P<repo>[^\]]+)\]$")
_LAYER = re.compile(r"^(?P<id>[0-9a-f]{12}): (?P<status>.+)$")
_DIGEST = re.compile(r"^(?P<tag>\S+): digest: (?P<digest>sha256:[0-9a-f]{64}) size: (?P<size>\d+)$")


@dataclass(frozen=True)
class PushSummary:
    """What a push printed, read back: repository, layers, tag, digest, size, error."""

    repository: str | None
    layers: tuple[tuple[str, str], ...]
    tag: str | None
    digest: str | None
    size: int | None
    error: str
    exit_code: int


def parse_push(stdout: str, stderr: str = "", exit_code: int = 0) -> PushSummary:
    """Read ``docker push`` output (the final view: one line per layer)."""
    repository = tag = digest = None
    size = None
    layers: dict[str, str] = {}
    for line in stdout.splitlines():
        if m := _REPO.match(line):
            repository = m["repo"]
        elif m := _DIGEST.match(line):
            tag, digest, size = m["tag"], m["digest"], int(m["size"])
        elif m := _LAYER.match(line):
            layers[m["id"]] = m["status"]  # the last status of a layer is its final one
    return PushSummary(
        repository, tuple(layers.items()), tag, digest, size, stderr.strip(), exit_code
    )


class PushView:
    """An HTML table of a push ``Result``: layers and their status, the digest and size."""

    def __init__(self, result: Result) -> None:
        self.result = result
        self.summary = parse_push(result.stdout, result.stderr, result.exit_code)
        self.output = widgets.HTML(self._html())
        self.widget = self.output

    @property
    def layers(self) -> tuple[tuple[str, str], ...]:
        return self.summary.layers

    def _html(self) -> str:
        s = self.summary
        head = f"<div>Repository: <code>{html.escape(s.repository or '?')}</code></div>"
        rows = "".join(
            f"<tr><td><code>{html.escape(layer)}</code></td><td>{html.escape(status)}</td></tr>"
            for layer, status in s.layers
        )
        table = f"<table><tr><th>layer</th><th>final status</th></tr>{rows}</table>" if rows else ""
        if s.exit_code == 0 and s.digest:
            tail = (
                f"<div>{badge('correct', words='Pushed:')} tag "
                f"<code>{html.escape(s.tag or '')}</code>"
                f" → <code>{html.escape(s.digest)}</code>, manifest size {s.size} bytes</div>"
            )
            return box(head + table + tail, "correct")
        error = s.error or "no digest was printed"
        tail = f"<div>{badge('wrong', words='Push failed')}</div>{text_to_html(error)}"
        note = f"<div style='color: {MUTED}'>exit code {s.exit_code}</div>"
        return box(head + table + tail + note, "wrong")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
