"""ipywidgets front-ends for labs (the Jupyter layer): exercises, reference explorer, push
view, registry browser, permission matrix, scan view and progress bar.

Every view keeps its state in plain Python attributes (``.state``, ``.feedback.value``, ...)
so tests drive it without a browser. Submodules import ipywidgets; this package imports them
on first use.
"""

from __future__ import annotations

# Lazy imports (inside functions): the widgets are exported by name and loaded on first use
# (ipywidgets: 0.4 s).
from typing import Any

__all__ = [
    "ExerciseView",
    "ExplorerView",
    "PermissionMatrix",
    "ProgressView",
    "PushView",
    "RegistryBrowser",
    "ScanView",
]

_LAZY = {
    "ExerciseView": "labkit.widgets.exercise",
    "ExplorerView": "labkit.widgets.explorer",
    "PermissionMatrix": "labkit.widgets.permissions",
    "ProgressView": "labkit.widgets.progress",
    "PushView": "labkit.widgets.push",
    "RegistryBrowser": "labkit.widgets.browser",
    "ScanView": "labkit.widgets.scan",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'labkit.widgets' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
