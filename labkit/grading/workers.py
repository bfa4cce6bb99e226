"""Long-lived bounded workers: forked processes that each do many items of one run (POSIX only).

:func:`run_in_workers` forks up to ``jobs`` workers from the calling process (they inherit what
it loaded: labs, checks, the list of submissions) and hands each the indices of items to do over
a pipe, a few at a time. A worker does its items in the order given and sends back each result
(pickled, length-prefixed) as soon as it has it, so the parent always knows which item a worker
is on: the first one it was given and has not answered.

The bounds of one item hold although the worker lives on:

- the caller's ``work`` bounds its own time (a timer) and memory (the worker's ``RLIMIT_AS``,
  set by ``init``), and turns an overrun into a result with its status;
- a worker whose result says it was stopped (``retire``) exits after sending it and is
  replaced, so what an overrun or a ``MemoryError`` left behind never reaches the next item;
- a worker that dies (killed, out of memory, ``os._exit`` in a check) gives the item it was on
  ``died(index, why)``; the items it had been given but not begun go to another worker;
- a worker that does not answer within ``hard_seconds`` of starting an item (stuck where its
  own timer cannot interrupt it, e.g. in C code) is killed with SIGKILL and that item gets
  ``died(index, "timed-out")``.

Per item the cost is a few bytes on a pipe and one pickled result, not a process.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import selectors
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["run_in_workers"]

AHEAD = 4  # items handed to a worker before it answers the first (keeps it busy)
_RETIRING = b"\0" * 8  # a zero-length frame: "I stop here, the rest was not begun"


@dataclass
class _Worker:
    pid: int
    commands: int  # the parent's end: indices go out here
    results: int  # the parent's end: results come in here
    given: deque[int] = field(default_factory=deque)
    since: float = 0.0  # when the worker began its current item
    buffer: bytearray = field(default_factory=bytearray)
    retiring: bool = False


def run_in_workers(
    count: int,
    jobs: int,
    work: Callable[[int], Any],
    *,
    died: Callable[[int, str], Any],
    on_result: Callable[[int, Any], None],
    init: Callable[[], None] | None = None,
    finish: Callable[[], None] | None = None,
    retire: Callable[[Any], bool] = lambda result: False,
    hard_seconds: float | None = None,
) -> None:
    """Do items ``0 .. count-1`` with ``work(index)`` in at most ``jobs`` forked workers and
    call ``on_result(index, result)`` in this process as each one is done (in any order).

    ``init`` and ``finish`` run in each worker at its start and end; ``died(index, why)`` makes
    the result of an item whose worker died (``why``: "killed" or "timed-out")."""
    pending: deque[int] = deque(range(count))
    workers: dict[int, _Worker] = {}  # by the results fd
    selector = selectors.DefaultSelector()
    finished = False
    try:
        while pending or any(w.given for w in workers.values()):
            while pending and len(workers) < max(1, jobs):
                worker = _spawn(work, init, finish, retire, workers)
                workers[worker.results] = worker
                selector.register(worker.results, selectors.EVENT_READ, worker)
            now = time.monotonic()
            for worker in workers.values():
                while pending and len(worker.given) < AHEAD and not worker.retiring:
                    index = pending.popleft()
                    if not worker.given:
                        worker.since = now
                    worker.given.append(index)
                    try:
                        _write_all(worker.commands, index.to_bytes(8, "little"))
                    except BrokenPipeError:  # it died: its end-of-file is read below
                        break
            timeout = None
            if hard_seconds is not None:
                starts = [w.since for w in workers.values() if w.given]
                if starts:
                    timeout = max(0.0, min(starts) + hard_seconds - now)
            for key, _ in selector.select(timeout):
                worker = key.data
                if not _take(worker, on_result):
                    _end(worker, workers, selector, pending, died, "killed", on_result)
            if hard_seconds is not None:
                now = time.monotonic()
                for worker in list(workers.values()):
                    if worker.given and now - worker.since > hard_seconds:
                        with contextlib.suppress(OSError):
                            os.kill(worker.pid, signal.SIGKILL)
                        _end(worker, workers, selector, pending, died, "timed-out", on_result)
        finished = True
    finally:
        for worker in list(workers.values()):
            # normal end: the worker reads end-of-file, runs ``finish`` and exits
            os.close(worker.commands)
            if not finished:  # this process is leaving on an exception: no worker outlives it
                with contextlib.suppress(OSError):
                    os.kill(worker.pid, signal.SIGKILL)
        for worker in list(workers.values()):
            _reap(worker.pid, wait=True)
            os.close(worker.results)
        selector.close()


def _spawn(
    work: Callable[[int], Any],
    init: Callable[[], None] | None,
    finish: Callable[[], None] | None,
    retire: Callable[[Any], bool],
    workers: dict[int, _Worker],
) -> _Worker:
    commands_read, commands_write = os.pipe()
    results_read, results_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns into the caller's code
        code = 70
        try:
            os.close(commands_write)
            os.close(results_read)
            for other in workers.values():  # else a dead peer's end-of-file never shows
                os.close(other.commands)
                os.close(other.results)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _serve(commands_read, results_write, work, init, finish, retire)
            code = 0
        finally:
            os._exit(code)
    os.close(commands_read)
    os.close(results_write)
    os.set_blocking(results_read, False)
    return _Worker(pid, commands_write, results_read)


def _serve(
    commands: int,
    results: int,
    work: Callable[[int], Any],
    init: Callable[[], None] | None,
    finish: Callable[[], None] | None,
    retire: Callable[[Any], bool],
) -> None:
    if init is not None:
        init()
    try:
        while True:
            data = _read_exact(commands, 8)
            if len(data) < 8:
                return  # the parent has no more items
            index = int.from_bytes(data, "little")
            result = work(index)
            payload = pickle.dumps((index, result), protocol=pickle.HIGHEST_PROTOCOL)
            _write_all(results, len(payload).to_bytes(8, "little") + payload)
            if retire(result):
                _write_all(results, _RETIRING)
                return
    finally:
        if finish is not None:
            finish()


def _take(worker: _Worker, on_result: Callable[[int, Any], None]) -> bool:
    """Read what the worker sent; False when it has ended (its pipe closed)."""
    try:
        chunk = os.read(worker.results, 1 << 20)
    except BlockingIOError:
        return True
    if not chunk:
        return False
    worker.buffer += chunk
    while len(worker.buffer) >= 8:
        size = int.from_bytes(worker.buffer[:8], "little")
        if size == 0:
            worker.retiring = True
            del worker.buffer[:8]
            continue
        if len(worker.buffer) < 8 + size:
            break
        index, result = pickle.loads(bytes(worker.buffer[8 : 8 + size]))
        del worker.buffer[: 8 + size]
        if worker.given and worker.given[0] == index:
            worker.given.popleft()
            worker.since = time.monotonic()
            on_result(index, result)
    return True


def _end(
    worker: _Worker,
    workers: dict[int, _Worker],
    selector: selectors.BaseSelector,
    pending: deque[int],
    died: Callable[[int, str], Any],
    why: str,
    on_result: Callable[[int, Any], None],
) -> None:
    """A worker ended (or was killed): the item it was on gets ``died`` unless the worker
    retired after answering it; the items it had not begun go back to the queue."""
    selector.unregister(worker.results)
    del workers[worker.results]
    os.close(worker.commands)
    os.close(worker.results)
    _reap(worker.pid, wait=True)
    given = list(worker.given)
    if given and not worker.retiring:
        index = given.pop(0)
        on_result(index, died(index, why))
    pending.extendleft(reversed(given))


def _reap(pid: int, *, wait: bool) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0 if wait else os.WNOHANG)


def _read_exact(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
