"""How long a 100-command docker script takes, world creation included (goal: well under 1 s).

Run: .venv/bin/python bench/client_bench.py [--runs N]
Prints the median and the spread over N runs, then the process's memory afterwards
(peak RSS from resource.getrusage, and tracemalloc's peak for one traced run).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc

from labkit.client import run_script
from labkit.world import Clock, World

PASSWORD = "s3cret-pass"

BLOCK = """\
docker pull alpine
docker pull alpine:3.21
docker pull nginx:1.27-alpine
docker pull busybox:1.36
docker images
docker tag alpine:3.21 {user}/alpine:1.0
docker push {user}/alpine:1.0
docker login -u {user} --password-stdin <<< {password}
docker push {user}/alpine:1.0
docker push {user}/alpine:1.0
docker tag nginx:1.27-alpine {user}/web:1.0
docker tag nginx:1.27-alpine {user}/web:latest
docker push -a {user}/web
docker images --digests
docker rmi {user}/web:latest
docker image inspect {user}/alpine:1.0
docker history nginx:1.27-alpine
docker search alpine
docker tag alpine:3.21 localhost:5000/{user}/alpine:1.0
docker push localhost:5000/{user}/alpine:1.0
docker pull python:3.13-alpine
docker rmi -f busybox:1.36
docker pull nosuch/thing
docker logout
docker images -q
"""


def script(blocks: int = 4) -> str:
    """100 docker command lines: 4 users each doing a 25-command session."""
    users = [f"student{i}x" for i in range(blocks)]
    return "".join(BLOCK.format(user=user, password=PASSWORD) for user in users)


SCRIPT = script()
USERS = [f"student{i}x" for i in range(4)]


def one_run() -> str:
    """A fresh world, its users, and the whole script on one client."""
    world = World.default(clock=Clock.fixed())
    for user in USERS:
        world.add_user(user, PASSWORD)
    return run_script(world.client(), SCRIPT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    commands = sum(1 for line in SCRIPT.splitlines() if line.strip())
    transcript = one_run()  # warm-up (imports, catalog parsing caches)
    shown = transcript.count("\n$ ") + 1  # sanity: every command ran and was shown
    assert shown == commands, (shown, commands)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        one_run()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(
        f"{commands} commands, world creation included: median {median * 1000:.1f} ms "
        f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}) over {args.runs} runs"
    )
    tracemalloc.start()
    one_run()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there, kilobytes on Linux
        max_rss_kb //= 1024
    print(
        f"process peak RSS {max_rss_kb / 1024:.1f} MB; tracemalloc peak for one run "
        f"{traced_peak / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
