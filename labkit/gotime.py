"""Go's reading of a time value, as the ``until`` filter of ``docker images`` uses it.

:func:`get_timestamp` is moby's ``api/types/time.GetTimestamp`` (v28.2.2,
api/types/time/timestamp.go:26-106) followed by ``ParseTimestamps`` (:108-140), as
daemon/images/image_list.go:64-80 applies them: a Go duration before now
(``time.ParseDuration``), an RFC 3339-like date or time read by Go's ``time.Parse`` with the
layout GetTimestamp picks (the daemon's zone when none is given: UTC in labkit), or Unix
seconds. Its errors are Go's own texts (``parsing time "2024-13-01": month out of range``,
``parsing time "2024-1-1" as "2006-01-02": cannot parse "1-1" as "01"``,
``failed to parse value as time or duration: "x"``): the real client's copy of the same
function (``docker events --since``) is the oracle of tests/test_gotime.py.

Only the layout elements GetTimestamp's layouts use are implemented (``2006 01 02 15 04 05``,
``.999999999`` and ``Z07:00``), with Go's parser (time/format.go ``parse``) step for step.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta, timezone

from labkit.platforms import go_quote

__all__ = ["GoTimeError", "get_timestamp", "parse_duration"]


class GoTimeError(ValueError):
    """A value Go refuses; ``str()`` is Go's error text."""


_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_DURATION = re.compile(r"([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)")
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> float | None:
    """time.ParseDuration in seconds, or None when it is not a duration."""
    if text in ("0", "+0", "-0"):
        return 0.0
    match = _DURATION.fullmatch(text)
    if match is None:
        return None
    total = sum(float(n) * _UNITS[unit] for n, unit in _DURATION_PART.findall(match[2]))
    return -total if match[1] == "-" else total


def _quote(text: str) -> str:
    """time.quote (time/format.go): bytes outside printable ASCII as \\xNN."""
    out: list[str] = []
    for char in text:
        if char < " " or ord(char) >= 0x80:
            out.extend(f"\\x{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))
        else:
            out.append("\\" + char if char in '"\\' else char)
    return '"' + "".join(out) + '"'


class _Bad(Exception):
    """errBad inside the parser."""


def _digit(text: str, i: int) -> bool:
    return i < len(text) and "0" <= text[i] <= "9"


def _getnum(text: str, fixed: bool) -> tuple[int, str]:
    if not _digit(text, 0):
        raise _Bad
    if not _digit(text, 1):
        if fixed:
            raise _Bad
        return int(text[0]), text[1:]
    return int(text[:2]), text[2:]


def _nanoseconds(text: str, nbytes: int) -> int:
    """parseNanoseconds: digits after the separator, scaled to nanoseconds (at most 9)."""
    nbytes = min(nbytes, 10)
    digits = text[1:nbytes]
    if not digits.isdigit():
        raise _Bad
    return int(digits) * 10 ** (10 - nbytes)


_STD = ("2006", "01", "02", "15", "04", "05", ".999999999", "Z07:00")
_STD_CHUNK = re.compile("|".join(re.escape(s) for s in _STD))


def _parse(layout: str, value: str, zone: timezone) -> datetime:
    """time.Parse / ParseInLocation for the layouts GetTimestamp uses."""
    avalue = value
    year, month, day, hour, minute, sec, nsec = 0, 1, 1, 0, 0, 0, 0
    zone_offset: int | None = None
    rest = layout
    while True:
        match = _STD_CHUNK.search(rest)
        prefix = rest[: match.start()] if match else rest
        std = match.group(0) if match else ""
        # skip(value, prefix)
        for char in prefix:
            if not value or value[0] != char:
                raise GoTimeError(
                    f"parsing time {_quote(avalue)} as {_quote(layout)}: cannot parse "
                    f"{_quote(value)} as {_quote(prefix)}"
                )
            value = value[1:]
        if not std:
            if value:
                raise GoTimeError(f"parsing time {_quote(avalue)}: extra text: {_quote(value)}")
            break
        rest = rest[match.end() :] if match else ""
        hold = value
        range_error = ""
        try:
            if std == "2006":
                if len(value) < 4 or not _digit(value, 0) or not value[:4].isdigit():
                    raise _Bad
                year, value = int(value[:4]), value[4:]
            elif std == "01":
                month, value = _getnum(value, True)
                if not 1 <= month <= 12:
                    range_error = "month"
            elif std == "02":
                day, value = _getnum(value, True)
            elif std == "15":
                hour, value = _getnum(value, False)
                if hour >= 24:
                    range_error = "hour"
            elif std == "04":
                minute, value = _getnum(value, True)
                if minute >= 60:
                    range_error = "minute"
            elif std == "05":
                sec, value = _getnum(value, True)
                if sec >= 60:
                    range_error = "second"
                elif len(value) >= 2 and value[0] in ".," and _digit(value, 1):
                    following = _STD_CHUNK.search(rest)
                    if not (
                        following and following.group(0) == ".999999999" and following.start() == 0
                    ):
                        n = 2
                        while _digit(value, n):
                            n += 1
                        nsec = _nanoseconds(value, n)
                        value = value[n:]
            elif std == ".999999999":
                if len(value) >= 2 and value[0] in ".," and _digit(value, 1):
                    i = 0
                    while _digit(value, i + 1):
                        i += 1
                    nsec = _nanoseconds(value, 1 + i)
                    value = value[1 + i :]
            else:  # Z07:00
                if value[:1] == "Z":
                    value = value[1:]
                    zone_offset = 0
                else:
                    if len(value) < 6 or value[3] != ":":
                        raise _Bad
                    sign, hours, minutes, value = value[0], value[1:3], value[4:6], value[6:]
                    bad, hr, mm = False, 0, 0
                    try:
                        hr, _ = _getnum(hours, True)
                        mm, _ = _getnum(minutes, True)
                    except _Bad:
                        bad = True
                    if hr > 24:
                        range_error = "time zone offset hour"
                    if mm > 60:
                        range_error = "time zone offset minute"
                    if (bad or sign not in ("+", "-")) and not range_error:
                        raise _Bad
                    offset = (hr * 60 + mm) * 60
                    zone_offset = -offset if sign == "-" else offset
        except _Bad:
            if range_error:
                raise GoTimeError(
                    f"parsing time {_quote(avalue)}: {range_error} out of range"
                ) from None
            raise GoTimeError(
                f"parsing time {_quote(avalue)} as {_quote(layout)}: cannot parse "
                f"{_quote(hold)} as {_quote(std)}"
            ) from None
        if range_error:
            raise GoTimeError(f"parsing time {_quote(avalue)}: {range_error} out of range")
    if day < 1 or day > calendar.monthrange(year or 2000, month)[1]:  # year 0 is a leap year
        raise GoTimeError(f"parsing time {_quote(avalue)}: day out of range")
    shift = timedelta(seconds=zone_offset or 0)
    if year == 0:  # before anything Python's datetime holds: the earliest moment it has
        return datetime(1, 1, 1, tzinfo=UTC)
    local = datetime(year, month, day, hour, minute, sec, nsec // 1000)
    if zone_offset is None:
        return local.replace(tzinfo=zone)
    return (local - shift).replace(tzinfo=UTC)  # offsets up to 24:60 are Go's, not Python's


def _parse_int64(text: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", text) or not -(2**63) <= int(text) < 2**63:
        raise ValueError(text)
    return int(text)


def get_timestamp(value: str, now: datetime, zone: timezone = UTC) -> datetime:
    """GetTimestamp then ParseTimestamps: the moment ``value`` names (Go's errors)."""
    duration = parse_duration(value)
    if value != "0" and duration is not None:
        return now - timedelta(seconds=duration)
    in_location = not any(c in value for c in "zZ+") and value.count("-") != 3
    if "." in value:
        layout = "2006-01-02T15:04:05.999999999" + ("" if in_location else "Z07:00")
    elif "T" in value:
        colons = value.count(":")
        if not in_location and not any(c in value for c in "zZ") and colons > 0:
            colons -= 1
        layout = ("2006-01-02T15", "2006-01-02T15:04", "2006-01-02T15:04:05")[min(colons, 2)]
        layout += "" if in_location else "Z07:00"
    else:
        layout = "2006-01-02" + ("" if in_location else "Z07:00")
    try:
        return _parse(layout, value, zone)
    except GoTimeError:
        if "-" in value:
            raise
    seconds, _, fraction = value.partition(".")
    try:
        whole = _parse_int64(seconds)
        nanos = _parse_int64(fraction) if "." in value else 0
    except ValueError:
        quoted = go_quote(value)
        raise GoTimeError(f"failed to parse value as time or duration: {quoted}") from None
    if "." in value:
        nanos = int(float(nanos) * 10.0 ** (9 - len(fraction)))
    return datetime.fromtimestamp(whole, UTC) + timedelta(microseconds=nanos // 1000)
