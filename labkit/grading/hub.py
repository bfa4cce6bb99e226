"""``labkit collect --hub URL``: gather a class's lab notebooks and records from their JupyterHub.

The roster is the hub's user list (``GET /hub/api/users``, paginated) less the token's own user,
the members of the instructors' group and any ``exclude`` names. Each student's files are read
through the hub's proxy from their running server, with Jupyter Server's contents API
(``/user/<name>/api/contents/<folder>``) to list the folder and ``/user/<name>/files/...`` to
download each file. The token needs only ``list:users`` and ``read:users:groups`` (the roster),
``access:servers`` and, where the servers enforce granular permissions (see
``deploy/jupyterhub/``), ``custom:jupyter_server:read:*``: it can neither start nor stop a server,
nor edit a file or run code in one.

The layout written is the one ``labkit grade`` reads (one folder per student), plus
``roster.csv``:

    OUT/<student>/<notebook>.ipynb
    OUT/<student>/labkit-answers/<lab>.json
    OUT/roster.csv

What comes from the hub is treated as hostile: a student or file name that is not one plain path
component of safe characters is refused, files over :data:`MAX_FILE_BYTES` (and students over
:data:`MAX_STUDENT_BYTES`) are cut off and refused, every file is created new (``O_EXCL``,
``O_NOFOLLOW``) inside a fresh folder, and redirects are never followed (the token would go with
them). Everything is written into a hidden sibling folder first and renamed to OUT at the end, so
a failed collection leaves nothing behind. Standard library only.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.errors import LabkitError
from labkit.grading.collect import MAX_FILE_BYTES
from labkit.records import ANSWERS_FOLDER

__all__ = [
    "MAX_FILES",
    "MAX_STUDENT_BYTES",
    "HubClass",
    "StudentFiles",
    "collect_from_hub",
    "safe_name",
]

MAX_STUDENT_BYTES = 256 * 1024 * 1024
MAX_FILES = 200  # notebooks plus records, per student
MAX_LISTING_BYTES = 4 * 1024 * 1024
PAGE = 200  # JupyterHub's default api_page_max_limit
MAX_USERS = 100_000
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}\Z")
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass
class StudentFiles:
    """What was collected for one student, or why not."""

    student: str
    notebooks: list[str] = field(default_factory=list)
    records: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    collected: bool = False


@dataclass
class HubClass:
    """A collection: the roster, each student's files, who was left out and why."""

    output: Path
    roster: list[str]
    students: list[StudentFiles]
    excluded: dict[str, str]  # name -> why it is not on the roster
    notes: list[str] = field(default_factory=list)


def safe_name(name: object) -> bool:
    """One plain path component of safe characters (no ``/``, no leading dot, 1–128 long)."""
    return isinstance(name, str) and bool(_SAFE.match(name)) and name not in (".", "..")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx reaches the caller as an HTTPError; the token never follows it


class _Hub:
    """The hub's REST API and the students' servers behind its proxy, with one token."""

    def __init__(self, url: str, token: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise LabkitError(
                f"--hub wants the hub's address, like http://127.0.0.1:8000; got {url!r}"
            )
        if parts.username or parts.password or parts.query or parts.fragment:
            raise LabkitError("--hub: give the address only (no user, password, query or #)")
        self.base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.loopback = parts.hostname in _LOOPBACK or parts.hostname.startswith("127.")
        self.clear_text = parts.scheme == "http" and not self.loopback
        self.token = token
        self.timeout = timeout
        handlers: list[Any] = [_NoRedirect()]
        if self.loopback:
            handlers.append(urllib.request.ProxyHandler({}))  # never send loopback to a proxy
        self.opener = urllib.request.build_opener(*handlers)

    def get(self, path: str, limit: int, accept: str = "application/json") -> tuple[int, bytes]:
        """``(status, body)`` of a GET below the hub's address, reading at most ``limit`` bytes
        (one more tells that the body is longer). Network failures raise LabkitError."""
        request = urllib.request.Request(self.base + path, method="GET")
        request.add_header("Authorization", f"token {self.token}")
        request.add_header("Accept", accept)
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read(limit + 1)
        except urllib.error.HTTPError as error:
            try:
                body = error.read(4096)
            except OSError:
                body = b""
            return error.code, body
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise LabkitError(f"cannot reach the hub at {self.base}: {reason}") from None

    def get_json(self, path: str, accept: str = "application/json") -> tuple[int, Any]:
        status, body = self.get(path, MAX_LISTING_BYTES, accept)
        if len(body) > MAX_LISTING_BYTES:
            return status, None
        try:
            return status, json.loads(body)
        except (ValueError, RecursionError):
            return status, None


def _message(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        return value["message"][:200]
    return ""


def _who(hub: _Hub) -> dict[str, Any]:
    status, model = hub.get_json("/hub/api/user")
    if status in (401, 403):
        raise LabkitError(
            f"the hub refused the token ({status}): check the token file (a service token or "
            "one from the hub's Token page with the scopes in docs/jupyterhub.md)"
        )
    if status != 200 or not isinstance(model, dict):
        raise LabkitError(
            f"{hub.base} does not answer like a JupyterHub ({status} from /hub/api/user)"
        )
    return model


def _users(hub: _Hub) -> list[dict[str, Any]]:
    """Every user model, page by page (JupyterHub 2.0+ pagination; older hubs send a list)."""
    users: list[dict[str, Any]] = []
    offset = 0
    while True:
        status, body = hub.get_json(
            f"/hub/api/users?offset={offset}&limit={PAGE}",
            accept="application/jupyterhub-pagination+json",
        )
        if status == 403:
            raise LabkitError(
                "the token may not list the hub's users: it needs the scope list:users "
                f"({_message(body) or 403})"
            )
        if status != 200:
            raise LabkitError(f"the hub's user list failed ({status}) {_message(body)}".rstrip())
        items = body.get("items") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise LabkitError("the hub's user list is not a list of users")
        users.extend(u for u in items if isinstance(u, dict))
        pagination = body.get("_pagination") if isinstance(body, dict) else None
        following = pagination.get("next") if isinstance(pagination, dict) else None
        if not isinstance(following, dict) or not items or len(users) > MAX_USERS:
            return users
        after = following.get("offset", offset + len(items))
        if not isinstance(after, int) or isinstance(after, bool) or after <= offset:
            return users  # a next page that does not move on would never end
        offset = after


def _roster(
    users: list[dict[str, Any]],
    me: dict[str, Any],
    *,
    exclude: Iterable[str],
    instructors_group: str | None,
    group: str | None,
    notes: list[str],
) -> tuple[list[str], dict[str, str]]:
    excluded: dict[str, str] = {}
    owner = me.get("name") if me.get("kind") == "user" else None
    wanted = set(exclude)
    roster: list[str] = []
    groups_known = any("groups" in user for user in users)
    if not groups_known and users and (instructors_group or group):
        notes.append(
            "the token cannot read users' groups (scope read:users:groups): only the token's "
            "own user and --exclude are left out of the roster"
        )
    for user in users:
        name = user.get("name")
        groups: list[Any] = user["groups"] if isinstance(user.get("groups"), list) else []
        if not isinstance(name, str):
            continue
        if name == owner:
            excluded[name] = "the token's own user"
        elif name in wanted:
            excluded[name] = "--exclude"
        elif instructors_group and instructors_group in groups:
            excluded[name] = f"in the group {instructors_group!r}"
        elif group and groups_known and group not in groups:
            excluded[name] = f"not in the group {group!r}"
        elif not safe_name(name):
            excluded[name] = "a name that cannot be a folder name; collect it by hand"
            notes.append(f"{name!r}: {excluded[name]}")
        else:
            roster.append(name)
    return sorted(set(roster)), excluded


def _write_new(path: Path, data: bytes) -> None:
    """Create ``path`` (never an existing file, never through a symlink) holding ``data``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _listing(hub: _Hub, student: str, folder: str) -> tuple[list[dict[str, Any]] | None, str]:
    quoted = urllib.parse.quote(folder.strip("/"))
    path = f"/user/{urllib.parse.quote(student)}/api/contents/{quoted}?content=1"
    status, model = hub.get_json(path)
    if status == 200 and isinstance(model, dict) and isinstance(model.get("content"), list):
        return [e for e in model["content"] if isinstance(e, dict)], ""
    if status == 200:
        return None, f"{folder or '~'}/ is not a folder on their server"
    if status == 404:
        return None, f"no {folder or '~'}/ folder on their server"
    if status in (302, 303, 307, 424, 503):
        return None, "their server is not running (start it from the hub's admin page)"
    if status == 403:
        return None, f"the token may not read their server (403) {_message(model)}".rstrip()
    return None, f"their server answered {status} {_message(model)}".rstrip()


def _fetch_files(hub: _Hub, student: str, folder: str, target: Path, result: StudentFiles) -> None:
    entries, problem = _listing(hub, student, folder)
    if entries is None:
        result.problems.append(problem)
        return
    wanted: list[tuple[str, str, Any]] = []  # (path on the server, path under target, size)
    for entry in entries:
        name, kind = entry.get("name"), entry.get("type")
        if name == ANSWERS_FOLDER and kind == "directory":
            inner, problem = _listing(hub, student, f"{folder}/{ANSWERS_FOLDER}")
            if inner is None:
                result.problems.append(f"{ANSWERS_FOLDER}/: {problem}")
                continue
            for record in inner:
                rname = record.get("name")
                if record.get("type") != "file" or not str(rname).endswith(".json"):
                    continue
                if not safe_name(rname):
                    result.problems.append(f"{ANSWERS_FOLDER}/{rname!r}: an unsafe name, skipped")
                    continue
                wanted.append(
                    (
                        f"{folder}/{ANSWERS_FOLDER}/{rname}",
                        f"{ANSWERS_FOLDER}/{rname}",
                        record.get("size"),
                    )
                )
        elif isinstance(name, str) and name.endswith(".ipynb") and kind in ("notebook", "file"):
            if not safe_name(name):
                result.problems.append(f"{name!r}: an unsafe name, skipped")
                continue
            wanted.append((f"{folder}/{name}", name, entry.get("size")))
    if len(wanted) > MAX_FILES:
        result.problems.append(f"{len(wanted)} files, over the {MAX_FILES} limit: the rest skipped")
        wanted = wanted[:MAX_FILES]
    total = 0
    target.mkdir()
    seen: set[str] = set()
    for remote, local, size in wanted:
        if local in seen:
            result.problems.append(f"{local} is listed twice; the first one was taken")
            continue
        seen.add(local)
        if isinstance(size, int) and size > MAX_FILE_BYTES:
            result.problems.append(f"{local} is {size} bytes, over the {MAX_FILE_BYTES} byte limit")
            continue
        quoted = urllib.parse.quote(remote.strip("/"))
        status, data = hub.get(
            f"/user/{urllib.parse.quote(student)}/files/{quoted}",
            MAX_FILE_BYTES,
            accept="application/octet-stream",
        )
        if status != 200:
            result.problems.append(f"{local}: their server answered {status}")
            continue
        if len(data) > MAX_FILE_BYTES:
            result.problems.append(f"{local} is over the {MAX_FILE_BYTES} byte limit")
            continue
        total += len(data)
        if total > MAX_STUDENT_BYTES:
            result.problems.append(f"over {MAX_STUDENT_BYTES} bytes in all: the rest skipped")
            break
        destination = target / local
        if local.startswith(ANSWERS_FOLDER + "/"):
            answers = target / ANSWERS_FOLDER
            if not answers.exists():
                answers.mkdir()
            result.records.append(local)
        else:
            result.notebooks.append(local)
        _write_new(destination, data)
    result.collected = bool(result.notebooks or result.records)
    if not result.collected and not result.problems:
        result.problems.append(f"no notebook and no record in {folder or '~'}/")


def collect_from_hub(
    url: str,
    token: str,
    output: str | os.PathLike[str],
    *,
    folder: str = "labs",
    exclude: Sequence[str] = (),
    instructors_group: str | None = "instructors",
    group: str | None = None,
    jobs: int = 4,
    timeout: float = 30.0,
    progress: Callable[[StudentFiles], None] | None = None,
) -> HubClass:
    """Collect every student's ``folder`` (notebooks and ``labkit-answers/``) into ``output``.

    ``output`` must not exist yet, or be an empty folder. Raises LabkitError for what stops the
    whole collection (a bad address, a refused token, no user list); a student whose files cannot
    be read gets problems in their :class:`StudentFiles` and no folder (graded as missing with the
    roster)."""
    if not token.strip():
        raise LabkitError("the token is empty")
    folder = folder.strip("/")
    if any(part in ("", ".", "..") for part in folder.split("/")) and folder != "":
        raise LabkitError(f"--folder wants a folder inside the students' home, got {folder!r}")
    out = Path(output)
    if out.is_symlink() or (out.exists() and (not out.is_dir() or any(out.iterdir()))):
        raise LabkitError(f"{out} already exists and is not an empty folder; choose a new one")
    hub = _Hub(url, token.strip(), timeout)
    me = _who(hub)
    notes: list[str] = []
    if hub.clear_text:
        notes.append(f"{hub.base} is plain http on a network: the token travels in clear text")
    roster, excluded = _roster(
        _users(hub),
        me,
        exclude=exclude,
        instructors_group=instructors_group,
        group=group,
        notes=notes,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.parent / f".{out.name}.partial-{os.getpid()}"
    if partial.exists() or partial.is_symlink():
        raise LabkitError(f"{partial} is in the way (left by an earlier run?); remove it")
    partial.mkdir(mode=0o700)
    try:

        def one(student: str) -> StudentFiles:
            result = StudentFiles(student)
            target = partial / student
            try:
                _fetch_files(hub, student, folder, target, result)
            except LabkitError as error:
                result.problems.append(str(error))
            except OSError as error:  # writing here failed (disk full, a name the disk refuses)
                result.problems.append(f"could not be written: {error.strerror or error}")
            if not result.collected and target.exists():
                shutil.rmtree(target)
            if progress is not None:
                progress(result)
            return result

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            students = list(pool.map(one, roster))
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["student"])
        writer.writerows([name] for name in roster)
        _write_new(partial / "roster.csv", text.getvalue().encode())
        if out.exists():
            out.rmdir()
        partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return HubClass(out, roster, students, excluded, notes)
