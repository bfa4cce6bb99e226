"""The scan view of ``world.scan(reference)``: clearly marked SIMULATED."""

from __future__ import annotations

# Lazy imports (inside functions): IPython.display (python -X importtime: 0.13 s) only when a view
# is displayed.
import html
from typing import TYPE_CHECKING

import ipywidgets as widgets

from labkit.errors import LabkitError
from labkit.widgets.style import MUTED, WARN, badge, box

if TYPE_CHECKING:
    from labkit.world import World

__all__ = ["ScanView"]


class ScanView:
    """A simulated vulnerability report, or why there is none."""

    def __init__(self, world: World, reference: str) -> None:
        self.reference = reference
        self.report = None
        self.error: str | None = None
        try:
            self.report = world.scan(reference)
        except (LabkitError, ValueError) as error:
            message = getattr(error, "message", None) or str(error)
            hint = getattr(error, "hint", "")
            self.error = f"{message}. {hint}" if hint else message
        self.output = widgets.HTML(self._html())
        self.widget = self.output

    def _html(self) -> str:
        banner = (
            f"<div style='border: 2px dashed {WARN}; padding: 2px 8px; margin-bottom: 4px'>"
            f"{badge('simulated', 'scan')} — not a real scanner and not real advisories: "
            "labkit invents these findings for teaching.</div>"
        )
        if self.report is None:
            return box(
                banner + f"{badge('wrong', words='Cannot scan')} "
                f"<code>{html.escape(self.reference)}</code>: {html.escape(self.error or '')}",
                "simulated",
            )
        report = self.report
        counts = " · ".join(f"{n} {sev}" for sev, n in report.counts().items())
        rows = "".join(
            f"<tr><td>{html.escape(f.severity.upper())}</td><td>{html.escape(f.id)}</td>"
            f"<td>{html.escape(f.package)} {html.escape(f.installed)}</td>"
            f"<td>{html.escape(f.affected or '')}</td>"
            f"<td>{html.escape(f.fixed_in or 'not yet')}</td></tr>"
            for f in report.findings
        )
        table = (
            "<table><tr><th>severity</th><th>advisory</th><th>installed</th>"
            f"<th>affects versions</th><th>fixed in</th></tr>{rows}</table>"
            if rows
            else "<p>No findings (simulated).</p>"
        )
        inventory = ", ".join(f"{name} {version}" for name, version in report.packages)
        if inventory:
            table = (
                f"<div><strong>Installed packages</strong> ({len(report.packages)}): "
                f"{html.escape(inventory)}</div>{table}"
            )
        return box(
            f"{banner}<div><code>{html.escape(report.reference)}</code> "
            f"<span style='color: {MUTED}'>{html.escape(report.digest)}</span></div>"
            f"<div>{html.escape(counts)}</div>{table}"
            f"<div style='color: {MUTED}'>{html.escape(report.notice)}</div>",
            "simulated",
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
