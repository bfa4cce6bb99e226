"""labkit.grading.processes: the cgroups an earlier grader left behind (Linux, a grader that may
make cgroups: root, as CI runs)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

from labkit.grading.processes import cgroup_bases, sweep_stale_cgroups

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def test_cgroups_an_earlier_grader_left_behind_are_removed_when_empty_and_old(tmp_path):
    """A grader killed mid-run leaves its run's cgroup (and its sandboxes'): the next one removes
    those that are empty and old enough to be nobody's, and no other cgroup."""
    bases = cgroup_bases()
    if not bases:
        pytest.skip("this process may make no cgroup (the grader then tracks processes by marker)")
    base, now = bases[0], time.time()
    made = {
        "old run": (f"labkit-{uuid.uuid4().hex}", now - 3600),
        "new run": (f"labkit-{uuid.uuid4().hex}", now - 60),
        "old busy run": (f"labkit-{uuid.uuid4().hex}", now - 3600),
        "slot of an hour": (f"labkit-slot-{uuid.uuid4().hex}", now - 3600),
        "slot of two days": (f"labkit-slot-{uuid.uuid4().hex}", now - 2 * 86_400),
        "not labkit's": (f"labkit-other-{uuid.uuid4().hex[:8]}", now - 2 * 86_400),
    }
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        for name, stamp in made.values():
            (base / name).mkdir()
            os.utime(base / name, (stamp, stamp))
        (base / made["old busy run"][0] / "cgroup.procs").write_text(str(sleeper.pid))
        removed = sweep_stale_cgroups(base, now=now)
        # (and any left behind by an earlier grader on this machine)
        assert {made["old run"][0], made["slot of two days"][0]} <= set(removed)
        left = {what for what, (name, _) in made.items() if (base / name).exists()}
        assert left == {"new run", "old busy run", "slot of an hour", "not labkit's"}
    finally:
        sleeper.kill()
        sleeper.wait()
        for name, _ in made.values():
            for _ in range(50):
                try:
                    (base / name).rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
