"""Parses per second for labkit.reference and docker-image-py, and `import labkit` time.

Run: .venv/bin/python bench/reference_bench.py
Both parsers read the same 10,000 mixed inputs (about two thirds valid), generated
deterministically. labkit is measured uncached (every parse does the work) and cached
(``parse_reference`` keeps recent results; the inputs repeat, as names in a class do).
"""

from __future__ import annotations

import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

INPUT_COUNT = 10_000
ROUNDS = 5
HEX = "0123456789abcdef"


def make_inputs(count: int = INPUT_COUNT, seed: int = 2) -> list[str]:
    """Deterministic valid and invalid names of the shapes students type."""
    rng = random.Random(seed)
    words = ["alpine", "nginx", "web-app", "my_app", "redis", "python", "app", "db", "team-a"]
    users = ["fredysa", "acme", "library", "some.org", "x"]
    hosts = ["", "", "", "docker.io/", "localhost:5000/", "registry.acme.com/", "ghcr.io/"]
    tags = ["", "", ":latest", ":1.0", ":3.19", ":V1", ":1.2.3-rc1"]
    mistakes = [
        lambda s: s.capitalize(),
        lambda s: "https://" + s,
        lambda s: s.replace("/", "//", 1) if "/" in s else "/" + s,
        lambda s: s + ":-x",
        lambda s: s + ":a:b",
        lambda s: "-" + s,
        lambda s: s.replace("a", "a..a", 1),
        lambda s: s + "@sha256:" + "a" * 63,
        lambda s: s + " ",
        lambda s: "".join(rng.choice(HEX) for _ in range(64)),
    ]
    inputs = []
    for _ in range(count):
        name = rng.choice(hosts)
        if rng.random() < 0.6:
            name += rng.choice(users) + "/"
        name += rng.choice(words)
        if rng.random() < 0.1:
            name += "-" + "".join(rng.choice(string.ascii_lowercase) for _ in range(5))
        name += rng.choice(tags)
        if rng.random() < 0.1:
            name += "@sha256:" + "".join(rng.choice(HEX) for _ in range(64))
        if rng.random() < 0.33:
            name = rng.choice(mistakes)(name)
        inputs.append(name)
    return inputs


def rate(parse: Callable[[str], object], inputs: list[str]) -> float:
    """Best of ROUNDS: parses per second; errors are caught like a caller would."""
    timings = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for text in inputs:
            try:
                parse(text)
            except Exception:
                pass
        timings.append(time.perf_counter() - start)
    return len(inputs) / min(timings)


def import_time_ms(module: str, env: dict[str, str], runs: int = 15) -> float:
    """Median wall time of `python -c "import module"` minus a bare `python -c pass`."""

    def wall(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        return time.perf_counter() - start

    bare = statistics.median(wall("pass") for _ in range(runs))
    loaded = statistics.median(wall(f"import {module}") for _ in range(runs))
    return (loaded - bare) * 1000


def importtime_ms(module: str, env: dict[str, str]) -> float:
    """Cumulative import time of ``module`` as `python -X importtime` reports it."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    for line in result.stderr.splitlines():
        fields = [field.strip() for field in line.split("|")]
        if len(fields) == 3 and fields[2] == module:
            return int(fields[1]) / 1000
    return float("nan")


def main() -> None:
    from docker_image import reference as docker_image_reference

    from labkit.reference import parse_reference, parse_reference_uncached

    inputs = make_inputs()
    valid = 0
    for text in inputs:
        try:
            parse_reference_uncached(text)
            valid += 1
        except ValueError:
            pass
    print(f"inputs: {len(inputs)} ({valid} valid, {len(inputs) - valid} invalid), best of {ROUNDS}")
    port = docker_image_reference.Reference.parse_normalized_named
    results = {
        "labkit parse_reference (uncached)": rate(parse_reference_uncached, inputs),
        "labkit parse_reference (cached)": rate(parse_reference, inputs),
        "docker-image-py parse_normalized_named": rate(port, inputs),
    }
    width = max(*map(len, results), 42)
    for label, value in results.items():
        print(f"{label:<{width}}  {value:>10,.0f} parses/s")
    environments = {"as configured": dict(os.environ)}
    with tempfile.TemporaryDirectory() as cache:
        # With byte code cached (a normal install); this machine may set
        # PYTHONDONTWRITEBYTECODE, which makes every import compile its source again.
        warm = dict(os.environ, PYTHONPYCACHEPREFIX=cache)
        warm.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([sys.executable, "-c", "import labkit.reference"], check=True, env=warm)
        environments["byte code cached"] = warm
        for label, env in environments.items():
            print(f"import times, {label}:")
            rows = {
                "  import labkit (wall, minus bare python)": import_time_ms("labkit", env),
                "  import labkit (-X importtime)": importtime_ms("labkit", env),
                "  import labkit.reference (-X importtime)": importtime_ms("labkit.reference", env),
            }
            for row, value in rows.items():
                print(f"{row:<{width}}  {value:>10.1f} ms")


if __name__ == "__main__":
    main()
