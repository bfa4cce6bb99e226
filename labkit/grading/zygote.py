"""A warm sandbox for ``labkit grade --execute`` (Linux, root grader): one pre-imported Python
per concurrent slot that starts each notebook as a forked child in namespaces of its own.

Why: starting Python, importing IPython and labkit and making the lab's world take most of a
notebook's run; a zygote does it once per slot and forks for each notebook.

What confines a notebook (nothing weaker than a bubblewrap sandbox per notebook):

- the zygote is started by :mod:`labkit.grading.execute` inside bubblewrap as that sandbox's
  command (own PID, mount, IPC, UTS and network namespaces, ``--die-with-parent``,
  ``--new-session``, only /usr, the runtime and labkit read-only, a fresh /dev and /tmp, and the
  slot's folder). It is a fresh ``python -I``, never a fork of the grader: it holds no checks,
  keys or other submissions. It keeps only the capabilities needed to make namespaces, mount and
  drop to the slot's uid (CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID, CAP_SETPCAP);
- for each notebook the zygote forks a *starter* that takes one command (the run's folder,
  environment, limits; the control and stderr pipes come as file descriptors) and unshares new
  mount, PID, IPC, UTS and network namespaces: /tmp and /dev/shm become empty tmpfs of its own,
  and its first child (PID 1 of the new PID namespace, the run's *init*) mounts a /proc that
  shows only the run's processes;
- the init forks the *runner*, which sets the run's resource limits, drops every capability
  (bounding, inheritable, permitted, effective), takes the slot's uid and gid with no groups,
  sets no_new_privs, makes a session of its own and runs the notebook (the caller's ``run``).
  It sees the runtime read-only and the run's folder (the only thing in the slot's folder while
  it runs) writable; not the zygote, the grader, peers (other slots are other sandboxes with
  other uids), the submissions or the checks. It cannot signal the zygote or the init (not in
  its PID namespace; another uid);
- when the runner ends the init exits with its status (128 + N for a signal N, as bubblewrap
  reports), and the kernel ends every process left in the run's PID namespace before the
  starter sees the init end; the zygote then tells the grader the run ended. The grader removes
  the run's folder, checks no process of the slot's uid is left, and when it must stop a run
  (time, output) it ends the whole sandbox with SIGKILL and starts a fresh one.

The zygote never reads a notebook or a student's data: the starter (a child) takes the command.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import socket
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["CAPABILITIES", "ZYGOTE_FD_VARIABLE", "Zygote", "serve"]

ZYGOTE_FD_VARIABLE = "LABKIT_ZYGOTE_FD"
CAPABILITIES = "CAP_SYS_ADMIN,CAP_SETUID,CAP_SETGID,CAP_SETPCAP"

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 12, 1 << 14, 1 << 18
MS_RDONLY, MS_REMOUNT = 1, 32
PR_CAPBSET_DROP, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 24, 4, 38
CAPABILITY_VERSION_3 = 0x20080522
MESSAGE_BYTES = 1 << 20


# -- the grader's side ----------------------------------------------------------------------


class Zygote:
    """The grader's handle on one zygote (started by the caller as a subprocess with one end of
    ``socket.socketpair(AF_UNIX, SOCK_SEQPACKET)`` passed as ``ZYGOTE_FD_VARIABLE``)."""

    def __init__(self, process: Any, channel: socket.socket) -> None:
        self.process = process
        self.channel = channel
        self.ended: int | None = None  # the wait status of the current run's starter

    def wait_ready(self, seconds: float) -> str:
        """'' once the zygote has imported what notebooks use; else why it did not."""
        self.channel.settimeout(seconds)
        try:
            message = self.channel.recv(MESSAGE_BYTES)
        except OSError as error:
            return f"the warm sandbox did not start ({error})"
        finally:
            self.channel.settimeout(None)
        if message != b"ready":
            return "the warm sandbox did not start"
        return ""

    def start(self, command: Mapping[str, Any], fds: list[int]) -> None:
        """Hand one run to the waiting starter."""
        self.ended = None
        data = json.dumps(command).encode()
        socket.send_fds(self.channel, [data], fds)

    def poll(self) -> int | None:
        """The run's exit code once the zygote said it ended (128 + N for signal N)."""
        if self.ended is None:
            self.channel.setblocking(False)
            try:
                message = self.channel.recv(64)
            except BlockingIOError:
                return None
            except OSError:
                message = b""
            finally:
                self.channel.setblocking(True)
            if message.startswith(b"ended "):
                self.ended = int(message.split()[1])
            else:  # the zygote is gone
                self.ended = 0x7F00  # "exited 127"
        return os.waitstatus_to_exitcode(self.ended)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """End the sandbox and every process in it (its PID namespaces end with it)."""
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.wait(timeout=10)
        self.channel.close()

    def close(self) -> None:
        """Let the zygote leave (end of file on its channel), or end it."""
        self.channel.close()
        try:
            self.process.wait(timeout=5)
        except Exception:
            self.kill()


# -- inside the sandbox -----------------------------------------------------------------------


def serve(run: Callable[[], None], preload: Callable[[], None]) -> None:
    """The zygote: ``preload`` once, then one starter per run until the grader closes the
    channel. ``run`` is called in each run's runner, confined, with its environment set."""
    channel = socket.socket(fileno=int(os.environ.pop(ZYGOTE_FD_VARIABLE)))
    os.set_inheritable(channel.fileno(), False)
    preload()
    channel.send(b"ready")
    while True:
        got_read, got_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                os.close(got_read)
                _starter(channel, got_write, run)
            finally:
                os._exit(code)
        os.close(got_write)
        _, status = os.waitpid(pid, 0)
        got = os.read(got_read, 1)
        os.close(got_read)
        if not got:  # the starter took no command: the grader closed the channel
            os._exit(0)
        with contextlib.suppress(OSError):
            channel.send(f"ended {status}".encode())


def _starter(channel: socket.socket, got: int, run: Callable[[], None]) -> None:
    """Take one command, make the run's namespaces, start its init; exit as the run did."""
    try:
        data, fds, _, _ = socket.recv_fds(channel, MESSAGE_BYTES, 4)
    except OSError:
        os._exit(0)
    if not data:
        os._exit(0)
    os.write(got, b"1")
    os.close(got)
    channel.close()  # nothing of the run may talk to the zygote's channel
    command = json.loads(data)
    control, errors = fds[0], fds[1]
    libc = ctypes.CDLL(None, use_errno=True)
    _check(
        libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET),
        "unshare",
    )
    _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    folder = command["folder"]
    held = os.open(folder, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW)
    runtime = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in runtime_under_tmp()}
    for path in ("/tmp", "/dev/shm"):
        if os.path.isdir(path):
            options = b"mode=1777,size=" + str(command["tmp_bytes"]).encode()
            _check(
                libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options),
                f"mount tmpfs {path}",
            )
    # the runtime (a venv or checkout under /tmp, as on a CI machine) shows again where it was,
    # read-only, on top of the fresh /tmp: a module imported late must still be found
    for path, fd in runtime.items():
        os.makedirs(path, mode=0o755, exist_ok=True)
        target = path.encode()
        _check(
            libc.mount(f"/proc/self/fd/{fd}".encode(), target, None, MS_BIND | MS_REC, None),
            f"bind the runtime's {path}",
        )
        _check(
            libc.mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY, None),
            f"make the runtime's {path} read-only",
        )
        os.close(fd)
    # the run's folder (under the slot's folder, which may be under /tmp) is all that shows of
    # it: bound again where it was, on top of the fresh /tmp (folders on the way are root's)
    os.makedirs(folder, mode=0o755, exist_ok=True)
    source = f"/proc/self/fd/{held}".encode()
    _check(libc.mount(source, folder.encode(), None, MS_BIND, None), "bind the run's folder")
    os.close(held)
    init = os.fork()
    if init == 0:
        code = 70
        try:
            code = _init(libc, command, control, errors, run)
        except BaseException:
            with contextlib.suppress(BaseException):
                traceback.print_exc()
                sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(control)
    os.close(errors)
    _, status = os.waitpid(init, 0)
    os._exit(_as_code(status))


def _init(libc: Any, command: Mapping[str, Any], control: int, errors: int, run: Any) -> int:
    """PID 1 of the run: a /proc of its own, the runner, then its exit status."""
    _check(
        libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None),
        "mount /proc",
    )
    runner = os.fork()
    if runner == 0:
        code = 70
        try:
            _runner(libc, command, control, errors, run)
            code = 0
        except BaseException:
            with contextlib.suppress(BaseException):
                traceback.print_exc()  # the run's stderr once set up, else the zygote's
                sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(control)
    os.close(errors)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    while True:  # reap every orphan until the runner ends
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 0
        if pid == runner:
            return _as_code(status)


def _runner(libc: Any, command: Mapping[str, Any], control: int, errors: int, run: Any) -> None:
    """Limits, no privileges, the slot's uid, then the notebook."""
    folder = command["folder"]
    uid = int(command["uid"])
    null = os.open("/dev/null", os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(errors, 2)
    if control != 3:
        os.dup2(control, 3)
    os.closerange(4, 1 << 16)  # the received pipes' first numbers, /dev/null, anything else
    os.chdir(folder)
    os.setsid()
    for which, soft, hard in command["rlimits"]:
        resource.setrlimit(which, (soft, hard))
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for capability in range(last + 1):
        _check(libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), "drop the bounding set")
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _drop_capabilities(libc)
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    os.environ.clear()
    os.environ.update(command["env"])
    os.environ[command["control_variable"]] = "3"
    run()


def _drop_capabilities(libc: Any) -> None:
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable (two words each): none
    _check(libc.capset(header, data), "capset")
    status = Path("/proc/self/status").read_text()
    for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        value = status.split(f"{field}:")[1].split()[0]
        if int(value, 16):
            raise OSError(f"capabilities left after dropping them: {field} {value}")


def _as_code(status: int) -> int:
    """A child's wait status as an exit code (128 + N when signal N ended it)."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70


def _check(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        print(f"labkit sandbox: {what}: {os.strerror(number)}", file=sys.stderr)
        raise OSError(number, f"{what}: {os.strerror(number)}")


def runtime_under_tmp() -> list[str]:
    """The folders of the runtime (the interpreter's prefix, every folder on ``sys.path``,
    labkit's own) that lie under /tmp or /dev/shm, which each run gets fresh: the outermost
    ones only, each once."""
    labkit_home = str(Path(__file__).resolve().parents[2])  # the folder holding labkit/
    candidates = {sys.prefix, sys.exec_prefix, labkit_home}
    candidates.update(entry for entry in sys.path if entry)
    found: list[str] = []
    for entry in sorted({os.path.realpath(c) for c in candidates}, key=len):
        if not os.path.isdir(entry) or not entry.startswith(("/tmp/", "/dev/shm/")):
            continue
        if not any(entry == f or entry.startswith(f + "/") for f in found):
            found.append(entry)
    return found
