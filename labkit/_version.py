"""labkit's version, alone, so that nothing needs to import the package root to read it."""

from __future__ import annotations

__version__ = "0.2.0"
