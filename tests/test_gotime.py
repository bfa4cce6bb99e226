"""labkit.gotime against Go: moby's GetTimestamp as the real Docker 28.2.2 client runs it.

The client vendors the same api/types/time (vendor/github.com/docker/docker/api/types/time/
timestamp.go at docker/cli v28.2.2) and runs it, before any request, for ``docker events
--since VALUE`` (vendor/github.com/docker/docker/client/events.go:81-96): a value it refuses
prints Go's error, one it accepts goes on to the daemon (here a socket that does not exist:
"Cannot connect to the Docker daemon"). tests/data/gotime/get-timestamp.json keeps what it
printed for each value (``python tests/test_gotime.py`` re-records, in a network namespace of
its own); labkit must refuse the same values with the same text and accept the others.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from labkit.gotime import GoTimeError, get_timestamp, parse_duration

RECORDED = Path(__file__).parent / "data" / "gotime" / "get-timestamp.json"
ACCEPTED = "accepted"
VALUES = [
    # durations (time.ParseDuration), "0" excluded by GetTimestamp
    "10m",
    "1h30m",
    "-1.5h",
    ".5s",
    "1.s",
    "2us",
    "3µs",
    "0",
    "+0",
    "1x",
    "h",
    # dates: dateLocal, dateWithZone
    "2024-01-31",
    "2024-13-01",
    "2024-00-10",
    "2024-02-30",
    "2023-02-29",
    "2024-02-29",
    "2024-1-1",
    "2024-01-1",
    "24-01-01",
    "2024/01/01",
    "2024-01-01x",
    "2024-01-01Z",
    "2024-01-01+01:00",
    "2024-01-01z",
    "0000-02-29",
    # times
    "2024-01-01T10",
    "2024-01-01T25",
    "2024-01-01T24",
    "2024-01-01Tx",
    "2024-01-01T1",
    "2024-01-01T10:00",
    "2024-01-01T10:61",
    "2024-01-01T10:0",
    "2024-01-01T10:00:00",
    "2024-01-01T10:00:60",
    "2024-01-01T10:00:00Z",
    "2024-01-01T10:00:00z",
    "2024-01-01T10:00:00+01:00",
    "2024-01-01T10:00:00+25:00",
    "2024-01-01T10:00:00+01:61",
    "2024-01-01T10:00:00+0100",
    "2024-01-01T10:00:00*01:00",
    "2024-01-01T10:00:00Zjunk",
    "2024-01-01T10Z",
    "2024-01-01T10:30Z",
    "2024-01-01T10+02:00",
    "2024-01-01T10:00+02:00",
    "2024-01-01T10:00:00.5",
    "2024-01-01T10:00:00.123456789Z",
    "2024-01-01T10:00:00.5x",
    "2024-01-01T10:00:00.1234567891",
    "2024-01-01T10:00:00,5",
    "2024-01-01T10:00:00.",
    "2024-01-01 10:00:00",
    "2024-01-01T10:00:00-05:00",
    "2024-01-01T10:00:00.5-05:00",
    # Unix seconds and what is neither
    "1700000000",
    "1700000000.5",
    "1700000000.",
    "+5",
    "-5",
    "1.5e3",
    "yesterday",
    "é-1",
    "12:00",
    "99999999999999999999",
    "1.2.3",
    "now",
]  # not "": the client sends no --since then (the daemon's until= refuses it, test below)


def real_verdicts(values: list[str]) -> dict[str, str]:
    """What the real client prints for each value (its first line), or ACCEPTED."""
    found = {}
    with tempfile.TemporaryDirectory() as folder:
        env = {
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            "HOME": folder,
            "DOCKER_CONFIG": folder,
            "DOCKER_HOST": f"unix://{folder}/no-daemon.sock",
        }
        for value in values:
            command = ["bwrap", "--dev-bind", "/", "/", "--unshare-net", "--die-with-parent"]
            command += ["docker", "events", "--since", value, "--until", "1"]
            done = subprocess.run(
                command, capture_output=True, text=True, env=env, timeout=60, check=False
            )
            text = (done.stderr or done.stdout).splitlines()[0]
            found[value] = ACCEPTED if "Cannot connect to the Docker daemon" in text else text
    return found


def labkit_verdict(value: str) -> str:
    try:
        get_timestamp(value, datetime(2025, 6, 1, tzinfo=UTC))
    except GoTimeError as error:
        return str(error)
    return ACCEPTED


def recorded() -> dict[str, str]:
    return json.loads(RECORDED.read_text())["verdicts"]


def test_every_value_is_recorded() -> None:
    assert sorted(recorded()) == sorted(VALUES)
    assert sum(v == ACCEPTED for v in recorded().values()) >= 20
    assert sum(v != ACCEPTED for v in recorded().values()) >= 30


@pytest.mark.parametrize("value", VALUES)
def test_labkit_refuses_and_words_as_go(value: str) -> None:
    assert labkit_verdict(value) == recorded()[value]


@pytest.mark.skipif(
    shutil.which("docker") is None or shutil.which("bwrap") is None,
    reason="the real docker client (and bwrap) are not installed",
)
@pytest.mark.slow
def test_the_recordings_are_the_real_clients() -> None:
    assert real_verdicts(VALUES) == recorded()


def test_what_the_accepted_values_mean() -> None:
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert get_timestamp("1h30m", now) == now - timedelta(minutes=90)
    assert get_timestamp("2024-01-31", now) == datetime(2024, 1, 31, tzinfo=UTC)
    assert get_timestamp("2024-01-01T10:00:00+01:00", now) == datetime(2024, 1, 1, 9, tzinfo=UTC)
    assert get_timestamp("2024-01-01T10Z", now) == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert get_timestamp("2024-01-01T10:00:00.5-05:00", now) == datetime(
        2024, 1, 1, 15, 0, 0, 500000, tzinfo=UTC
    )
    assert get_timestamp("1700000000.5", now) == datetime.fromtimestamp(1700000000.5, UTC)
    assert get_timestamp("+5", now) == datetime.fromtimestamp(5, UTC)
    assert get_timestamp("0", now) == datetime.fromtimestamp(0, UTC)
    # a date without a zone is in the daemon's zone
    east = timezone(timedelta(hours=2))
    assert get_timestamp("2024-01-31", now, east) == datetime(2024, 1, 30, 22, tzinfo=UTC)
    assert parse_duration("1.s") == 1.0 and parse_duration(".") is None
    with pytest.raises(GoTimeError, match=r'^failed to parse value as time or duration: ""$'):
        get_timestamp("", now)


if __name__ == "__main__":
    RECORDED.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "source": "docker events --since VALUE, Docker 28.2.2 client, no daemon "
        "(python tests/test_gotime.py)",
        "verdicts": real_verdicts(VALUES if len(sys.argv) < 2 else sys.argv[1:]),
    }
    RECORDED.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"recorded {len(document['verdicts'])} values")
