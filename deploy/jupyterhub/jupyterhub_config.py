"""JupyterHub for a labkit course on one machine.

    sudo jupyterhub -f /srv/labkit/hub/jupyterhub_config.py     # from /srv/jupyterhub (its state)

One Unix account per student (the hub logs them in with their Unix password through PAM and
starts each one's JupyterLab as that account, in their own home, which only they can read).
Everything course-specific lives in one folder, LABKIT_COURSE_DIR (default /srv/labkit):

    /srv/labkit/notebooks/      the lab notebooks; each student gets a copy in ~/labs at first start
    /srv/labkit/students.txt    one hub (Unix) user name per line: who may log in as a student
    /srv/labkit/instructors.txt one user name per line: the instructors (group "instructors")
    /srv/labkit/collect.token   the token of the "labkit-collect" service (root only, 0600);
                                create it with: openssl rand -hex 32 > /srv/labkit/collect.token

Then an instructor collects and grades (docs/jupyterhub.md):

    labkit collect --hub http://127.0.0.1:8000 --token-file /srv/labkit/collect.token -o class/
    labkit grade class/ --roster class/roster.csv -o grades/grades.csv --feedback grades/feedback

To try the hub without Unix accounts: LABKIT_HUB_AUTH=dummy (any name, the shared password in
LABKIT_HUB_DUMMY_PASSWORD; every server runs as the hub's own user, so do not use it for a class).
Real classes usually log in through their institution instead of Unix passwords: LTI from the LMS
(ltiauthenticator: Canvas, Moodle, Blackboard send the student's login, so the hub user name is
the LMS id and the variants match the LMS roster), or OAuth/OIDC (oauthenticator: GitHub, Google,
Azure AD, generic OIDC). Swap the authenticator below; nothing else in this file changes, except
that accounts which are not Unix users need another spawner (a container spawner, or
SystemdSpawner with dynamic users).

Tested by tests/hub/test_hub.py with JupyterHub 6 and configurable-http-proxy 5.
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

HERE = Path(__file__).resolve().parent
COURSE = Path(os.environ.get("LABKIT_COURSE_DIR", "/srv/labkit"))
LABS = COURSE / "notebooks"


def names(file: Path) -> set[str]:
    """User names, one a line (blank lines and # comments skipped); empty if the file is absent."""
    if not file.exists():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in file.read_text().splitlines())
    return {line for line in lines if line}


STUDENTS = names(COURSE / "students.txt")
INSTRUCTORS = names(COURSE / "instructors.txt")

# -- where the hub listens ----------------------------------------------------------------------
# Behind a TLS-terminating reverse proxy (nginx, Caddy) keep it on loopback; to serve the class
# directly, bind to the machine's address and give the hub a certificate (c.JupyterHub.ssl_cert).
c.JupyterHub.bind_url = os.environ.get("LABKIT_HUB_URL", "http://127.0.0.1:8000")

# -- who may log in -----------------------------------------------------------------------------
if os.environ.get("LABKIT_HUB_AUTH", "pam") == "dummy":
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = os.environ.get("LABKIT_HUB_DUMMY_PASSWORD", "try-labkit")
    c.JupyterHub.spawner_class = "simple"  # servers run as the hub's user, in /tmp/<name>
else:
    c.JupyterHub.authenticator_class = "pam"  # Unix accounts and passwords
    c.JupyterHub.spawner_class = "localprocess"  # each server runs as the student's Unix user
c.Authenticator.allowed_users = STUDENTS | INSTRUCTORS
c.JupyterHub.load_groups = {
    "students": {"users": sorted(STUDENTS)},
    "instructors": {"users": sorted(INSTRUCTORS)},
}

# -- each student's server ----------------------------------------------------------------------
# JupyterLab opens on the first lab. The student id that seeds each student's variants is their
# hub user name: JupyterHub sets JUPYTERHUB_USER in the server, and labkit.start() uses it when
# the student has not typed a course id in 00-start-here (labkit/records.py resolve_student).
c.Spawner.default_url = "/lab/tree/labs/00-start-here.ipynb"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = {
    # read by jupyter_server_config.py (run as the student at every start): copy the labs that
    # are not yet in ~/labs from here (never overwriting a student's file)
    "LABKIT_LABS_SOURCE": str(LABS),
}
c.Spawner.args = [f"--config={HERE / 'jupyter_server_config.py'}"]
# Measured: a kernel that ran every lab holds about 70 MB; JupyterLab itself about 100 MB.
c.Spawner.mem_limit = "1G"  # enforced by container spawners; informative for local processes
# Nbgitpuller instead of the copy at start: install nbgitpuller next to JupyterLab and give
# students a link such as
#   https://HUB/hub/user-redirect/git-pull?repo=https://example.org/course/labs&branch=main&urlpath=lab/tree/labs/notebooks/00-start-here.ipynb
# (it merges later changes without overwriting the students' edits).

# -- permissions (JupyterHub RBAC) --------------------------------------------------------------
# Jupyter Server's authorizer (jupyter_server_config.py) lets a token act on a server only with
# these scopes, so access to a student's server can be read-only. Without that authorizer,
# "access:servers" alone would let the holder run code in the student's account.
c.JupyterHub.custom_scopes = {
    "custom:jupyter_server:read:*": {
        "description": "Read files and the state of a server (no edits, no code).",
    },
    "custom:jupyter_server:write:*": {
        "description": "Edit files on a server (no code).",
        "subscopes": ["custom:jupyter_server:read:*"],
    },
    "custom:jupyter_server:execute:*": {
        "description": "Everything on a server, running code included.",
        "subscopes": ["custom:jupyter_server:write:*"],
    },
}
# Servers ask for these on behalf of whoever logs in to them (the owner gets "execute", a reader
# "read"): the intersection with the visitor's own scopes is what the browser session holds.
c.Spawner.oauth_client_allowed_scopes = [
    "access:servers!server",
    "custom:jupyter_server:read:*!server",
    "custom:jupyter_server:execute:*!server",
]
TOKEN = COURSE / "collect.token"  # the labkit-collect service exists only when this file does
COLLECTOR = {"services": ["labkit-collect"]} if TOKEN.exists() else {}
COLLECT_SCOPES = [
    "list:users",  # the roster: every user's name (implies read:users:name)
    "read:users:groups",  # ... and groups, so the instructors are left out of it
    "access:servers",  # reach each student's server through the proxy ...
    "custom:jupyter_server:read:*",  # ... but only to read it: no edits, no kernels, no terminals
]
c.JupyterHub.load_roles = [
    # every user: everything on their own server and nothing else
    {"name": "user", "scopes": ["self", "custom:jupyter_server:execute:*!user"]},
    # labkit collect: read-only, cannot start, stop or use anyone's server
    {
        "name": "labkit-collector",
        "scopes": COLLECT_SCOPES,
        "groups": ["instructors"],
        **COLLECTOR,
    },
    # instructors also see the admin page and can start and stop students' servers
    {
        "name": "instructor",
        "scopes": ["admin-ui", "read:users", "read:servers", "admin:servers"],
        "groups": ["instructors"],
    },
]
if TOKEN.exists():
    c.JupyterHub.services = [
        {"name": "labkit-collect", "api_token": TOKEN.read_text().strip(), "display": False}
    ]

# -- housekeeping -------------------------------------------------------------------------------
# Stop servers idle for an hour (pip install jupyterhub-idle-culler to enable):
#   c.JupyterHub.services.append({"name": "idle-culler",
#       "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600"]})
#   with a role granting it list:users, read:users:activity, read:servers, delete:servers.
c.JupyterHub.shutdown_on_logout = False
