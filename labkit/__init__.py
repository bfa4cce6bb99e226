"""labkit: learn how container images are named, tagged, shared and shipped.

The core (references, content, registries, accounts, the Docker-like client and the
exercises) is standard-library Python. The Jupyter layer (``labkit.start``, the
``%docker`` magic and the widgets) is imported only when first used.
"""

from __future__ import annotations

# Lazy imports (inside functions): by design: `import labkit` loads only labkit._version and
# labkit.errors (tests/test_project.py); the rest, and the Jupyter layer, on first use.
from typing import Any

from labkit._version import __version__
from labkit.errors import InvalidReference, LabkitError, RegistryError

__all__ = [
    "InvalidReference",
    "LabkitError",
    "Reference",
    "RegistryError",
    "__version__",
    "explain",
    "parse_reference",
]

# Heavier parts load on first use so that `import labkit` stays light.
_LAZY = {
    "Reference": "labkit.reference",
    "explain": "labkit.reference",
    "parse_reference": "labkit.reference",
    "World": "labkit.world",
    "Result": "labkit.shell",
    "start": "labkit.session",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'labkit' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext labkit``: registers the ``%docker`` and ``%%docker`` magics."""
    from labkit.magic import load_ipython_extension as load

    load(ipython)
