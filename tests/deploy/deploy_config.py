"""Load deploy/jupyterhub/jupyterhub_config.py as JupyterHub would (traitlets), without a hub."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from traitlets.config.loader import PyFileConfigLoader

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "jupyterhub"


def load_hub_config(**env: str) -> Any:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return PyFileConfigLoader("jupyterhub_config.py", str(DEPLOY)).load_config()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
