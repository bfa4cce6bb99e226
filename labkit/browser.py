"""Where labkit runs in the browser alone (JupyterLite, Pyodide): what it cannot do there.

In the browser there is no server, no thread, no subprocess and no socket; ``~`` lives in memory
while the notebook's folder is kept in the browser's storage. The labs need none of the first
four; what needs them says so in the student's words (:func:`require_server`).
"""

from __future__ import annotations

import sys

from labkit.errors import LabkitError

__all__ = ["NotInTheBrowser", "in_browser", "require_server"]


def in_browser() -> bool:
    """True in Pyodide (JupyterLite)."""
    return sys.platform == "emscripten"


class NotInTheBrowser(LabkitError):
    """Something the browser cannot do. A notebook shows its message alone (no traceback), and
    Run All stops there."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [str(self)]


def require_server(what: str, instead: str = "") -> None:
    """Stop with a plain message when running in the browser, where ``what`` cannot work."""
    if not in_browser():
        return
    message = (
        f"Not in the browser: {what} needs a Jupyter server, and this notebook runs in the "
        "browser alone (JupyterLite), where there is no server, no thread and no socket. "
        "Open this lab in JupyterLab (`make lab`) or on your course's hub to do it."
    )
    if instead:
        message += f"\nWhat you can do here: {instead}"
    raise NotInTheBrowser(message)
