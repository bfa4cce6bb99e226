"""Each student's Jupyter server: loaded with --config by jupyterhub_config.py, run as the student.

1. Granular permissions: a token or a visitor may read, write or execute on this server only
   with the matching custom:jupyter_server:* scope (see jupyterhub_config.py), so the
   instructor's collecting token reads files and can do nothing else here.
2. The labs: the notebooks in LABKIT_LABS_SOURCE that are not yet in ~/labs are copied there at
   every start, as the student, never overwriting a file the student already has.
"""

import os
import shutil
from pathlib import Path

from jupyterhub.singleuser.extension import JupyterHubAuthorizer

c = get_config()  # noqa: F821 - provided by Jupyter Server when it loads this file


class LabkitAuthorizer(JupyterHubAuthorizer):
    """Allow an action on this server only with a custom:jupyter_server scope for it."""

    def is_authorized(self, handler, user, action, resource):
        owner = os.environ["JUPYTERHUB_USER"]
        server = f"{owner}/{os.environ.get('JUPYTERHUB_SERVER_NAME', '')}"
        wanted = set()
        for where in (f"!user={owner}", f"!server={server}"):
            wanted.add(f"custom:jupyter_server:{action}:{resource}{where}")
            wanted.add(f"custom:jupyter_server:{action}:*{where}")
        return bool(self.hub_auth.check_scopes(wanted, user.hub_user))


c.ServerApp.authorizer_class = LabkitAuthorizer


def copy_labs(source: Path, target: Path) -> None:
    """Copy the notebooks missing from ``target``; files the student has are left alone."""
    if not source.is_dir():
        return
    target.mkdir(mode=0o700, exist_ok=True)
    if target.is_symlink() or not target.is_dir():
        return
    for notebook in sorted(source.glob("*.ipynb")):
        destination = target / notebook.name
        if not os.path.lexists(destination):
            shutil.copyfile(notebook, destination)


copy_labs(Path(os.environ.get("LABKIT_LABS_SOURCE", "/srv/labkit/notebooks")), Path.home() / "labs")
