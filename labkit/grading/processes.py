"""The processes of a run, found and ended: its pids cgroup, its marker in the environment, its
session, or its uid (a sandbox slot's). :mod:`labkit.grading.execute` ends every one of them when a
run stops; the cgroups it makes here are removed then, and those an earlier grader left behind are
removed by the next one (:func:`sweep_stale_cgroups`). Linux only: it reads ``/proc`` and
``/sys/fs/cgroup``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from pathlib import Path

__all__ = [
    "KILL_ROUNDS",
    "STALE_CGROUP_S",
    "Cgroup",
    "cgroup_bases",
    "count_processes_of",
    "end_everything",
    "end_processes_of",
    "is_zombie",
    "marked_processes",
    "sweep_stale_cgroups",
]

KILL_ROUNDS = 100


class Cgroup:
    """A pids cgroup for one run (v1 ``pids`` hierarchy or v2), when this process may make one."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, name: str, max_pids: int) -> Cgroup | None:
        for base in cgroup_bases():
            sweep_stale_cgroups(base)
            path = base / name
            try:
                path.mkdir()
            except OSError:
                continue
            group = cls(path)
            try:
                (path / "pids.max").write_text(str(max_pids))
            except OSError:
                pass  # v2 without the pids controller: it still tracks members.
            if (path / "cgroup.procs").exists():
                return group
            group.remove()
        return None

    @property
    def procs_file(self) -> str:
        return str(self.path / "cgroup.procs")

    def members(self) -> list[int]:
        try:
            text = (self.path / "cgroup.procs").read_text()
        except OSError:
            return []
        return [int(line) for line in text.split()]

    def remove(self) -> bool:
        for _ in range(50):
            try:
                self.path.rmdir()
                return True
            except FileNotFoundError:
                return True
            except OSError:
                time.sleep(0.02)
        return False


# Cgroups an earlier grader left behind: it was killed before it could remove them, or a process
# of its run took over a second to end. Empty and older than this, the next grader removes them
# (rmdir refuses a cgroup with members, so a live run's is never touched): a run's cgroup
# (``labkit-<32 hex>``) has its first member within a second of being made; a warm sandbox's
# (``labkit-slot-<32 hex>``) holds its zygote for the whole grading run, but is empty for a moment
# when its zygote restarts, so only one a day old is taken for left behind.
STALE_CGROUP_S = {"run": 600, "slot": 86_400}
_CGROUP_NAME = re.compile(r"^labkit-(slot-)?[0-9a-f]{32}$")
_swept: set[Path] = set()


def sweep_stale_cgroups(base: Path, now: float | None = None) -> list[str]:
    """Remove the empty cgroups of runs and sandboxes under ``base`` older than
    STALE_CGROUP_S (once per base and process, unless ``now`` is given); returns the names
    removed."""
    if now is None:
        if base in _swept:
            return []
        _swept.add(base)
        now = time.time()
    removed: list[str] = []
    try:
        olds = [(p, _CGROUP_NAME.match(p.name)) for p in base.iterdir()]
    except OSError:
        return removed
    for old, match in olds:
        if match is None:
            continue
        try:
            if now - old.stat().st_mtime < STALE_CGROUP_S["slot" if match[1] else "run"]:
                continue
            if (old / "cgroup.procs").read_text().strip():
                continue
            old.rmdir()
            removed.append(old.name)
        except OSError:
            continue
    return removed


def cgroup_bases() -> list[Path]:
    """Where this process may make a child cgroup: the v1 pids hierarchy, else the v2 tree."""
    root = Path("/sys/fs/cgroup")
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    bases = []
    for line in lines:
        _, controllers, own = line.split(":", 2)
        own = own.lstrip("/")
        if "pids" in controllers.split(","):
            bases.append(root / "pids" / own)
        elif controllers == "" and (root / "cgroup.controllers").exists():
            bases.append(root / own)
    return [base for base in bases if os.access(base, os.W_OK)]


def marked_processes(marker: bytes, session: int) -> list[int]:
    """Processes whose environment carries ``marker`` or that are in session ``session``."""
    found = []
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid == me:
            continue
        try:
            if os.getsid(pid) == session:
                found.append(pid)
                continue
        except OSError:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.append(pid)
    return found


def end_everything(cgroup: Cgroup | None, marker: bytes, session: int) -> list[int]:
    """SIGKILL every process of the run until none remains; the survivors (should be none)."""
    survivors: list[int] = []
    quiet_rounds = 0
    for _ in range(KILL_ROUNDS):
        pids = set(cgroup.members() if cgroup else ()) | set(marked_processes(marker, session))
        pids.discard(os.getpid())
        pids = {pid for pid in pids if not is_zombie(pid)}
        if not pids:
            quiet_rounds += 1
            if quiet_rounds >= 2:
                return []
            continue
        quiet_rounds = 0
        survivors = sorted(pids)
        for pid in survivors:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)
    return survivors


def is_zombie(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return text.rpartition(")")[2].split()[0] in ("Z", "X")


def count_processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    count += 1
    return count


def end_processes_of(uid: int) -> list[int]:
    """SIGKILL every process of ``uid`` (a sandbox slot's) until none is left; the survivors."""
    left: list[int] = []
    for _ in range(KILL_ROUNDS):
        left = []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if entry.stat().st_uid == uid and not is_zombie(int(entry.name)):
                        left.append(int(entry.name))
        if not left:
            return []
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)
    return left
