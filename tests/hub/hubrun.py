"""A real JupyterHub on loopback for the hub tests: Unix users made for the run, the course folder,
an interpreter the students can run, the hub (deploy/jupyterhub/jupyterhub_config.py with a small
overlay for ports and state), and the cleanup of everything the run started.

Every process of the run carries ``LABKIT_HUB_RUN=<mark>`` in its environment (the hub, the proxy,
and, through the overlay, each student's server and kernels) and the students' processes run as
the run's own Unix users; teardown stops the hub, kills what is left by pid, and removes the users.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "jupyterhub"
NOTEBOOKS = ROOT / "notebooks"
BIN = Path(sys.executable).parent
NODE_BIN = ROOT / "node_modules" / ".bin"
MARK_VARIABLE = "LABKIT_HUB_RUN"
RUN_MARK = uuid.uuid4().hex
START_TIMEOUT = 90

# What a student's JupyterLab starts with: no news pop-up, the light theme, and (the browser
# helpers find cells by index):
LAB_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
    # every cell in the page; and the notebook's own kernel started without asking (on a loaded
    # machine JupyterLab may open the notebook before the kernel list arrives and ask "Select
    # Kernel", where a student clicks Select: this is that click, made by a setting)
    "@jupyterlab/notebook-extension/tracker": {
        "windowingMode": "none",
        "autoStartDefaultKernel": True,
    },
    "@jupyterlab/apputils-extension/themes": {"theme": "JupyterLab Light"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def marked_processes(mark: str = RUN_MARK) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose environment carries this run's mark."""
    needle = f"{MARK_VARIABLE}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in environ and "State:\tZ" not in status:
            found.append((int(entry.name), cmdline.strip()))
    return found


def processes_of(uid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every live process running as ``uid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "State:\tZ" not in status:
            found.append((int(entry.name), cmdline.strip()))
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (VmRSS), 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def kill_all(processes: list[tuple[int, str]]) -> None:
    for pid, _ in processes:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# -- Unix users --------------------------------------------------------------------------------


@dataclass
class UnixUser:
    name: str
    password: str
    uid: int
    home: Path


def add_user(name: str) -> UnixUser:
    """A Unix account with a password and a home only it can read (0700)."""
    subprocess.run(
        ["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", name],
        check=True,
        capture_output=True,
    )
    password = secrets.token_urlsafe(12)
    subprocess.run(
        ["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, capture_output=True
    )
    entry = pwd.getpwnam(name)
    home = Path(entry.pw_dir)
    home.chmod(0o700)
    return UnixUser(name, password, entry.pw_uid, home)


def remove_user(user: UnixUser) -> list[tuple[int, str]]:
    """Kill the user's processes left (returned), then delete the account and its home."""
    left = processes_of(user.uid)
    kill_all(left)
    for _ in range(50):
        if not processes_of(user.uid):
            break
        time.sleep(0.1)
    subprocess.run(["userdel", "--remove", user.name], capture_output=True, check=False)
    shutil.rmtree(user.home, ignore_errors=True)
    return left


def write_lab_settings(user: UnixUser) -> None:
    """JupyterLab user settings in the student's home, owned by the student."""
    folder = user.home / ".jupyter" / "lab" / "user-settings"
    for plugin, values in LAB_SETTINGS.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    subprocess.run(
        ["chown", "-R", f"{user.name}:{user.name}", str(user.home / ".jupyter")], check=True
    )


def run_as(user: UnixUser, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
    """Run a command as the user (runuser, a login-less su), in their home."""
    return subprocess.run(
        ["runuser", "-u", user.name, "--", *command],
        cwd=user.home,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **kwargs,
    )


# -- the students' interpreter ------------------------------------------------------------------


def link_tree(source: Path, target: Path) -> None:
    """``source`` copied to ``target`` as hard links (instant, no space; a plain copy across file
    systems); the new folders get the usual 0755, so every user can read the copy."""
    done = subprocess.run(["cp", "-al", str(source), str(target)], capture_output=True, check=False)
    if done.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True)


def student_python(base: Path) -> Path:
    """A Python the students' accounts can run, with this venv's packages and labkit.

    The checkout and its venv may live where other users cannot go (a 0700 folder; pyenv under
    /root), so what the students' servers need is linked into ``base`` (0755): this venv's
    site-packages (less the editable install's finder) with labkit itself beside them, and its
    etc/jupyter and share/jupyter; the interpreter is a venv of Debian's python3 of the same minor
    version, whose one .pth file adds that site folder (its .pth files apply).
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    system = Path(f"/usr/bin/python{version}")
    if not system.exists():
        raise RuntimeError(f"{system} is missing: the students' servers need a Python {version}")
    venv = base / "student-venv"
    subprocess.run([str(system), "-m", "venv", "--without-pip", str(venv)], check=True)
    site = base / "site-packages"
    link_tree(Path(sysconfig.get_paths()["purelib"]), site)
    for editable in site.glob("__editable__*labkit*"):
        editable.unlink()
    shutil.rmtree(site / "labkit", ignore_errors=True)
    link_tree(ROOT / "labkit", site / "labkit")
    for shared in ("etc/jupyter", "share/jupyter"):  # JupyterLab's enablement, assets, kernels
        (venv / shared).parent.mkdir(parents=True, exist_ok=True)
        link_tree(Path(sys.prefix) / shared, venv / shared)
    (venv / "lib" / f"python{version}" / "site-packages" / "labkit_hub_test.pth").write_text(
        f"import site; site.addsitedir({str(site)!r})\n"
    )
    # console scripts other tools call by name (nbgrader runs `alembic`), for this interpreter
    for script in ("alembic",):
        wrapper = venv / "bin" / script
        wrapper.write_text(f'#!/bin/sh\nexec "{venv}/bin/python" -m {script} "$@"\n')
        wrapper.chmod(0o755)
    return venv / "bin" / "python"


# -- the hub -----------------------------------------------------------------------------------


@dataclass
class Hub:
    base: Path
    course: Path
    url: str
    token: str
    log: Path
    python: Path  # the interpreter the students' servers (and their nbgrader) run
    process: subprocess.Popen | None = None
    users: dict[str, UnixUser] = field(default_factory=dict)

    def api(self, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
        """Call the hub's REST API; returns (status, decoded JSON or text)."""
        return http(method, f"{self.url}/hub/api/{path}", token or self.token, body)

    def log_tail(self, lines: int = 60) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def http(method: str, url: str, token: str | None, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"token {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


OVERLAY = """\
# The hub tests' overlay: the shipped configuration, then free loopback ports and this run's state.
load_subconfig({config!r})
c.JupyterHub.bind_url = {url!r}
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.JupyterHub.db_url = "sqlite:///{base}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{base}/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = "{base}/jupyterhub.pid"
c.Spawner.cmd = [{python!r}, "-m", "jupyterhub.singleuser"]
c.Spawner.environment[{mark_variable!r}] = {mark!r}
c.Spawner.start_timeout = 90
c.Spawner.http_timeout = 90
"""


def start_hub(base: Path, students: list[UnixUser], instructors: list[UnixUser]) -> Hub:
    """The shipped configuration (PAM, a server per Unix user) on free loopback ports."""
    chp = NODE_BIN / "configurable-http-proxy"
    if not chp.exists():
        raise RuntimeError(
            f"{chp} is missing: `make node_modules` installs configurable-http-proxy from npm"
        )
    course = base / "course"
    (course / "notebooks").mkdir(parents=True)
    for notebook in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy(notebook, course / "notebooks" / notebook.name)
    (course / "students.txt").write_text("".join(f"{u.name}\n" for u in students))
    (course / "instructors.txt").write_text("".join(f"{u.name}\n" for u in instructors))
    token = secrets.token_hex(32)
    token_file = course / "collect.token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    python = student_python(base)
    config = base / "hub"  # the shipped configuration, copied as docs/jupyterhub.md does
    config.mkdir()
    for name in ("jupyterhub_config.py", "jupyter_server_config.py"):
        shutil.copy(DEPLOY / name, config / name)
    url = f"http://127.0.0.1:{free_port()}"
    overlay = base / "jupyterhub_test_config.py"
    overlay.write_text(
        OVERLAY.format(
            config=str(config / "jupyterhub_config.py"),
            url=url,
            hub_port=free_port(),
            proxy_api_port=free_port(),
            chp=str(chp),
            base=base,
            python=str(python),
            mark_variable=MARK_VARIABLE,
            mark=RUN_MARK,
        )
    )
    env = {
        **os.environ,
        "LABKIT_COURSE_DIR": str(course),
        MARK_VARIABLE: RUN_MARK,
        "PATH": f"{NODE_BIN}:{BIN}:{os.environ.get('PATH', '')}",
    }
    env.pop("JUPYTERHUB_API_TOKEN", None)
    hub = Hub(base, course, url, token, base / "jupyterhub.log", python)
    hub.users = {u.name: u for u in (*students, *instructors)}
    with hub.log.open("wb") as log:
        hub.process = subprocess.Popen(
            [str(BIN / "jupyterhub"), "-f", str(overlay)],
            cwd=base,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            raise RuntimeError(f"jupyterhub exited at start:\n{hub.log_tail()}")
        try:
            status, _ = http("GET", f"{url}/hub/api/", None)
            if status == 200:
                return hub
        except OSError:
            pass
        time.sleep(0.2)
    stop_hub(hub)
    raise RuntimeError(f"jupyterhub did not answer in {START_TIMEOUT} s:\n{hub.log_tail()}")


def stop_hub(hub: Hub) -> None:
    """SIGTERM (the hub stops the servers and the proxy it started), then kill what is left."""
    if hub.process is None:
        return
    if hub.process.poll() is None:
        hub.process.send_signal(signal.SIGTERM)
        try:
            hub.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(hub.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    hub.process.wait(timeout=10)


def scratch_base() -> Path:
    """A folder every user can enter (the students' interpreter and the labs live there)."""
    base = Path(tempfile.mkdtemp(prefix="labkit-hub-"))
    base.chmod(0o755)
    return base
