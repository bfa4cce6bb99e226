"""``docker ...`` command lines -> engine calls -> Docker's text and exit code.

:func:`execute` parses a line with :mod:`labkit.commandline` (help texts and usage errors come
back from there as they are), carries out the command on a :class:`~labkit.engine.Engine`, and
prints what Docker 28 prints, errors included. It never raises for a bad command line: every
failure is a :class:`Result` with Docker's text and exit code. The engine returns what it did
(:class:`~labkit.engine.PullResult`, :class:`~labkit.engine.PushResult`, ...); only this module
turns that into Docker's text.

Why it is over 800 lines: it is the one place for the daemon-side text of every simulated
command (the images, inspect and search filters as moby checks them, with their citations), so
that the Engine API stub (tests/engine_stub.py) and the shell share one implementation. Split it
by command (a ``labkit/shell/`` package) when a command's part grows on its own.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from labkit import formats
from labkit._version import __version__
from labkit.commandline import Invocation, Output, parse_command_line, split_comment
from labkit.engine import (
    CommandFailed,
    Engine,
    LayerStatus,
    PullResult,
    PushedTag,
    PushResult,
    daemon_error,
    no_such_host,
)
from labkit.errors import InvalidReference
from labkit.gotime import GoTimeError, get_timestamp
from labkit.oci import go_json
from labkit.platforms import PlatformError, parse_platform
from labkit.reference import DEFAULT_DOMAIN, Reference, parse_any_reference, parse_reference
from labkit.store import short_id
from labkit.transport import Unreachable

__all__ = [
    "Printer",
    "Result",
    "display_line",
    "execute",
    "human_duration",
    "human_size",
    "render_pull",
    "render_push",
    "split_here_string",
]

SEARCH_DEFAULT_LIMIT = 25
MAX_CONCURRENT_UPLOADS = 5
# cli/command/image/push.go:87-90, printed by tui.PrintNote (internal/tui/note.go:18-38) as a
# terminal shows it: the "i Info → " header, later lines indented by its width (9)
PUSH_PLATFORM_NOTE = (
    "\ni Info → Using --platform pushes only the specified platform manifest of a "
    "multi-platform image index.\n"
    "         Other components, like attestations, will not be included.\n"
    "         To push the complete multi-platform image, remove the --platform flag.\n"
    "         \n"
)
UNENCRYPTED_WARNING = (
    "\nWARNING! Your credentials are stored unencrypted in '{path}'.\n"
    "Configure a credential helper to remove this warning. See\n"
    "https://docs.docker.com/go/credential-store/\n\n"
)


@dataclass(frozen=True)
class Result:
    """What a command printed: stdout, stderr, the exit code, and the pieces in order."""

    stdout: str
    stderr: str
    exit_code: int
    chunks: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def output(self) -> str:
        """stdout and stderr interleaved as a terminal shows them."""
        return "".join(text for _, text in self.chunks)

    def __str__(self) -> str:
        return self.output


class Printer:
    """Collects output in the order it is printed."""

    def __init__(self) -> None:
        self.chunks: list[tuple[str, str]] = []

    def out(self, text: str) -> None:
        if text:
            self.chunks.append(("stdout", text))

    def err(self, text: str) -> None:
        if text:
            self.chunks.append(("stderr", text))

    def line(self, text: str = "") -> None:
        self.out(text + "\n")

    def result(self, exit_code: int) -> Result:
        stdout = "".join(t for s, t in self.chunks if s == "stdout")
        stderr = "".join(t for s, t in self.chunks if s == "stderr")
        return Result(stdout, stderr, exit_code, tuple(self.chunks))


# -- formatting like Docker's go-units and tabwriter -------------------------------------------


def human_duration(seconds: float) -> str:
    """go-units HumanDuration: "3 minutes", "About an hour", "2 weeks", ..."""
    whole = int(seconds)
    if whole < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def human_size(size: float) -> str:
    """go-units HumanSizeWithPrecision(size, 3): "7.8MB", "12.3kB", "512B"."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    index = 0
    while size >= 1000 and index < len(units) - 1:
        size /= 1000
        index += 1
    return f"{size:.3g}{units[index]}"


def tabulate(rows: list[list[str]]) -> str:
    """Go's tabwriter as Docker's tables use it: minwidth 10, padding 3, last cell unpadded."""
    widths = [0] * (max(map(len, rows)) - 1)
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths[i], len(cell) + 3, 10)
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("".join(cells) + row[-1])
    return "\n".join(lines) + "\n"


def execute(
    client: Engine, line: str, stdin: str | None = None, *, progress: bool = False
) -> Result:
    """Run one command line on ``client``; never raises for user errors."""
    parsed = parse_command_line(line)
    if isinstance(parsed, Output):
        printer = Printer()
        printer.out(parsed.stdout)
        printer.err(parsed.stderr)
        return printer.result(parsed.exit_code)
    printer = Printer()
    handler = COMMANDS[parsed.command]
    try:
        handler(client, parsed, printer, stdin, progress)
    except Unreachable as failure:  # a registry that stopped answering half-way
        printer.err(daemon_error(no_such_host(failure.host)).text + "\n")
        return printer.result(1)
    except CommandFailed as failure:
        printer.err(failure.text if failure.text.endswith("\n") else failure.text + "\n")
        return printer.result(failure.code)
    return printer.result(0)


def _reference(text: str) -> Reference:
    """ParseNormalizedNamed as the CLI uses it: the error text alone, exit 1."""
    try:
        return parse_reference(text)
    except InvalidReference as error:
        raise CommandFailed(str(error)) from None


# -- pull, push ------------------------------------------------------------------------------


def _transfer_target(inv: Invocation, out: Printer) -> tuple[Reference, bool, bool]:
    """The reference of a pull or push as the CLI settles it: ``-a`` takes a name only, and a
    name without tag or digest gets ``latest`` (said, unless ``-q``). (ref, all_tags, quiet)."""
    ref = _reference(inv.args[0])
    all_tags = bool(inv.flags.get("all-tags"))
    if all_tags and (ref.tag or ref.digest):
        raise CommandFailed("tag can't be used with --all-tags/-a")
    quiet = bool(inv.flags.get("quiet"))
    if not all_tags and not ref.tag and not ref.digest:
        if not quiet:
            out.line("Using default tag: latest")
        ref = ref.with_default_tag()
    return ref, all_tags, quiet


@contextmanager
def _daemon_stream(out: Printer, quiet: bool) -> Iterator[Printer]:
    """Where the daemon's stream goes: to the terminal, or with ``-q`` nowhere but its errors."""
    if not quiet:
        yield out
        return
    stream = Printer()
    try:
        yield stream
    finally:
        out.chunks.extend(chunk for chunk in stream.chunks if chunk[0] == "stderr")


def _platform(inv: Invocation) -> None:
    """The client's platforms.Parse of --platform (labkit.platforms): image/history.go:60-64
    wraps its error in "invalid platform", image/inspect.go:60-64 and image/remove.go:68-72
    return it as it is; every image is linux/amd64, so a valid value selects nothing."""
    values = inv.flags.get("platform") or ()
    # history and image inspect parse a non-empty value; rmi parses every element given
    for value in [values] if isinstance(values, str) else cast(list[str], values):
        if not value and isinstance(values, str):
            continue
        try:
            parse_platform(str(value))
        except PlatformError as error:
            wrap = "invalid platform: " if inv.command == "image history" else ""
            raise CommandFailed(f"{wrap}{error}") from None


def _pull(client: Engine, inv: Invocation, out: Printer, stdin, progress: bool) -> None:
    ref, all_tags, quiet = _transfer_target(inv, out)
    platform = str(inv.flags.get("platform") or "")
    if platform:  # the daemon parses it (moby image_routes.go:58-61): InvalidParameter
        try:
            parse_platform(platform)
        except PlatformError as error:
            raise daemon_error(str(error)) from None
    with _daemon_stream(out, quiet) as stream:
        try:
            result = client.pull(ref, all_tags=all_tags)
        except CommandFailed as failure:
            if isinstance(failure.partial, PullResult):
                render_pull(stream, failure.partial, progress=progress, complete=False)
            raise
        render_pull(stream, result, progress=progress)
    out.line(str(ref))


def _push(client: Engine, inv: Invocation, out: Printer, stdin, progress: bool) -> None:
    platform = str(inv.flags.get("platform") or "")
    if platform:  # push.go:80-91: parsed before the reference, the note before anything else
        try:
            parse_platform(platform)
        except PlatformError as error:
            out.err(f"Invalid platform {platform}")  # push.go:83, no newline
            raise CommandFailed(str(error)) from None
        out.out(PUSH_PLATFORM_NOTE)
    ref, all_tags, quiet = _transfer_target(inv, out)
    if ref.digest:
        raise CommandFailed("cannot push a digest reference")
    with _daemon_stream(out, quiet) as stream:
        stream.line(f"The push refers to repository [{ref.domain}/{ref.path}]")
        try:
            result = client.push(ref, all_tags=all_tags)
        except CommandFailed as failure:
            if isinstance(failure.partial, PushResult):
                render_push(stream, failure.partial, progress=progress)
            raise
        render_push(stream, result, progress=progress)
    if quiet:
        out.line(str(ref))


def render_pull(out: Printer, result: PullResult, *, progress: bool, complete: bool = True) -> None:
    """A pull as Docker's terminal shows it once finished (every status with ``progress``)."""
    for image in result.images:
        out.line(f"{image.label}: Pulling from {image.ref.path}")
        statuses = [(short_id(layer.layer), layer.status) for layer in image.layers]
        if progress:
            _pull_progress(out, statuses)
        else:
            for layer_id, status in statuses:
                out.line(f"{layer_id}: {status}")
        if image.digest is not None:
            out.line(f"Digest: {image.digest}")
    if complete:
        status = "Downloaded newer image for" if result.downloaded else "Image is up to date for"
        out.line(f"Status: {status} {result.ref.familiar}")


def render_push(out: Printer, result: PushResult, *, progress: bool) -> None:
    """A push as Docker's terminal shows it once finished (every status with ``progress``);
    a tag that failed shows the layers not reached as Preparing or Waiting."""
    for pushed in result.tags:
        if pushed.digest is None:
            _failed_push(out, pushed)
            continue
        statuses = [(short_id(layer.layer), layer.status) for layer in pushed.layers]
        if progress:
            _push_progress(out, statuses)
        else:
            for layer_id, state in statuses:
                out.line(f"{layer_id}: {state}")
        out.line(f"{pushed.tag}: digest: {pushed.digest} size: {pushed.size}")


def _failed_push(out: Printer, pushed: PushedTag) -> None:
    layers: list[LayerStatus | str] = [*pushed.layers, *pushed.pending]
    for index, layer in enumerate(layers):
        if isinstance(layer, LayerStatus):
            out.line(f"{short_id(layer.layer)}: {layer.status}")
        else:
            state = "Preparing" if index < MAX_CONCURRENT_UPLOADS else "Waiting"
            out.line(f"{short_id(layer)}: {state}")


def _pull_progress(out: Printer, statuses: list[tuple[str, str]]) -> None:
    for layer_id, status in statuses:
        if status == "Already exists":
            out.line(f"{layer_id}: Already exists")
        else:
            out.line(f"{layer_id}: Pulling fs layer")
    for layer_id, status in statuses:
        if status != "Already exists":
            for step in ("Verifying Checksum", "Download complete", "Extracting", "Pull complete"):
                out.line(f"{layer_id}: {step}")


def _push_progress(out: Printer, statuses: list[tuple[str, str]]) -> None:
    for index, (layer_id, _) in enumerate(statuses):
        out.line(f"{layer_id}: Preparing")
        if index >= MAX_CONCURRENT_UPLOADS:
            out.line(f"{layer_id}: Waiting")
    for layer_id, state in statuses:
        if state == "Pushed":
            out.line(f"{layer_id}: Pushing")
        out.line(f"{layer_id}: {state}")


# -- tag, images, rmi, inspect, history ------------------------------------------------------


def _wrap_ref_error(text: str, error: InvalidReference) -> CommandFailed:
    quoted = json.dumps(text, ensure_ascii=False)
    return CommandFailed(
        f"Error parsing reference: {quoted} is not a valid repository/tag: {error}"
    )


def _tag(client: Engine, inv: Invocation, out: Printer, stdin, progress: bool) -> None:
    source, target_text = inv.args
    try:
        parse_any_reference(source)
    except InvalidReference as error:
        raise _wrap_ref_error(source, error) from None
    try:
        target = parse_reference(target_text)
    except InvalidReference as error:
        raise _wrap_ref_error(target_text, error) from None
    if target.digest:
        raise CommandFailed("refusing to create a tag with a digest reference")
    client.tag(source, target.with_default_tag())


# docker image --help: the subcommands and aliases printAmbiguousHint knows
# (cli/command/image/list.go:158-176)
_AMBIGUOUS = frozenset(
    [
        "build",
        "history",
        "import",
        "inspect",
        "list",
        "load",
        "ls",
        "prune",
        "pull",
        "push",
        "rm",
        "save",
        "tag",
    ]
)
# daemon/images/image_list.go:19-26
_IMAGE_FILTERS = frozenset({"dangling", "label", "before", "since", "reference", "until"})


def _flag_values(inv: Invocation, name: str) -> list[str]:
    """The values a repeatable flag (``--filter``) was given, as text, in order."""
    values = inv.flags.get(name)
    return [str(v) for v in values] if isinstance(values, list | tuple) else []


def _filter_args(inv: Invocation) -> dict[str, list[str]]:
    """filters.Args as the daemon receives them: name -> distinct values, in the order given."""
    return _filter_args_of(_flag_values(inv, "filter"))


def _invalid_filter(name: str, values: list[str] | None = None) -> CommandFailed:
    """api/types/filters/errors.go: "invalid filter 'NAME'" or "invalid filter 'NAME=[V ...]'"."""
    shown = name if values is None else f"{name}=[{' '.join(values)}]"
    return daemon_error(f"invalid filter '{shown}'")


def _bool_filter(args: dict[str, list[str]], name: str) -> bool | None:
    """filters.Args.GetBoolOrDefault (api/types/filters/parse.go:201-218)."""
    if name not in args:
        return None
    values = set(args[name])
    is_false = bool(values & {"0", "false"})
    is_true = bool(values & {"1", "true"})
    if is_false == is_true:
        raise _invalid_filter(name, args[name])
    return is_true


def path_match(pattern: str, name: str) -> bool:
    """Go's path.Match: ``*`` and ``?`` stop at ``/``, ``[...]`` classes, ``\\`` escapes;
    raises ValueError("syntax error in pattern") for a bad pattern."""
    bad = ValueError("syntax error in pattern")
    regex = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            regex.append("[^/]*")
        elif char == "?":
            regex.append("[^/]")
        elif char == "\\":
            i += 1
            if i >= len(pattern):
                raise bad
            regex.append(re.escape(pattern[i]))
        elif char == "[":
            i += 1
            negate = pattern[i : i + 1] == "^"
            i += negate
            ranges: list[str] = []
            while True:
                if i >= len(pattern):
                    raise bad
                if pattern[i] == "]" and ranges:
                    break
                lo, i = _class_char(pattern, i, bad)
                hi = lo
                if pattern[i : i + 1] == "-":
                    hi, i = _class_char(pattern, i + 1, bad)
                    if hi < lo:
                        raise bad
                ranges.append(f"{re.escape(lo)}-{re.escape(hi)}")
            regex.append(("[^" if negate else "[") + "".join(ranges) + "]")
        else:
            regex.append(re.escape(char))
        i += 1
    return re.fullmatch("".join(regex), name, re.S) is not None


def _class_char(pattern: str, i: int, bad: ValueError) -> tuple[str, int]:
    """path.getEsc: one character of a class (``\\`` escapes), and the index after it."""
    if i >= len(pattern) or pattern[i] in "-]":
        raise bad
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise bad
    return pattern[i], i + 1


def _familiar_match(pattern: str, ref_text: str) -> bool:
    """reference.FamiliarMatch (distribution/reference helpers.go:36-42): the familiar string,
    then the familiar name."""
    try:
        ref = parse_any_reference(ref_text)
    except InvalidReference:
        return False
    try:
        if path_match(pattern, ref.familiar):
            return True
    except ValueError as error:
        raise daemon_error(str(error)) from None
    try:
        return path_match(pattern, ref.familiar_name)
    except ValueError:
        return False


def _image_summaries(client: Engine, inv: Invocation) -> list[dict[str, Any]]:
    """What GET /images/json answers (daemon/images/image_list.go:37-232): the filters checked
    first, then each image with only the references that match; newest first."""
    args = _filter_args(inv)
    if inv.args and inv.args[0]:  # list.go:80-81: an empty argument adds no filter
        values = args.setdefault("reference", [])
        if inv.args[0] not in values:
            values.append(inv.args[0])
    for name in args:
        if name not in _IMAGE_FILTERS:
            raise _invalid_filter(name)
    dangling = _bool_filter(args, "dangling")
    before = since = None
    for value in args.get("before", ()):
        image = client.get_image(value)
        before = image.created if before is None or before > image.created else before
    for value in args.get("since", ()):
        image = client.get_image(value)
        since = image.created if since is None or since < image.created else since
    for value in args.get("until", ()):
        clock = client.world.clock
        until = _until_timestamp(value, None if clock.is_real else clock.now())
        before = until if before is None or before > until else before
    summaries: list[dict[str, Any]] = []
    for image in client.store.images():
        if before is not None and not image.created < before:
            continue
        if since is not None and not image.created > since:
            continue
        if "label" in args:
            labels = (image.config_json.get("config") or {}).get("Labels") or {}
            if not labels or not all(
                key in labels and (not has or labels[key] == want)
                for key, has, want in (v.partition("=") for v in args["label"])
            ):
                continue
        refs = client.store.refs_of(image.id)
        if "reference" in args:
            refs = [r for r in refs if any(_familiar_match(p, r) for p in args["reference"])]
        tags = [_familiar_ref(r) for r in refs if "@" not in r]
        digests = [_familiar_ref(r) for r in refs if "@" in r]
        if not tags and not digests:
            if dangling is False or "reference" in args:
                continue
        elif dangling and tags:
            continue
        summaries.append({"image": image, "RepoTags": tags, "RepoDigests": digests})
    summaries.sort(key=lambda s: s["image"].created, reverse=True)
    return summaries


def _until_timestamp(value: str, now: Any) -> Any:
    """The until filter's bound (daemon/images/image_list.go:64-80): moby's GetTimestamp and
    ParseTimestamps (labkit.gotime), UTC being the daemon's zone; Go's errors from the daemon."""
    try:
        return get_timestamp(value, now or datetime.now(UTC))
    except GoTimeError as error:
        raise daemon_error(str(error)) from None


def _image_contexts(
    client: Engine, summaries: list[dict[str, Any]], fmt: str, *, digests: bool, trunc: bool
) -> list[formats.Struct]:
    """formatter.imageFormat (cli/command/formatter/image.go:90-111): a row per tag (and digest
    where wanted), then the repositories known by digest only."""
    now = datetime.now(UTC) if client.world.clock.is_real else client.world.clock.now()
    need_digest = digests or "{{.Digest}}" in fmt
    rows = []
    for summary in summaries:
        image = summary["image"]
        created = image.created
        since = human_duration((now - created).total_seconds()) + " ago"
        created_at = created.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")
        tags = [_full_ref(t) for t in summary["RepoTags"]]
        refs = [_full_ref(d) for d in summary["RepoDigests"]]
        entries = _image_entries(tags, refs, show_digests=need_digest, digest_rows=digests)
        for name, tag, digest in entries:
            rows.append(
                formats.image_context(
                    image_id=image.id,
                    repo=_familiar_name(name),
                    tag=tag,
                    digest=digest,
                    created_since=since,
                    created_at=created_at,
                    size=human_size(image.size),
                    virtual_size=f"{_human_size_4(image.size)}",
                    trunc=trunc,
                )
            )
    return rows


def _human_size_4(size: float) -> str:
    """go-units HumanSize: HumanSizeWithPrecision(size, 4)."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    index = 0
    while size >= 1000 and index < len(units) - 1:
        size /= 1000
        index += 1
    return f"{size:.4g}{units[index]}"


def _full_ref(familiar: str) -> str:
    try:
        return str(parse_any_reference(familiar))
    except InvalidReference:
        return familiar


def _image_entries(
    tags: list[str], digests: list[str], *, show_digests: bool, digest_rows: bool | None = None
) -> list[tuple[str, str, str]]:
    """(repository, tag, digest) rows of one image, as docker/cli's imageFormatTaggedAndDigest
    makes them: a row per tag (per tag and digest with --digests), then the repositories that
    only have digests (one ``<none>`` row each, or one per digest with --digests)."""
    if not tags and not digests:
        return [("<none>", "<none>", "<none>")]
    repo_tags: dict[str, list[str]] = {}
    for tag_ref in tags:
        name, _, tag = tag_ref.rpartition(":")
        repo_tags.setdefault(name, []).append(tag)
    repo_digests: dict[str, list[str]] = {}
    for digest_ref in digests:
        name, _, digest = digest_ref.partition("@")
        repo_digests.setdefault(name, []).append(digest)
    entries: list[tuple[str, str, str]] = []
    for name, tag_list in repo_tags.items():
        shown = repo_digests.pop(name, []) if show_digests else []
        repo_digests.pop(name, None)
        for tag in tag_list:
            entries += [(name, tag, d) for d in shown] or [(name, tag, "<none>")]
    for name, digest_list in repo_digests.items():
        if show_digests if digest_rows is None else digest_rows:
            entries += [(name, "<none>", d) for d in digest_list]
        else:
            entries.append((name, "<none>", ""))
    return entries


def _familiar_name(name: str) -> str:
    if name == "<none>":
        return name
    try:
        return parse_reference(name).familiar_name
    except InvalidReference:
        return name


def _images(client: Engine, inv: Invocation, out: Printer, stdin, progress: bool) -> None:
    """cli/command/image/list.go:78-136."""
    tree = bool(inv.flags.get("tree"))
    quiet = bool(inv.flags.get("quiet"))
    no_trunc = bool(inv.flags.get("no-trunc"))
    digests = bool(inv.flags.get("digests"))
    fmt = str(inv.flags.get("format") or "")
    if tree:
        # list.go:84-96: checked before the daemon is asked
        for flag, given in (
            ("--quiet", quiet),
            ("--no-trunc", no_trunc),
            ("--show-digest", digests),
            ("--format", fmt),
        ):
            if given:
                raise CommandFailed(f"{flag} is not yet supported with --tree")
        raise CommandFailed(
            "labkit: docker images --tree (experimental in Docker 28) is not simulated"
        )
    summaries = _image_summaries(client, inv)
    chosen = formats.image_format(fmt or "table", quiet=quiet, digest=digests)
    rows = _image_contexts(client, summaries, chosen, digests=digests, trunc=not no_trunc)
    try:
        out.out(formats.format_list(chosen, rows, formats.IMAGE_HEADER))
    except formats.TemplateError as error:
        raise CommandFailed(str(error)) from None
    match = inv.args[0] if inv.args else ""
    if match and not summaries and inv.typed == "images" and match in _AMBIGUOUS:
        out.err(f'\nNo images found matching "{match}": did you mean "docker image {match}"?\n')


def _rmi(client: Engine, inv: Invocation, out: Printer, stdin, progress: bool) -> None:
    """cli/command/image/remove.go:62-106: each image in turn; the errors at the end, joined.
    With --force, "No such image" errors are printed but the exit code is 0 (unless another
    error came too)."""
    _platform(inv)
    force = bool(inv.flags.get("force"))
    errors = []
    fatal = False
    for name in inv.args:
        try:
            for action, what in client.remove(name, force=force):
                out.line(f"{action}: {what}")
        except CommandFailed as failure:
            errors.append(failure.text)
            if not _not_found(failure.text):  # remove.go:78-81: errdefs.IsNotFound
                fatal = True
    if errors:
        if not force or fatal:
            raise CommandFailed("\n".join(errors))
        out.err("\n".join(errors) + "\n")


def _inspect_one(client: Engine, name: str) -> dict[str, Any] | None:
    image = client.find_image(name)
    if image is None:
        return None
    config = image.config_json
    container = config.get("config", {})
    # daemon/images/image_inspect.go:32 walks referenceStore.References, sorted by the full
    # reference string (reference/store.go:53-59,274), then shows the familiar forms
    repo_tags = [_familiar_ref(t) for t in sorted(client.store.tags_of(image.id))]
    repo_digests = [_familiar_ref(d) for d in sorted(client.store.digests_of(image.id))]
    return {
        "Id": image.id,
        "RepoTags": repo_tags,
        "RepoDigests": repo_digests,
        "Parent": "",
        "Comment": "buildkit.dockerfile.v0",
        "Created": config.get("created", ""),
        "DockerVersion": "",
        "Author": "",
        "Config": {
            "Env": container.get("Env"),
            "Cmd": container.get("Cmd"),
            "WorkingDir": container.get("WorkingDir", ""),
            "Entrypoint": container.get("Entrypoint"),
            "Labels": container.get("Labels"),
        },
        "Architecture": config.get("architecture", ""),
        "Os": config.get("os", ""),
        "Size": image.size,
        "GraphDriver": {"Data": None, "Name": "labkit-simulated"},
        "RootFS": {"Type": "layers", "Layers": [layer.diff_id for layer in image.layers]},
        "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
    }


def _familiar_ref(key: str) -> str:
    try:
        return parse_reference(key).familiar
    except InvalidReference:
        return key


# cli/command/system/inspect.go:42-53
_INSPECT_TYPES = (
    "config",
    "container",
    "image",
    "network",
    "node",
    "plugin",
    "secret",
    "service",
    "task",
    "volume",
)


def _not_found(text: str) -> bool:
    """Whether a daemon error is a 404 (errdefs.NotFound)."""
    return text.startswith("Error response from daemon: No such image: ") or text == (
        "Error response from daemon: page not found"
    )


def _inspect(client: Engine, inv: Invocation, out: Printer, stdin, progress: bool) -> None:
    """cli/command/inspect/inspector.go:73-106: the template parsed first (exit 64 when it does
    not parse), then each name in the order given; errors after what was found."""
    if inv.command == "image inspect":
        _platform(inv)
    fmt = str(inv.flags.get("format") or "")
    kind = str(inv.flags.get("type") or "") if inv.command == "inspect" else "image"
    if inv.command == "inspect" and "type" in inv.given and not kind:  # system/inspect.go:72-73
        quoted = '", "'.join(_INSPECT_TYPES)
        raise CommandFailed(f'type is empty: must be one of "{quoted}"')
    if kind not in ("", *_INSPECT_TYPES):  # cli/command/system/inspect.go:96-104
        quoted = '", "'.join(_INSPECT_TYPES)
        raise CommandFailed(f'unknown type: "{kind}": must be one of "{quoted}"')
    if kind not in ("", "image", "container"):
        raise CommandFailed(
            f"labkit: docker inspect --type {kind} is not simulated (labkit has images only)"
        )
    template = None
    if fmt and fmt != "json":
        try:
            template = formats.parse(fmt)
        except formats.TemplateError as error:
            raise CommandFailed(f"template parsing error: {error}", 64) from None
    found: list[Any] = []  # texts from a --format template, else inspect dicts
    errors: list[str] = []
    for name in inv.args:
        data = None if kind == "container" else _inspect_one(client, name)
        if data is not None and inv.flags.get("size"):
            out.err("WARNING: --size ignored for image\n")  # system/inspect.go:272-274
        if data is None:
            if kind in ("", "container") and not name.strip():
                # client/container_inspect.go:15 trimID: tried first, not a skippable error
                errors.append("invalid container name or ID: value is empty")
            elif kind == "container":
                errors.append(f"Error response from daemon: No such container: {name}")
            elif inv.command == "inspect" and kind == "":
                # cli/command/system/inspect.go: not found and "invalid reference format"
                # errors are skipped over to the next object type, then "No such object"
                errors.append(f"Error: No such object: {name}")
            elif name == "":  # the client's own objectNotFoundError (client/image_inspect.go:16-17)
                errors.append("Error: No such image: ")
            else:
                try:
                    client.get_image(name)
                except CommandFailed as failure:
                    errors.append(failure.text)
            continue
        if template is not None:
            result = formats.inspect(
                fmt, [(formats.image_inspect_value(data), formats.raw_json(data))]
            )
            if result.errors:
                errors.extend(result.errors)
                continue
            found.append(result.stdout)
        else:
            found.append(data)
    if template is not None:
        out.out("".join(found) or "\n")
    elif fmt == "json":
        out.line(go_json(found).decode() if found else "[]")
    else:
        out.line(go_json(found, indent="    ").decode() if found else "[]")
    if errors:
        raise CommandFailed("\n".join(errors))


def _tagged(name: str) -> str:
    try:
        return parse_reference(name).with_default_tag().familiar
    except InvalidReference:
        return name


def _history(client: Engine, inv: Invocation, out: Printer, stdin, progress: bool) -> None:
    """cli/command/image/history.go:58-85 and formatter_history.go: the daemon's entries,
    newest first, through the history format."""
    _platform(inv)
    image = client.get_image(inv.args[0])
    now = datetime.now(UTC) if client.world.clock.is_real else client.world.clock.now()
    history = image.config_json.get("history", [])
    layers = iter(reversed(image.layers))
    human = bool(inv.flags.get("human", True))
    rows = []
    for index, entry in enumerate(reversed(history)):
        empty = entry.get("empty_layer", False)
        size = 0 if empty else next(layers).size
        created = datetime.fromisoformat(entry["created"].replace("Z", "+00:00"))
        rows.append(
            formats.history_context(
                image_id=image.id if index == 0 else "<missing>",
                created_since=human_duration((now - created).total_seconds()) + " ago",
                created_at=created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                created_by=entry.get("created_by", ""),
                size=human_size(size) if human else str(size),
                comment=entry.get("comment", ""),
                human=human,
                trunc=not inv.flags.get("no-trunc"),
            )
        )
    fmt = str(inv.flags.get("format") or "") or "table"
    chosen = formats.history_format(fmt, quiet=bool(inv.flags.get("quiet")), human=human)
    try:
        out.out(formats.format_list(chosen, rows, formats.HISTORY_HEADER))
    except formats.TemplateError as error:
        raise CommandFailed(str(error)) from None


# -- login, logout ---------------------------------------------------------------------------


def _login(client: Engine, inv: Invocation, out: Printer, stdin: str | None, progress) -> None:
    """cli/command/registry/login.go:43-49 (verifyLoginFlags, on the flags as typed), then
    runLogin (login.go:108-139) with verifyLoginOptions (login.go:88-106) first."""
    username = str(inv.flags.get("username") or "")
    password = inv.flags.get("password")
    server = inv.args[0] if inv.args else None
    given = inv.given
    if "password-stdin" in given:
        if "password" in given:
            raise CommandFailed(
                "conflicting options: cannot specify both --password and --password-stdin"
            )
        if "username" not in given:
            raise CommandFailed("the --password-stdin option requires --username to be set")
    if "username" in given and not username:
        raise CommandFailed("username is empty")
    if "password" in given and not password:
        raise CommandFailed("password is empty")
    if password:
        out.err("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n")
    if inv.flags.get("password-stdin"):
        if not username:
            raise CommandFailed("username is empty")
        password = (stdin or "").removesuffix("\n").removesuffix("\r")
    if not username and not password:
        stored = client.stored_credential(server)
        if stored is not None:
            out.err(
                f"Authenticating with existing credentials... [Username: {stored.username}]\n\n"
                "i Info → To login with a different account, run 'docker logout' followed by "
                "'docker login'\n\n\n"
            )
            try:
                client.login(server, stored.username, stored.secret)
            except CommandFailed as failure:  # login.go:158-165, then loginUser (:196-200)
                if "unauthorized: " in failure.text:  # errdefs.IsUnauthorized: a 401
                    out.err("Stored credentials invalid or expired\n")
                else:
                    out.err(f"Login did not succeed, error: {failure.text.rstrip()}\n")
                raise CommandFailed(
                    "Error: Cannot perform an interactive login from a non TTY device"
                ) from None
            out.line("Login Succeeded")
            return
    if not username or not password:
        if client._replaying is not None and username:
            password = "********"
        else:
            raise CommandFailed("Error: Cannot perform an interactive login from a non TTY device")
    login = client.login(server, username, str(password))
    if login.stored:  # credentials that were already stored are not written again
        out.err(UNENCRYPTED_WARNING.format(path=login.config_path))
    out.line("Login Succeeded")


def _logout(client: Engine, inv: Invocation, out: Printer, stdin, progress: bool) -> None:
    out.line(f"Removing login credentials for {client.logout(inv.args[0] if inv.args else None)}")


# -- search, version -------------------------------------------------------------------------


def search_results(client: Engine, term: str, filters: list[str], limit: int) -> list[Any]:
    """What the daemon answers to GET /images/search (moby registry/search.go:26-80 and
    search_session.go:215-221 at v28.2.2): the filters checked in this order, then the
    repositories; the limit as the client sends it (0 when not given or not positive)."""
    args = _filter_args_of(filters)
    for name in args:
        if name not in ("is-automated", "is-official", "stars"):
            raise _invalid_filter(name)
    if _bool_filter(args, "is-automated"):
        return []
    official_only = _bool_filter(args, "is-official")
    min_stars = 0
    for value in args.get("stars", ()):
        try:
            stars = _go_atoi(value)
        except ValueError as error:
            raise daemon_error(f"invalid filter 'stars={value}': {error}") from None
        min_stars = max(min_stars, stars)
    hub_term = _search_term(client, term)
    limit = limit or SEARCH_DEFAULT_LIMIT
    if limit < 1 or limit > 100:
        raise daemon_error(f"limit {limit} is outside the range of [1, 100]")
    if hub_term is None:
        raise daemon_error("Unexpected status code 404")
    needle = hub_term.lower()
    registry = client.world.registry(DEFAULT_DOMAIN)
    found: list[Any] = []
    for path in registry.repository_paths():
        repo = registry.peek(path)
        if repo is None or repo.private or needle not in path.lower():
            continue
        if official_only is not None and repo.official != official_only:
            continue
        if repo.stars < min_stars:
            continue
        found.append(repo)
    found.sort(key=lambda r: (not r.official, -r.stars, r.path))
    return found[:limit]


def _search_term(client: Engine, term: str) -> str | None:
    """moby registry/search.go:85-136 (searchUnfiltered): a term with a scheme is refused;
    splitReposSearchTerm takes a first part with a "." or ":" (or "localhost") as a registry;
    Docker Hub (docker.io, index.docker.io) is searched for the rest without "library/". Any
    other registry is asked through the v1 API (search_endpoint_v1.go:35-70 pings it first):
    an unknown host fails the ping (the "invalid registry endpoint" text of a secure
    registry), and the simulated registries, like distribution, have no v1 API: 404
    (search_session.go:236-240), once the limit is checked. The term for Docker Hub's search,
    None for another registry."""
    if term.startswith(("http://", "https://")):
        raise daemon_error(
            f"invalid repository name: repository name ({term}) should not have a scheme"
        )
    first, slash, rest = term.partition("/")
    if not slash or ("." not in first and ":" not in first and first != "localhost"):
        return term.removeprefix("library/")
    if first in ("docker.io", "index.docker.io"):
        return rest.removeprefix("library/")
    if client.transport.canonical_host(first) is None:
        hostname = first.rsplit(":", 1)[0] if ":" in first else first
        raise daemon_error(
            f'invalid registry endpoint https://{first}/v1/: Get "https://{first}/v1/_ping": '
            f"dial tcp: lookup {hostname}: no such host. If this private registry supports "
            f"only HTTP or HTTPS with an unknown CA certificate, please add "
            f"`--insecure-registry {first}` to the daemon's arguments. In the case of HTTPS, "
            f"if you have access to the registry's CA certificate, no need for the flag; "
            f"simply place the CA certificate at /etc/docker/certs.d/{first}/ca.crt"
        )
    return None


def _filter_args_of(filters: list[str]) -> dict[str, list[str]]:
    args: dict[str, list[str]] = {}
    for item in filters:
        name, _, value = str(item).partition("=")
        values = args.setdefault(name, [])
        if value not in values:
            values.append(value)
    return args


def _go_atoi(text: str) -> int:
    """strconv.Atoi with its error text."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        raise ValueError(f'strconv.Atoi: parsing "{text}": invalid syntax')
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise ValueError(f'strconv.Atoi: parsing "{text}": value out of range')
    return value


def _search(client: Engine, inv: Invocation, out: Printer, stdin, progress: bool) -> None:
    """cli/command/registry/search.go:51-83."""
    filters = _flag_values(inv, "filter")
    if any(f.partition("=")[0] == "is-automated" for f in filters):
        out.err(
            'WARNING: the "is-automated" filter is deprecated, and searching for '
            '"is-automated=true" will not yield any results in future.\n'
        )
    given = int(cast(Any, inv.flags.get("limit")) or 0)  # the client sends a limit only when > 0
    found = search_results(client, inv.args[0], filters, given if given > 0 else 0)
    rows = [
        formats.search_context(
            name=repo.path.removeprefix("library/") if repo.official else repo.path,
            description=repo.description,
            star_count=repo.stars,
            is_official=repo.official,
            trunc=not inv.flags.get("no-trunc"),
        )
        for repo in found
    ]
    fmt = str(inv.flags.get("format") or "")
    chosen = formats.DEFAULT_SEARCH_TABLE if fmt in ("", "table") else fmt
    try:
        out.out(formats.format_list(chosen, rows, formats.SEARCH_HEADER))
    except formats.TemplateError as error:
        raise CommandFailed(str(error)) from None


VERSION_TEXT = """\
Client:
 Version:           28.2.2
 API version:       1.50
 Go version:        go1.24.3
 Git commit:        e6534b4
 Built:             Fri May 30 12:07:14 2025
 OS/Arch:           linux/amd64
 Context:           default

Server: labkit {version} (a simulation, no Docker Engine)
 Engine:
  Version:          28.2.2 (simulated)
  API version:      1.50 (minimum version 1.24)
  Image store:      classic (simulated in memory)
  OS/Arch:          linux/amd64
"""


def _version(client: Engine, inv: Invocation, out: Printer, stdin, progress: bool) -> None:
    """cli/command/system/version.go:148-215; with --format, the template (named "version")
    runs on versionInfo{Client, Server} and its output goes through a tabwriter (minwidth 20,
    padding 1); the Server part is labkit's simulated daemon."""
    fmt = str(inv.flags.get("format") or "")
    if not fmt:
        out.out(VERSION_TEXT.format(version=__version__))
        return
    try:
        template = formats.parse("{{json .}}" if fmt == "json" else fmt, name="version")
    except formats.TemplateError as error:
        raise CommandFailed(f"template parsing error: {error}", 64) from None
    partial: list[str] = []
    failed: formats.TemplateError | None = None
    try:
        text = template.execute(_version_info(), partial=partial)
    except formats.TemplateError as failure:
        text, failed = "".join(partial), failure
    out.out(formats.tabwrite(text + "\n", minwidth=20, padding=1))
    if failed is not None:
        raise CommandFailed(str(failed))


def _version_info() -> formats.Struct:
    """versionInfo (version.go:65-86): the client's as 28.2.2 reports it; the server labkit."""
    client_fields = {
        "Platform": formats.Struct("system.platformInfo", None, pointer=True),
        "Version": "28.2.2",
        "APIVersion": "1.50",
        "DefaultAPIVersion": "1.50",
        "GitCommit": "e6534b4",
        "GoVersion": "go1.24.3",
        "Os": "linux",
        "Arch": "amd64",
        "BuildTime": "Fri May 30 12:07:14 2025",
        "Context": "default",
    }
    client_json = {k if k != "APIVersion" else "ApiVersion": v for k, v in client_fields.items()}
    client_json.pop("Platform")
    server_fields = {
        "Platform": formats.Struct(
            "struct { Name string }", {"Name": f"labkit {__version__} (a simulation)"}
        ),
        "Components": formats.typed("[]types.ComponentVersion", None),
        "Version": "28.2.2",
        "APIVersion": "1.50",
        "MinAPIVersion": "1.24",
        "GitCommit": "",
        "GoVersion": "",
        "Os": "linux",
        "Arch": "amd64",
        "KernelVersion": "",
        "Experimental": False,
        "BuildTime": "",
    }
    return formats.Struct(
        "system.versionInfo",
        {
            "Client": formats.Struct(
                "system.clientVersion", client_fields, json=lambda: client_json
            ),
            "Server": formats.Struct("types.Version", server_fields, pointer=True),
        },
    )


Handler = Callable[[Engine, Invocation, Printer, "str | None", bool], None]

COMMANDS: dict[str, Handler] = {
    "image pull": _pull,
    "image push": _push,
    "image tag": _tag,
    "image ls": _images,
    "image rm": _rmi,
    "image inspect": _inspect,
    "inspect": _inspect,
    "image history": _history,
    "login": _login,
    "logout": _logout,
    "search": _search,
    "version": _version,
}


HERE_STRING = " <<< "


def split_here_string(line: str) -> tuple[str, str | None]:
    """``docker login -u x --password-stdin <<< 'secret'`` -> (command, stdin).

    The bash here-string is how scripts, transcripts and ``%%docker`` cells give standard
    input (for ``--password-stdin``); the word after ``<<<`` is unquoted like a shell word.
    """
    command, marker, rest = line.partition(HERE_STRING)
    if not marker:
        return line, None
    try:
        words = shlex.split(split_comment(rest)[0])
    except ValueError:
        words = [rest.strip()]
    return command.rstrip(), " ".join(words) + "\n"


def display_line(line: str) -> str:
    """How a transcript shows a line: any here-string input masked (a comment kept)."""
    command, stdin = split_here_string(line)
    if stdin is None:
        return command
    comment = split_comment(line.partition(HERE_STRING)[2])[1]
    return f"{command}{HERE_STRING}********{comment}"
