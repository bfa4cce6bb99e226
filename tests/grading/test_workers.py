"""Long-lived bounded workers (:mod:`labkit.grading.workers`): many items per worker, the item a
dying or stuck worker was on is named, the others are done elsewhere (POSIX only)."""

from __future__ import annotations

import os
import sys
import time

import pytest

from labkit.grading.workers import run_in_workers

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork")


def run(count, jobs, work, **options):
    results = {}
    run_in_workers(
        count,
        jobs,
        work,
        died=lambda index, why: ("died", why),
        on_result=results.__setitem__,
        **options,
    )
    return results


def test_every_item_is_done_once_by_a_few_long_lived_workers():
    results = run(40, 2, lambda index: (index * index, os.getpid()))
    assert sorted(results) == list(range(40))
    assert all(results[i][0] == i * i for i in results)
    pids = {pid for _, pid in results.values()}
    assert len(pids) <= 2 and os.getpid() not in pids


def test_a_worker_that_dies_names_its_item_and_the_rest_are_done():
    def work(index):
        if index in (3, 7):
            os._exit(9)
        return index

    results = run(12, 2, work)
    assert results[3] == results[7] == ("died", "killed")
    assert all(results[i] == i for i in range(12) if i not in (3, 7))


def test_a_stuck_worker_is_killed_at_the_hard_bound_and_the_others_go_on():
    def work(index):
        if index == 1:
            time.sleep(60)  # where no timer of the worker's own stops it
        return index

    started = time.monotonic()
    results = run(6, 1, work, hard_seconds=1.0)
    assert time.monotonic() - started < 30
    assert results[1] == ("died", "timed-out")
    assert [results[i] for i in (0, 2, 3, 4, 5)] == [0, 2, 3, 4, 5]


def test_a_worker_that_retires_is_replaced_before_its_next_item():
    results = run(8, 1, lambda index: (index, os.getpid()), retire=lambda r: r[0] == 2)
    assert sorted(results) == list(range(8))
    before = {results[i][1] for i in (0, 1, 2)}
    after = {results[i][1] for i in range(3, 8)}
    assert len(before) == 1 and len(after) == 1 and before != after


def test_init_and_finish_run_in_each_worker(tmp_path):
    def init():
        (tmp_path / f"init-{os.getpid()}").touch()

    def finish():
        (tmp_path / f"finish-{os.getpid()}").touch()

    results = run(10, 2, lambda index: os.getpid(), init=init, finish=finish)
    pids = set(results.values())
    assert {p.name for p in tmp_path.iterdir()} == {
        f"{what}-{pid}" for pid in pids for what in ("init", "finish")
    }
