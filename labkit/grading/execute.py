"""``labkit grade --execute``: run one submitted notebook in a fresh, isolated process (Linux only).

How a submission is run:

- every input is read into memory first (the notebook, and the submission's
  ``labkit-answers/*.json`` when given); nothing of the submission is written back;
- a scratch folder per submission (``tempfile.mkdtemp``) holds the notebook and a copy of the
  answers folder, never the submission's other files (a ``labkit.py`` there would shadow the
  package); the child runs with ``python -I`` so neither the scratch folder nor ``PYTHON*``
  variables change ``sys.path``;
- the child is one fresh Python process that runs the code cells one by one with IPython's
  ``InteractiveShell`` (no kernel, no ZMQ; magics such as ``%load_ext labkit`` and ``%docker``
  work), with ``LABKIT_GRADING=1``, ``LABKIT_STUDENT`` and a unique ``LABKIT_RUN_ID`` set, a
  minimal environment, ``HOME`` in the scratch folder and standard input closed. Each cell's
  outputs (streams, display data, results, errors) come back to the parent over a pipe, so the
  executed notebook is rebuilt here even when the child dies;
- the child runs in a bubblewrap sandbox (:func:`check_isolation`, ``labkit grade --execute
  --check-isolation``): its own PID, mount, IPC, UTS and network namespaces (``--die-with-parent``,
  ``--new-session``); it sees only /usr, the interpreter's prefixes and labkit's package folder
  read-only, its scratch folder writable, a fresh /dev, an empty /tmp and a /proc of its own PID
  namespace: not the instructor's home, the submissions, the checks, nor other children. A root
  grader gives each concurrent child its own uid (``UID_BASE`` + a slot held with a lock file;
  no passwd entry) and drops to it with setpriv (no groups, no capabilities, no_new_privs); a
  non-root grader's child keeps the grader's uid inside a user namespace. So a child cannot
  signal the grader or a peer, connect to a unix socket or a port outside, or read a secret.
  Where that cannot be had, the notebook is not run unless the caller passes ``unisolated_ok``;
- started warm (root grader, :mod:`labkit.grading.zygote`): the sandbox above holds a zygote
  with IPython and labkit imported, per slot (its uid), and each notebook is a child it forks
  into new PID, mount, IPC, UTS and network namespaces of its own (its own /proc, /tmp and
  /dev/shm, only its own folder of the slot's), dropped to the slot's uid with no capabilities
  and no_new_privs; a run the grader must stop ends the whole sandbox. ``keep_warm`` keeps one
  per thread across runs (``labkit grade``: one per worker); :func:`check_isolation` probes it
  from inside a notebook before it is used, else each notebook starts cold as above
  (``LABKIT_EXECUTE_COLD=1`` forces that);
- limits: per-cell and per-submission wall clock (enforced here: the run is stopped), CPU time
  (``RLIMIT_CPU``), address space (``RLIMIT_AS``), file size (``RLIMIT_FSIZE``), open files
  (``RLIMIT_NOFILE``) and processes (a pids cgroup when one can be made; ``RLIMIT_NPROC`` for
  the sandbox's own uid);
- captured output is capped (``output_bytes``): writing past it raises in the cell once, the rest
  is dropped, and the result says ``output-limit``;
- the control pipe is read in the runner's only order (start, done per code cell, finished):
  the notebook's code shares the runner's process and can write on it, but a line out of turn is
  ignored and named (status ``forged``), and an error once reported is never erased;
- afterwards every descendant is ended with SIGKILL (the sandbox's PID namespace ends with its
  first process; the members of the run's cgroup and every process carrying the run's marker
  are ended too), and the scratch folder is removed.

This module is long because the sandbox is one security boundary (bubblewrap, resource limits,
the child that runs the cells and captures their outputs), read and reviewed as a whole; finding
and ending a run's processes is :mod:`labkit.grading.processes`.
"""

from __future__ import annotations

# Lazy imports (inside functions): IPython and traitlets are loaded only in the kernel child; fcntl
# is POSIX-only.
import contextlib
import copy
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.exercises.model import Status
from labkit.grading.processes import (
    Cgroup,
    count_processes_of,
    end_everything,
    end_processes_of,
)
from labkit.grading.zygote import (
    CAPABILITIES,
    ZYGOTE_FD_VARIABLE,
    Zygote,
    runtime_under_tmp,
    serve,
)
from labkit.records import ANSWERS_FOLDER

__all__ = [
    "STATUSES",
    "ExecutionItem",
    "ExecutionResult",
    "Limits",
    "execute_many",
    "execute_submission",
    "isolation",
]

# What a run can end as (labkit.exercises.Status values; lab grades show them as they are).
STATUSES = (
    Status.OK,
    Status.TIMED_OUT,
    Status.KILLED,
    Status.MEMORY_LIMIT,
    Status.OUTPUT_LIMIT,
    Status.ERROR,
    Status.NOT_A_NOTEBOOK,
    Status.FORGED,
)
RUN_MARKER = "LABKIT_RUN_ID"
CONTROL_FD_VARIABLE = "LABKIT_CONTROL_FD"
NOTEBOOK_VARIABLE = "LABKIT_NOTEBOOK"
OUTPUT_LIMIT_VARIABLE = "LABKIT_OUTPUT_BYTES"
STDERR_KEEP = 64 << 10
POLL_SECONDS = 0.05
CHILD_USER = "nobody"


@dataclass(frozen=True)
class Limits:
    """What one submission may use: seconds per cell and in all, bytes of memory, of one file,
    open files, processes, and bytes of captured output."""

    cell_seconds: float = 30
    total_seconds: float = 120
    memory_bytes: int = 1 << 30
    file_bytes: int = 64 << 20
    open_files: int = 256
    processes: int = 64
    output_bytes: int = 1 << 20


@dataclass(frozen=True)
class ExecutionResult:
    """What running one notebook gave: a status, a sentence, the executed notebook, the records."""

    status: str
    reason: str
    notebook: dict | None
    records: list[dict]
    seconds: float


@dataclass(frozen=True)
class ExecutionItem:
    """One submission for :func:`execute_many`."""

    notebook: Path
    student: str
    lab: str
    extra_files: Path | None = None


class NotANotebook(ValueError):
    """The file is not a notebook this runner can execute (the message says why)."""


# -- reading inputs ---------------------------------------------------------------------------


def _read_bytes(path: Path, limit: int) -> bytes:
    """A regular file's bytes (symbolic links are not followed); ValueError when too large."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path.name} is not a regular file")
        if info.st_size > limit:
            raise ValueError(f"{path.name} is larger than {_size(limit)}")
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            total += len(chunk)
            if total > limit:
                raise ValueError(f"{path.name} is larger than {_size(limit)}")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_notebook(data: bytes) -> dict[str, Any]:
    """The notebook JSON in ``data``; NotANotebook (with a sentence) when it is not nbformat 4."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotANotebook(
            f"the file is not UTF-8 text (bad byte at position {error.start}), so it is not "
            "a notebook"
        ) from None
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotANotebook(
            f"the file is not valid JSON ({error.msg} at line {error.lineno}, column "
            f"{error.colno}), so it is not a notebook; was it saved completely?"
        ) from None
    if not isinstance(notebook, dict):
        raise NotANotebook("the file is JSON but not a notebook (no top-level object)")
    version = notebook.get("nbformat")
    if version != 4:
        if version == 3 or "worksheets" in notebook:
            raise NotANotebook(
                "the notebook is in the old nbformat 3; open it in Jupyter and save it to "
                "convert it to nbformat 4"
            )
        raise NotANotebook(f"the file is not an nbformat 4 notebook (nbformat: {version!r})")
    cells = notebook.get("cells")
    if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
        raise NotANotebook("the notebook has no list of cells")
    for cell in cells:
        source = cell.get("source", "")
        if not isinstance(source, str) and not (
            isinstance(source, list) and all(isinstance(line, str) for line in source)
        ):
            raise NotANotebook("a cell's source is neither text nor a list of lines")
    return notebook


def _cell_source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def _read_answers(extra_files: Path | None, limit: int) -> dict[str, bytes]:
    """The submission's ``labkit-answers/*.json`` files (``extra_files`` is that folder or the
    folder holding it), by name."""
    if extra_files is None:
        return {}
    folder = Path(extra_files)
    if folder.name != ANSWERS_FOLDER and (folder / ANSWERS_FOLDER).is_dir():
        folder = folder / ANSWERS_FOLDER
    if folder.is_symlink() or not folder.is_dir():
        return {}
    answers = {}
    for path in sorted(folder.iterdir()):
        if path.suffix != ".json" or path.name.startswith("."):
            continue
        with contextlib.suppress(OSError, ValueError):
            answers[path.name] = _read_bytes(path, limit)
    return answers


def _read_records(folder: Path, limit: int) -> list[dict]:
    """The records the run left in ``folder`` (parsed JSON objects; unreadable files skipped)."""
    records: list[dict] = []
    if folder.is_symlink() or not folder.is_dir():
        return records
    for path in sorted(folder.iterdir()):
        if path.suffix != ".json" or path.name.startswith("."):
            continue
        try:
            value = json.loads(_read_bytes(path, limit).decode("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(value, dict):
            records.append(value)
    return records


def _size(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:g} {unit}" if unit == "bytes" else f"{count:.3g} {unit}"
        count /= 1024
    return f"{count} bytes"


# -- isolation: bubblewrap namespaces and one uid per concurrent child ------------------------

UID_BASE = 420_000  # sandbox uids: UID_BASE + slot (no passwd entry is needed)
UID_SLOTS = 256
SETPRIV = "/usr/bin/setpriv"
UNSAFE_VARIABLE = "LABKIT_EXECUTE_UNISOLATED"
COLD_VARIABLE = "LABKIT_EXECUTE_COLD"  # set: a bubblewrap sandbox per notebook, no zygote


@dataclass(frozen=True)
class Isolation:
    """What confines a child on this machine (see :func:`check_isolation`)."""

    sandbox: bool  # bubblewrap: own PID, mount, IPC, UTS, network namespaces; minimal file system
    own_uid: bool  # each concurrent child runs as its own unprivileged uid
    how: str  # "bwrap+uid", "bwrap" or "none"
    problems: tuple[str, ...] = ()
    # each notebook forked from a warm zygote of its slot (root grader): True once a probe
    # notebook showed the confinement above from inside, False when it did not, None: not tried
    warm: bool | None = None

    @property
    def complete(self) -> bool:
        """True when student code never runs with the grader's rights."""
        return self.sandbox and (self.own_uid or os.geteuid() != 0)

    def report(self) -> str:
        lines = [f"isolation: {'in force' if self.complete else 'NOT complete'} ({self.how})"]
        if self.sandbox:
            lines += [
                "  own PID namespace: the grader and other notebooks are invisible and cannot "
                "be signalled",
                "  own mount namespace: only the Python runtime and labkit (read-only) and the "
                "notebook's own scratch copy (writable); a private /tmp and /proc",
                "  own network and IPC namespaces: no network, no unix sockets or shared memory "
                "outside",
                "  dies with the grader (--die-with-parent), own session (--new-session)",
            ]
            lines.append(
                f"  own uid per concurrent child ({UID_BASE}+slot, no capabilities, no_new_privs)"
                if self.own_uid
                else "  uid: the grader's own (not root), inside a user namespace"
            )
            if self.warm:
                lines.append(
                    "  started warm: one pre-imported zygote per slot in that sandbox forks each "
                    "notebook into new PID, mount, IPC, UTS and network namespaces of its own "
                    "(its own /proc, /tmp, /dev/shm; only its own folder of the slot's; the "
                    "slot's uid; no capabilities) - checked from inside a probe notebook"
                )
            elif self.warm is False:
                lines.append("  started cold: a new sandbox and Python per notebook (slower)")
        else:
            lines.append("  no sandbox: student code would run with the grader's rights")
        lines += [f"  problem: {p}" for p in self.problems]
        return "\n".join(lines)


_isolation_cache: dict[str, Isolation] = {}


def check_isolation(*, warm: bool = False) -> Isolation:
    """Find out (once per process) how a child can be confined here: bubblewrap present and
    working, user namespaces or root, and whether the sandbox user can run this Python and
    import labkit and IPython."""
    if "checked" in _isolation_cache:
        found = _isolation_cache["checked"]
        if warm and found.warm is None and found.complete and found.own_uid:
            found = _isolation_cache["checked"] = _probe_warm(found)
        return found
    problems = []
    bwrap = shutil.which("bwrap")
    root = os.geteuid() == 0
    sandbox = own_uid = False
    if not sys.platform.startswith("linux"):
        problems.append("--execute isolation needs Linux")
    elif not bwrap:
        problems.append("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    elif root and not os.path.exists(SETPRIV):
        problems.append(f"{SETPRIV} (util-linux) is missing: a root grader cannot drop the uid")
    else:
        scratch = Path(tempfile.mkdtemp(prefix="labkit-isolation-"))
        slot = _UidSlot.acquire() if root else None
        try:
            uid = slot.uid if slot else None
            if uid is not None:
                os.chown(scratch, uid, uid)
            command = [
                *_sandbox_prefix(bwrap, scratch, uid),
                sys.executable,
                "-I",
                "-c",
                # as root the warm probe then runs a whole notebook (IPython included): this
                # start only proves the runtime and labkit are there for the sandbox's uid
                "import os, labkit; print(os.getuid(), os.getpid())"
                if root
                else "import os, labkit.grading.execute, IPython; print(os.getuid(), os.getpid())",
            ]
            done = subprocess.run(command, capture_output=True, timeout=60, cwd="/")
            if done.returncode == 0:
                sandbox = True
                got_uid, got_pid = (int(x) for x in done.stdout.split()[:2])
                own_uid = uid is not None and got_uid == uid
                if got_pid > 10:
                    problems.append("the child did not get its own PID namespace")
                    sandbox = False
            else:
                text = done.stderr.decode("utf-8", "replace").strip().splitlines()
                problems.append(
                    "bubblewrap cannot run this Python as the sandbox user"
                    + (f" ({text[-1]})" if text else "")
                    + (
                        ""
                        if root
                        else "; are unprivileged user namespaces enabled "
                        "(sysctl kernel.unprivileged_userns_clone / user.max_user_namespaces)?"
                    )
                )
        except (OSError, subprocess.SubprocessError, ValueError) as error:
            problems.append(f"bubblewrap could not be tried: {error}")
        finally:
            if slot:
                slot.release()
            _remove_tree(scratch)
    how = "bwrap+uid" if sandbox and own_uid else "bwrap" if sandbox else "none"
    found = Isolation(sandbox, own_uid, how, tuple(problems))
    _isolation_cache["checked"] = found
    return check_isolation(warm=True) if warm else found


PROBE = """\
import json, os, socket
status = open('/proc/self/status').read()
print(json.dumps({
    'uid': os.getuid(),
    'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()),
    'caps': {k: int(status.split(k + ':')[1].split()[0], 16)
             for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs')},
    'tmp': os.listdir('/tmp'),
    'cwd': os.getcwd(),
    'beside': os.listdir(os.path.dirname(os.getcwd())),
    'net': [name for _, name in socket.if_nameindex()],
}))
"""


def _probe_warm(found: Isolation) -> Isolation:
    """Run a probe notebook through a warm sandbox and check its confinement from inside:
    the slot's uid, only its own PID namespace's processes, no capabilities, no_new_privs, a
    /tmp of its own (nothing but the way to its folder), only its own folder of the slot's, no
    network interface but loopback."""
    import dataclasses

    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "source": PROBE, "outputs": []}],
    }
    folder = Path(tempfile.mkdtemp(prefix="labkit-probe-"))
    problem = ""
    try:
        path = folder / "probe.ipynb"
        path.write_text(json.dumps(notebook))
        _isolation_cache["checked"] = dataclasses.replace(found, warm=True)  # lets it start
        result = execute_submission(path, student="probe", lab="probe")
        outputs = (result.notebook or {}).get("cells", [{}])[0].get("outputs", [])
        text = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
        if result.status != "ok" or not text:
            problem = f"the probe notebook did not run ({result.status}: {result.reason})"
        else:
            seen = json.loads(text)
            caps = seen["caps"]
            # the runtime's folders under /tmp (a CI checkout) show again, read-only
            runtime = {
                path.split("/")[2] for path in runtime_under_tmp() if path.startswith("/tmp/")
            }
            wrong = [
                what
                for what, bad in (
                    ("the slot's uid", not UID_BASE <= seen["uid"] < UID_BASE + UID_SLOTS),
                    ("its own PID namespace", not set(seen["pids"]) <= {1, 2}),
                    ("no capabilities", any(caps[k] for k in caps if k != "NoNewPrivs")),
                    ("no_new_privs", caps["NoNewPrivs"] != 1),
                    (
                        "a /tmp of its own",
                        any(
                            not seen["cwd"].startswith(f"/tmp/{name}/") and name not in runtime
                            for name in seen["tmp"]
                        ),
                    ),
                    ("only its own folder", len(seen["beside"]) != 1),
                    ("no network", seen["net"] != ["lo"]),
                )
                if bad
            ]
            if wrong:
                problem = "the probe notebook did not have " + ", ".join(wrong)
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        problem = f"the probe notebook could not be checked ({error})"
    finally:
        _remove_tree(folder)
    if _warm_broken and not problem:
        problem = _warm_broken[0]
    if problem:
        _warm_broken.append(problem)
        return dataclasses.replace(
            found, warm=False, problems=(*found.problems, f"warm sandbox: {problem}")
        )
    return dataclasses.replace(found, warm=True)


def isolation() -> str:
    """How a child is confined here: "bwrap+uid", "bwrap", or "limits only"."""
    found = check_isolation()
    return found.how if found.sandbox else "limits only"


class _UidSlot:
    """One uid of the pool, held with a lock file while a child runs (across processes)."""

    def __init__(self, slot: int, fd: int) -> None:
        self.slot, self.fd = slot, fd

    @property
    def uid(self) -> int:
        return UID_BASE + self.slot

    @classmethod
    def acquire(cls) -> _UidSlot:
        import fcntl

        # kept out of the temporary folder, which runs and tests watch for leftovers
        base = Path("/run") if os.access("/run", os.W_OK) else Path(tempfile.gettempdir())
        folder = base / f"labkit-uid-slots-{os.geteuid()}"
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            raise OSError(f"{folder} is not this user's folder")
        while True:
            for slot in range(UID_SLOTS):
                fd = os.open(folder / str(slot), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue
                if count_processes_of(UID_BASE + slot) == 0:
                    return cls(slot, fd)
                os.close(fd)  # a leftover of a crashed run still holds this uid: skip it
            time.sleep(0.05)

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


def _sandbox_prefix(
    bwrap: str, scratch: Path, uid: int | None, *, zygote: bool = False
) -> list[str]:
    """The bubblewrap command line that confines the child (before the Python command).

    Only what the child needs is visible: /usr (and the /bin, /lib... links to it), the
    interpreter's prefixes and labkit's package folder read-only, the scratch folder writable,
    a fresh /dev, a /proc of its own PID namespace, an empty /tmp. As root the child then drops
    to ``uid`` with setpriv (no capabilities, no groups, no_new_privs); otherwise it stays the
    grader's uid inside a user namespace. A ``zygote`` (:mod:`labkit.grading.zygote`, root
    grader) stays root with the capabilities it needs to confine each notebook it forks and
    drop it to ``uid`` itself."""
    args = [
        bwrap,
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent", "--new-session",
        "--ro-bind", "/usr", "/usr",
    ]  # fmt: skip
    if zygote:
        args += ["--cap-add", CAPABILITIES]
    elif uid is None:
        args += ["--unshare-user", "--cap-drop", "ALL"]
    for name in ("bin", "sbin", "lib", "lib64", "lib32", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    made = {Path("/"), Path("/tmp")}
    for path in [*_runtime_paths(), scratch]:
        if path == Path("/usr") or path.is_relative_to("/usr"):
            continue
        # folders on the way are made traversable (bwrap would make them 0700, root's)
        for parent in reversed(path.parents):
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
        if path != scratch:
            args += ["--ro-bind", str(path), str(path)]
    args += ["--bind", str(scratch), str(scratch), "--chdir", str(scratch), "--"]
    if uid is not None and not zygote:
        args += [
            SETPRIV, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
            "--bounding-set=-all", "--inh-caps=-all", "--",
        ]  # fmt: skip
    return args


def _runtime_paths() -> list[Path]:
    """The folders the child's Python needs: the interpreter's prefixes and labkit itself
    (an editable install lives in a source tree; only its package folder is shown)."""
    import labkit

    paths = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    paths.add(Path(labkit.__file__).resolve().parent)
    paths.add(Path(sys.executable).resolve().parent)
    # one folder inside another is bound once (the outer one)
    ordered = sorted(paths, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in ordered:
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return sorted(kept)


# -- the parent -------------------------------------------------------------------------------


@dataclass
class _Run:
    """What the parent learned while the child ran."""

    outputs: dict[int, list[dict]] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    current: int | None = None
    finished: bool = False
    output_limit_cell: int | None = None
    protocol_bytes: int = 0
    stderr: bytearray = field(default_factory=bytearray)
    confined: bool = False
    expected: list[int] = field(default_factory=list)  # the code cells, in order
    failed: dict[int, str] = field(default_factory=dict)  # cell -> error name; never erased
    tampered: list[str] = field(default_factory=list)  # messages out of the protocol's order


def execute_submission(
    notebook: Path,
    *,
    student: str,
    lab: str,
    limits: Limits | None = None,
    extra_files: Path | None = None,
    unisolated_ok: bool = False,
) -> ExecutionResult:
    """Run ``notebook`` top to bottom in a fresh, isolated process as ``student`` (see the module
    docstring); never raises for anything the submission does. Without a complete sandbox
    (:func:`check_isolation`) the notebook is not run (status ``error``) unless
    ``unisolated_ok``."""
    limits = limits or Limits()
    started = time.monotonic()

    def result(status: str, reason: str, executed: dict | None = None, records=()) -> Any:
        return ExecutionResult(
            status, reason, executed, list(records), round(time.monotonic() - started, 3)
        )

    notebook = Path(notebook)
    try:
        data = _read_bytes(notebook, max(limits.file_bytes, 1 << 20))
    except FileNotFoundError:
        return result("not-a-notebook", f"the notebook {notebook.name} does not exist")
    except (OSError, ValueError) as error:
        return result("not-a-notebook", f"the notebook could not be read: {error}")
    try:
        parsed = load_notebook(data)
    except NotANotebook as error:
        return result("not-a-notebook", str(error))
    answers = _read_answers(extra_files, limits.file_bytes)

    run_id = uuid.uuid4().hex
    kept = getattr(_kept, "on", False)
    sandbox = _warm_sandbox(limits)
    scratch = sandbox.run_folder() if sandbox else Path(tempfile.mkdtemp(prefix="labkit-execute-"))
    try:
        status, reason, run = _run_in_scratch(
            scratch,
            notebook.name,
            data,
            answers,
            parsed,
            student,
            lab,
            limits,
            run_id,
            unisolated_ok,
            sandbox,
        )
        records = _read_records(scratch / ANSWERS_FOLDER, limits.file_bytes)
    finally:
        _remove_tree(scratch)
        if sandbox is not None and not kept:
            sandbox.close()
    return result(status, reason, _executed_notebook(parsed, run), records)


@contextlib.contextmanager
def keep_warm() -> Iterator[None]:
    """Within this block, runs in this thread share one warm sandbox (a zygote, see
    :mod:`labkit.grading.zygote`) instead of starting one per notebook; it ends with the
    block. Each thread that runs notebooks at the same time has its own (its own uid)."""
    if getattr(_kept, "on", False):
        yield
        return
    _kept.on = True
    try:
        yield
    finally:
        _kept.on = False
        sandbox = getattr(_kept, "sandbox", None)
        _kept.sandbox = None
        if sandbox is not None:
            sandbox.close()


def execute_many(
    items: Iterable[ExecutionItem],
    jobs: int = 1,
    *,
    limits: Limits | None = None,
    on_done: Callable[[int, ExecutionResult], None] | None = None,
    unisolated_ok: bool = False,
) -> list[ExecutionResult]:
    """Run every item with at most ``jobs`` at a time; the results in the items' order.
    ``on_done(index, result)`` is called (from a worker thread) as each one finishes."""
    items = list(items)

    queue = list(range(len(items)))
    results: dict[int, ExecutionResult] = {}
    lock = threading.Lock()

    def worker() -> None:
        with keep_warm():  # one warm sandbox per thread, ended when its share is done
            while True:
                with lock:
                    if not queue:
                        return
                    index = queue.pop(0)
                item = items[index]
                outcome = execute_submission(
                    item.notebook,
                    student=item.student,
                    lab=item.lab,
                    limits=limits,
                    extra_files=item.extra_files,
                    unisolated_ok=unisolated_ok,
                )
                results[index] = outcome
                if on_done is not None:
                    on_done(index, outcome)

    if jobs <= 1 or len(items) <= 1:
        worker()
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for future in [pool.submit(worker) for _ in range(min(jobs, len(items)))]:
                future.result()
    return [results[index] for index in range(len(items))]


_spawn_lock = threading.Lock()


def _run_in_scratch(
    scratch: Path,
    name: str,
    data: bytes,
    answers: Mapping[str, bytes],
    parsed: Mapping[str, Any],
    student: str,
    lab: str,
    limits: Limits,
    run_id: str,
    unisolated_ok: bool = False,
    sandbox: _WarmSandbox | None = None,
) -> tuple[str, str, _Run]:
    name = Path(name).name if name.endswith(".ipynb") else "submission.ipynb"
    (scratch / name).write_bytes(data)
    (scratch / "home").mkdir()
    (scratch / "tmp").mkdir()
    if answers:
        (scratch / ANSWERS_FOLDER).mkdir()
        for file_name, content in answers.items():
            (scratch / ANSWERS_FOLDER / file_name).write_bytes(content)
    found = check_isolation()
    if not found.complete and not unisolated_ok:
        return (
            "error",
            (
                "refused to run the notebook: student code would run with the grader's rights ("
                + ("; ".join(found.problems) or found.how)
                + "); pass --unisolated to allow it"
            ),
            _Run(),
        )
    if sandbox is not None:
        return _run_warm(sandbox, scratch, name, parsed, student, lab, limits, run_id)
    slot = _UidSlot.acquire() if found.sandbox and found.own_uid else None
    try:
        return _run_confined(scratch, name, parsed, student, lab, limits, run_id, found, slot)
    finally:
        if slot is not None:
            slot.release()


def _child_env(
    scratch: Path, name: str, student: str, lab: str, limits: Limits, run_id: str
) -> dict[str, str]:
    """The child's whole environment (nothing of the grader's)."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch / "home"),
        "TMPDIR": str(scratch / "tmp"),
        "IPYTHONDIR": str(scratch / "home" / ".ipython"),
        "MPLBACKEND": "agg",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONSAFEPATH": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LABKIT_GRADING": "1",
        "LABKIT_STUDENT": student,
        "LABKIT_LAB": lab,
        RUN_MARKER: run_id,
        NOTEBOOK_VARIABLE: str(scratch / name),
        OUTPUT_LIMIT_VARIABLE: str(limits.output_bytes),
    }


def _rlimits(limits: Limits, uid: int | None) -> list[tuple[int, tuple[int, int]]]:
    """The child's resource limits (``RLIMIT_NPROC`` counts the processes of its uid)."""
    nproc = None
    if uid is not None or os.geteuid() != 0:
        nproc = count_processes_of(uid if uid is not None else os.getuid()) + limits.processes
    cpu = max(1, int(limits.total_seconds + 1))
    rlimits = [
        (resource.RLIMIT_CPU, (cpu, cpu + 2)),
        (resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes)),
        (resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes)),
        (resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files)),
        (resource.RLIMIT_CORE, (0, 0)),
    ]
    if nproc is not None:
        rlimits.append((resource.RLIMIT_NPROC, (nproc, nproc)))
    return rlimits


def _run_confined(
    scratch: Path,
    name: str,
    parsed: Mapping[str, Any],
    student: str,
    lab: str,
    limits: Limits,
    run_id: str,
    found: Isolation,
    slot: _UidSlot | None,
) -> tuple[str, str, _Run]:
    uid = slot.uid if slot is not None else None
    if uid is not None:
        for path in [scratch, *scratch.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)

    marker = f"{RUN_MARKER}={run_id}"
    env = _child_env(scratch, name, student, lab, limits, run_id)
    cgroup = Cgroup.create(f"labkit-{run_id}", limits.processes)
    procs_file = cgroup.procs_file if cgroup else None
    rlimits = _rlimits(limits, uid)

    def preexec() -> None:  # in the child, before exec: only plain system calls
        if procs_file is not None:
            fd = os.open(procs_file, os.O_WRONLY)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
        for which, value in rlimits:
            resource.setrlimit(which, value)

    control_read, control_write = os.pipe()
    env[CONTROL_FD_VARIABLE] = str(control_write)
    bwrap = shutil.which("bwrap")
    confinement = _sandbox_prefix(bwrap, scratch, uid) if found.sandbox and bwrap else []
    command = [
        *confinement,
        sys.executable,
        "-I",
        "-c",
        "from labkit.grading.execute import child_main; child_main()",
    ]
    run = _Run(
        confined=bool(confinement),
        expected=[
            index
            for index, cell in enumerate(parsed.get("cells", []))
            if cell.get("cell_type") == "code"
        ],
    )
    process = None
    try:
        with _spawn_lock:  # preexec_fn is safest when one thread forks at a time
            process = subprocess.Popen(
                command,
                cwd=scratch,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(control_write,),
                preexec_fn=preexec,
                start_new_session=True,
            )
        os.close(control_write)
        control_write = -1
        status, reason = _watch(process, control_read, run, limits)
    except OSError as error:
        status, reason = "error", f"the notebook could not be started: {error}"
    finally:
        if control_write >= 0:
            os.close(control_write)
        os.close(control_read)
        session = process.pid if process else -1
        survivors = end_everything(cgroup, marker.encode(), session)
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            if process.stderr:
                process.stderr.close()
        if cgroup is not None:
            cgroup.remove()
    return _with_tampering(status, reason, run, survivors)


def _with_tampering(
    status: str, reason: str, run: _Run, survivors: Sequence[int]
) -> tuple[str, str, _Run]:
    """The run's status and reason with what could not be ended and any forged control line."""
    if survivors:
        status = "error"
        reason += f"; {len(survivors)} of its processes could not be ended"
    if run.tampered:
        if status == "ok":
            status = "forged"
        reason += (
            "; the notebook's code wrote on the grader's control channel ("
            + ", ".join(run.tampered)
            + "): those lines were ignored"
        )
    return status, reason, run


def _watch(
    process: subprocess.Popen | _WarmProcess, control: int, run: _Run, limits: Limits
) -> tuple[str, str]:
    """Read the child's messages until it finishes, dies or overruns; the (status, reason)."""
    assert process.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ, "control")
    selector.register(process.stderr, selectors.EVENT_READ, "stderr")
    started = time.monotonic()
    total_deadline = started + limits.total_seconds
    cell_deadline = float("inf")
    pending = b""
    protocol_limit = 8 * limits.output_bytes + (1 << 20)
    open_streams = 2
    try:
        while True:
            now = time.monotonic()
            if now >= total_deadline:
                return "timed-out", _total_timeout_reason(run, limits)
            if now >= cell_deadline:
                return "timed-out", (
                    f"cell {_cell_label(run.current)} ran longer than "
                    f"{limits.cell_seconds:g} s; it was stopped and the cells after it did "
                    "not run"
                )
            if open_streams == 0 or process.poll() is not None:
                _drain(selector, run, pending, protocol_limit)
                return _ended_status(process, run, limits)
            wait = min(total_deadline, cell_deadline) - now
            for key, _ in selector.select(timeout=min(wait, POLL_SECONDS)):
                fd = key.fd
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                if key.data == "stderr":
                    room = STDERR_KEEP - len(run.stderr)
                    if room > 0:
                        run.stderr += chunk[:room]
                    continue
                run.protocol_bytes += len(chunk)
                if run.protocol_bytes > protocol_limit:
                    run.output_limit_cell = run.current
                    return "output-limit", _output_reason(run, limits, stopped=True)
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    _handle_message(line, run)
                    if run.current is not None and run.current not in run.counts:
                        cell_deadline = time.monotonic() + limits.cell_seconds
                    else:
                        cell_deadline = float("inf")
                if run.finished:
                    return _finished_status(run, limits)
    finally:
        selector.close()


def _drain(selector: selectors.BaseSelector, run: _Run, pending: bytes, limit: int) -> None:
    """Read what the child wrote before it ended (without waiting for its descendants)."""
    for key, _ in selector.select(timeout=0):
        with contextlib.suppress(OSError):
            chunk = os.read(key.fd, 1 << 20)
            if key.data == "stderr":
                run.stderr += chunk[: max(0, STDERR_KEEP - len(run.stderr))]
            elif run.protocol_bytes + len(chunk) <= limit:
                *lines, _ = (pending + chunk).split(b"\n")
                for line in lines:
                    _handle_message(line, run)


def _handle_message(line: bytes, run: _Run) -> None:
    """Take one control message, in the only order the runner writes them: start and done for
    each code cell in turn, then finished. Anything else was written by the notebook's own code
    (it shares the runner's process): it is named in ``run.tampered`` and changes nothing; a
    cell's error, once reported, is never erased."""
    try:
        message = json.loads(line)
        event = message["event"]
    except (ValueError, TypeError, KeyError):
        _tampered(run, "a line that is not a grader message")
        return
    position = len(run.counts)
    expected = run.expected[position] if position < len(run.expected) else None
    if event == "start":
        if message.get("cell") == expected and run.current != expected and not run.finished:
            run.current = expected
        else:
            _tampered(run, f"a start of cell {_cell_label(_int(message.get('cell')))} out of turn")
    elif event == "done":
        cell = message.get("cell")
        if cell != run.current or run.current is None or run.current in run.counts:
            _tampered(run, f"an end of cell {_cell_label(_int(cell))} out of turn")
            # an error it reports still counts (it can only add a note against itself)
            if _int(cell) in run.expected and isinstance(message.get("outputs"), list):
                for output in message["outputs"]:
                    if isinstance(output, dict) and output.get("output_type") == "error":
                        run.failed.setdefault(cell, str(output.get("ename", "Error"))[:80])
            return
        outputs = message.get("outputs")
        run.outputs[run.current] = (
            [o for o in outputs if isinstance(o, dict)] if isinstance(outputs, list) else []
        )
        count = message.get("execution_count")
        run.counts[run.current] = count if isinstance(count, int) else 0
        for output in run.outputs[run.current]:
            if output.get("output_type") == "error":
                run.failed.setdefault(run.current, str(output.get("ename", "Error")))
        if message.get("output_limit") and run.output_limit_cell is None:
            run.output_limit_cell = run.current
    elif event == "finished":
        if expected is None and not run.finished:
            run.finished = True
        else:
            _tampered(run, "an end of the notebook before its last cell")
    else:
        _tampered(run, "an unknown message")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _tampered(run: _Run, what: str) -> None:
    if what not in run.tampered and len(run.tampered) < 5:
        run.tampered.append(what)


def _cell_label(index: int | None) -> str:
    return "?" if index is None else str(index + 1)


def _errors(run: _Run) -> list[tuple[int, str]]:
    return sorted(run.failed.items())


def _finished_status(run: _Run, limits: Limits) -> tuple[str, str]:
    errors = _errors(run)
    memory = [index for index, name in errors if name == "MemoryError"]
    if run.output_limit_cell is not None:
        return "output-limit", _output_reason(run, limits, stopped=False)
    if memory:
        return "memory-limit", (
            f"cell {_cell_label(memory[0])} ran out of memory (limit "
            f"{_size(limits.memory_bytes)}); the cells after it still ran"
        )
    ran = len(run.counts)
    if not errors:
        return "ok", f"all {ran} code cells ran"
    listed = ", ".join(f"cell {_cell_label(index)} ({name})" for index, name in errors[:5])
    more = f" and {len(errors) - 5} more" if len(errors) > 5 else ""
    too_large = [
        index
        for index in sorted(run.outputs)
        for output in run.outputs[index]
        if output.get("output_type") == "error" and "File too large" in str(output.get("evalue"))
    ]
    limit = (
        f"; cell {_cell_label(too_large[0])} hit the file-size limit ({_size(limits.file_bytes)})"
        if too_large
        else ""
    )
    return "ok", f"all {ran} code cells ran; errors in {listed}{more}{limit}"


def _output_reason(run: _Run, limits: Limits, *, stopped: bool) -> str:
    where = f"cell {_cell_label(run.output_limit_cell)}"
    tail = "the run was stopped" if stopped else "the notebook's later output was dropped"
    return f"{where} printed more than {_size(limits.output_bytes)} of output; {tail}"


def _total_timeout_reason(run: _Run, limits: Limits) -> str:
    return (
        f"the notebook ran longer than {limits.total_seconds:g} s in all (cell "
        f"{_cell_label(run.current)} was running); it was stopped there"
    )


def _ended_status(
    process: subprocess.Popen | _WarmProcess, run: _Run, limits: Limits
) -> tuple[str, str]:
    """The status when the child ended without saying it had finished."""
    try:
        code = process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        code = None
    if run.finished:
        return _finished_status(run, limits)
    where = (
        "before running any cell"
        if run.current is None
        else f"during cell {_cell_label(run.current)}; the cells after it did not run"
    )
    text = run.stderr.decode("utf-8", "replace")
    if "MemoryError" in text or "Cannot allocate memory" in text or "out of memory" in text:
        return "memory-limit", f"the notebook ran out of memory {where}"
    if code is not None and run.confined and 128 < code < 128 + 65:
        code = 128 - code  # bwrap reports a child killed by signal N as 128 + N
    if code is not None and code < 0:
        number = -code
        if number == signal.SIGXCPU:
            return (
                "timed-out",
                f"the notebook used more than {limits.total_seconds:g} s of CPU {where}",
            )
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else ""
        return "killed", f"the notebook's process was killed by signal {number} ({name}) {where}"
    if run.current is None and text.strip():
        last = text.strip().splitlines()[-1]
        return "error", f"the notebook could not be run: {last}"
    return "killed", f"the notebook's process exited with code {code} {where}"


def _executed_notebook(parsed: Mapping[str, Any], run: _Run) -> dict:
    """The notebook with this run's outputs: cells that did not run have none."""
    executed = copy.deepcopy(dict(parsed))
    for index, cell in enumerate(executed.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        outputs = list(run.outputs.get(index, []))
        if index == run.current and index not in run.counts:
            outputs.append(
                {
                    "output_type": "error",
                    "ename": "Stopped",
                    "evalue": "the grader stopped this cell",
                    "traceback": [],
                }
            )
        cell["outputs"] = outputs
        cell["execution_count"] = run.counts.get(index)
    return executed


def _remove_tree(path: Path) -> None:
    def unlock(function: Any, name: str, _: Any) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(name), 0o700)
            os.chmod(name, 0o700)
            function(name)

    shutil.rmtree(path, onerror=unlock)


# -- the child --------------------------------------------------------------------------------


class OutputLimitExceeded(BaseException):
    """Raised in a cell that prints past the output limit (once; later output is dropped)."""


def child_main() -> None:
    """Run the notebook named by the environment, cell by cell, reporting over the control fd."""
    control = int(os.environ.pop(CONTROL_FD_VARIABLE))
    os.set_inheritable(control, False)
    path = Path(os.environ.pop(NOTEBOOK_VARIABLE))
    limit = int(os.environ.pop(OUTPUT_LIMIT_VARIABLE))
    cells = json.loads(path.read_text("utf-8"))["cells"]
    os.environ.setdefault("JPY_PARENT_PID", str(os.getppid()))

    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    sink = _CellOutputs(limit)

    class CapturingDisplayHook(DisplayHook):
        def write_output_prompt(self) -> None:
            pass

        def write_format_data(self, format_dict: dict, md_dict: dict | None = None) -> None:
            sink.add(
                {
                    "output_type": "execute_result",
                    "execution_count": self.prompt_count,
                    "data": format_dict,
                    "metadata": md_dict or {},
                }
            )

        def finish_displayhook(self) -> None:
            self._is_active = False

    class CapturingDisplayPublisher(DisplayPublisher):
        def publish(
            self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs
        ):
            sink.add({"output_type": "display_data", "data": data, "metadata": metadata or {}})

        def clear_output(self, wait: bool = False) -> None:
            sink.clear()

    class GradingShell(InteractiveShell):
        displayhook_class = CapturingDisplayHook
        display_pub_class = CapturingDisplayPublisher

        def _showtraceback(self, etype, evalue, stb) -> None:
            sink.add(
                {
                    "output_type": "error",
                    "ename": getattr(etype, "__name__", str(etype)),
                    "evalue": str(evalue),
                    "traceback": list(stb),
                },
                force=True,
            )

        def ask_exit(self) -> None:
            pass

    config = Config()
    config.HistoryManager.enabled = False
    config.HistoryManager.hist_file = ":memory:"
    shell = GradingShell.instance(config=config)
    sys.stdout = _CellStream("stdout", sink)
    sys.stderr = _CellStream("stderr", sink)

    runner = os.getpid()

    def send(message: dict) -> None:
        if os.getpid() != runner:  # a fork of the notebook's process that left its cell
            os._exit(0)
        data = (json.dumps(message, ensure_ascii=False, default=repr) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(control, view) :]

    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        send({"event": "start", "cell": index})
        sink.begin()
        try:
            shell.run_cell(_cell_source(cell), store_history=True)
        except BaseException as error:
            with contextlib.suppress(BaseException):
                sink.add(
                    {
                        "output_type": "error",
                        "ename": type(error).__name__,
                        "evalue": str(error),
                        "traceback": [],
                    },
                    force=True,
                )
        send(
            {
                "event": "done",
                "cell": index,
                "outputs": sink.finished(),
                "execution_count": shell.execution_count - 1,
                "output_limit": sink.over,
            }
        )
    send({"event": "finished"})
    os._exit(0)


class _CellOutputs:
    """The outputs of the running cell, with the run's output budget."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.over = False
        self.raised = False
        self.outputs: list[dict] = []
        self._parts: dict[int, list[str]] = {}  # a stream output's text, in pieces

    def begin(self) -> None:
        self.outputs = []
        self._parts = {}

    def clear(self) -> None:
        self.outputs.clear()
        self._parts.clear()

    def _charge(self, size: int, force: bool) -> bool:
        if self.over and not force:
            return False
        self.used += size
        if self.used <= self.limit or force:
            return True
        self.over = True
        self.outputs.append(
            {
                "output_type": "stream",
                "name": "stderr",
                "text": f"\n[labkit: output past {self.limit} bytes was dropped]\n",
            }
        )
        if not self.raised:
            self.raised = True
            raise OutputLimitExceeded(f"more than {self.limit} bytes of output")
        return False

    def add(self, output: dict, force: bool = False) -> None:
        size = len(json.dumps(output, ensure_ascii=False, default=repr).encode())
        if force:
            size = min(size, 4096)
        if self._charge(size, force):
            self.outputs.append(output)

    def write(self, name: str, text: str) -> None:
        if not self._charge(len(text.encode("utf-8", "replace")), False):
            return
        last = self.outputs[-1] if self.outputs else None
        if last and last.get("output_type") == "stream" and last.get("name") == name:
            self._parts.setdefault(id(last), [last["text"]]).append(text)
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def finished(self) -> list[dict]:
        """The cell's outputs, each stream's pieces joined (once: joining as they come would
        copy a long output over and over)."""
        for output in self.outputs:
            parts = self._parts.pop(id(output), None)
            if parts is not None:
                output["text"] = "".join(parts)
        self._parts.clear()
        return self.outputs


class _CellStream:
    """``sys.stdout`` / ``sys.stderr`` in the child: text goes into the running cell's outputs."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, name: str, sink: _CellOutputs) -> None:
        self.name = name
        self.sink = sink

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.sink.write(self.name, text)
        return len(text)

    def writelines(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError("the notebook's output is not a file")

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


# -- warm sandboxes: one zygote per slot (see labkit.grading.zygote) ---------------------------

WARM_START_SECONDS = 60
_kept = threading.local()  # per thread: .on (inside keep_warm) and .sandbox
_warm_broken: list[str] = []  # why a warm sandbox could not start here (then runs start cold)


class _WarmSandbox:
    """A zygote in its bubblewrap sandbox with its slot's uid, folder and pids cgroup."""

    def __init__(self, slot: _UidSlot, folder: Path, cgroup: Cgroup | None) -> None:
        self.slot, self.folder, self.cgroup = slot, folder, cgroup
        self.zygote: Zygote | None = None

    @property
    def uid(self) -> int:
        return self.slot.uid

    @classmethod
    def start(cls, limits: Limits) -> _WarmSandbox:
        """A started sandbox; OSError (with the zygote's words) when it cannot start."""
        slot = _UidSlot.acquire()
        folder = Path(tempfile.mkdtemp(prefix="labkit-slot-"))
        os.chmod(folder, 0o755)  # the run's folder inside is the slot uid's; this one root's
        sandbox = cls(slot, folder, Cgroup.create(f"labkit-slot-{uuid.uuid4().hex}", 64))
        try:
            sandbox._start_zygote(limits)
        except BaseException:
            sandbox.close()
            raise
        return sandbox

    def _start_zygote(self, limits: Limits) -> None:
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise OSError("bubblewrap (bwrap) is not installed")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        procs_file = self.cgroup.procs_file if self.cgroup else None
        self.limit_processes(limits)

        def preexec() -> None:  # in the child, before exec: only plain system calls
            if procs_file is not None:
                fd = os.open(procs_file, os.O_WRONLY)
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)

        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "HOME": str(self.folder),
            "PYTHONDONTWRITEBYTECODE": "1",
            ZYGOTE_FD_VARIABLE: str(theirs.fileno()),
        }
        command = [
            *_sandbox_prefix(bwrap, self.folder, self.uid, zygote=True),
            sys.executable,
            "-I",
            "-c",
            "from labkit.grading.execute import zygote_main; zygote_main()",
        ]
        with tempfile.TemporaryFile() as errors:
            try:
                with _spawn_lock:
                    process = subprocess.Popen(
                        command,
                        cwd=self.folder,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=errors,
                        pass_fds=(theirs.fileno(),),
                        preexec_fn=preexec,
                        start_new_session=True,
                    )
            finally:
                theirs.close()
            self.zygote = Zygote(process, ours)
            problem = self.zygote.wait_ready(WARM_START_SECONDS)
            if problem:
                errors.seek(0)
                lines = errors.read()[-2000:].decode("utf-8", "replace").strip().splitlines()
                raise OSError(problem + (f": {lines[-1]}" if lines else ""))

    def limit_processes(self, limits: Limits) -> None:
        """The sandbox's pids cgroup: the zygote's few processes and one run's."""
        if self.cgroup is not None:
            with contextlib.suppress(OSError):
                (self.cgroup.path / "pids.max").write_text(str(limits.processes + 8))

    def alive(self) -> bool:
        return self.zygote is not None and self.zygote.alive()

    def run_folder(self) -> Path:
        """The run's folder: the only thing in the slot's folder while a notebook runs."""
        for leftover in self.folder.iterdir():
            if leftover.is_dir() and not leftover.is_symlink():
                _remove_tree(leftover)
            else:
                leftover.unlink()
        return Path(tempfile.mkdtemp(prefix="labkit-execute-", dir=self.folder))

    def kill(self) -> None:
        """End the zygote and everything in its sandbox; a new one starts on the next run."""
        if self.zygote is not None:
            self.zygote.kill()
            self.zygote = None
        end_processes_of(self.uid)

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.close()
            self.zygote = None
        end_processes_of(self.uid)
        _remove_tree(self.folder)
        if self.cgroup is not None:
            end_everything(self.cgroup, b"\0", -1)
            self.cgroup.remove()
        self.slot.release()


def _warm_sandbox(limits: Limits) -> _WarmSandbox | None:
    """The warm sandbox for this run (this thread's kept one, or a new one), or None where
    runs start cold: not root, no complete sandbox, or a zygote could not start here."""
    found = check_isolation()
    if not (found.complete and found.sandbox and found.own_uid) or _warm_broken:
        return None
    if found.warm is None:  # checked once per process from inside a probe notebook
        found = check_isolation(warm=True)
    if not found.warm:
        return None
    if os.environ.get(COLD_VARIABLE):
        return None
    sandbox = getattr(_kept, "sandbox", None) if getattr(_kept, "on", False) else None
    if sandbox is not None and not sandbox.alive():
        sandbox.close()
        sandbox = _kept.sandbox = None
    if sandbox is None:
        try:
            sandbox = _WarmSandbox.start(limits)
        except OSError as error:
            _warm_broken.append(str(error))
            return None
        if getattr(_kept, "on", False):
            _kept.sandbox = sandbox
    sandbox.limit_processes(limits)
    return sandbox


class _WarmProcess:
    """The run in a warm sandbox as :func:`_watch` sees a process: poll, wait, stderr."""

    def __init__(self, zygote: Zygote, stderr: Any) -> None:
        self.zygote, self.stderr = zygote, stderr

    def poll(self) -> int | None:
        return self.zygote.poll()

    def wait(self, timeout: float | None = None) -> int:
        deadline = time.monotonic() + (timeout if timeout is not None else 1e9)
        while (code := self.zygote.poll()) is None:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired("warm run", timeout or 0)
            time.sleep(0.005)
        return code


def _run_warm(
    sandbox: _WarmSandbox,
    scratch: Path,
    name: str,
    parsed: Mapping[str, Any],
    student: str,
    lab: str,
    limits: Limits,
    run_id: str,
) -> tuple[str, str, _Run]:
    """Run the notebook as a child forked by the slot's zygote (its own namespaces and uid)."""
    uid = sandbox.uid
    for path in [scratch, *scratch.rglob("*")]:
        os.chown(path, uid, uid, follow_symlinks=False)
    assert sandbox.zygote is not None
    zygote = sandbox.zygote
    command = {
        "folder": str(scratch),
        "uid": uid,
        "env": _child_env(scratch, name, student, lab, limits, run_id),
        "rlimits": [[which, *value] for which, value in _rlimits(limits, uid)],
        "tmp_bytes": max(64 << 20, 4 * limits.file_bytes),
        "control_variable": CONTROL_FD_VARIABLE,
    }
    run = _Run(
        confined=True,
        expected=[
            index
            for index, cell in enumerate(parsed.get("cells", []))
            if cell.get("cell_type") == "code"
        ],
    )
    control_read, control_write = os.pipe()
    errors_read, errors_write = os.pipe()
    stderr = os.fdopen(errors_read, "rb", buffering=0)
    try:
        try:
            zygote.start(command, [control_write, errors_write])
        finally:
            os.close(control_write)
            os.close(errors_write)
        process = _WarmProcess(zygote, stderr)
        status, reason = _watch(process, control_read, run, limits)
        try:  # a run that said it finished ends by itself; one that was stopped does not
            process.wait(timeout=5 if run.finished else 0)
        except subprocess.TimeoutExpired:
            sandbox.kill()  # stopped (time, output) or stuck: the whole sandbox ends
    except OSError as error:
        sandbox.kill()
        status, reason = "error", f"the notebook could not be started: {error}"
    finally:
        os.close(control_read)
        stderr.close()
    survivors = end_processes_of(uid)
    if survivors:
        sandbox.kill()
    return _with_tampering(status, reason, run, survivors)


def _preload() -> None:
    """What every notebook imports, imported once in the zygote (no student's data)."""
    import ipywidgets  # noqa: F401
    from IPython.core import displayhook, displaypub, interactiveshell  # noqa: F401
    from traitlets.config import Config  # noqa: F401

    import labkit
    import labkit.labs
    import labkit.magic
    import labkit.session
    import labkit.widgets
    from labkit.world import World

    labkit.labs.find_labs()
    World.default()  # the catalog's images are built once and shared
    del labkit


def zygote_main() -> None:
    """The warm sandbox's zygote (inside bubblewrap): see :mod:`labkit.grading.zygote`."""
    serve(child_main, _preload)
