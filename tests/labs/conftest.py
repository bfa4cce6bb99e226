"""The lab tests' shared fixture: each lab notebook walked once per session."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lab_support import Walk, notebook_walk


@pytest.fixture(scope="session")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Walk]:
    """``walked(lab_id)``: the session's one walk of that lab's notebook."""
    root = tmp_path_factory.mktemp("walks")
    return lambda lab_id: notebook_walk(lab_id, root)
