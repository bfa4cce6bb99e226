"""The real Docker 28.2.2 client renders labkit's daemon answers (tests/engine_stub.py); what
it prints must be what labkit prints for the same command line on the same world.

This is the oracle for everything the client decides once the daemon has answered: tables,
--format (labkit.formats), error texts and exit codes, hints. What the daemon decides (which
images match a filter, which error) is labkit's on both sides; the transcript tests cite the
moby sources for those.

Each case runs on two identical worlds (real clock, so "N months ago" agrees): one behind the
stub for the real client, one for labkit. Rows of one image come in Go map order from the real
client (cli/command/formatter/image.go:149 ranges over a map): such cases compare lines as
sets (``unordered``).
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest
from engine_stub import EngineStub

from labkit.world import Clock, World

NO_CLIENT = shutil.which("docker") is None
live = [
    pytest.mark.skipif(NO_CLIENT, reason="the real docker client is not installed"),
    pytest.mark.slow,  # about a minute: two worlds and two clients per case
]

STUDENT = "student"
SETUP = [
    "docker pull alpine:3.21",
    "docker pull nginx:1.27",
    "docker tag alpine:3.21 me/app:1.0",
    "docker tag alpine:3.21 localhost:5000/alpine:1",
    "docker tag alpine:3.21 zz:1",
]

# (command line without "docker", source line of what is checked, unordered)
CASES = [
    # docker images: cli/command/image/list.go, cli/command/formatter/image.go
    ("images", "formatter/image.go:14 default table", True),
    ("images -q", "formatter/image.go:42 {{.ID}} per row", False),
    ("images --no-trunc", "formatter/image.go:217-222", True),
    ("images --digests", "formatter/image.go:15", True),
    ("images alpine", "image_list.go:161-176 FamiliarMatch on the name", False),
    ("images alpine:3.21 --digests", "image_list.go:166 digest refs do not match a tag", False),
    ("images docker.io/library/alpine", "helpers.go:36 familiar forms only", False),
    ("images 'al*'", "path.Match glob", False),
    ("images '[x'", "path.Match ErrBadPattern from the daemon", False),
    ("images ls", "list.go:132-134 the ambiguous-argument hint", False),
    ("images ''", "list.go:80-81 an empty argument is no filter", True),
    ("image ls ls", "list.go:132 only when called as images", False),
    ("images --filter reference=nginx", "image_list.go:162", False),
    ("images --filter dangling=true", "image_list.go:42 GetBoolOrDefault", False),
    ("images --filter dangling=maybe", "filters/parse.go:213-215", False),
    ("images --filter foo=bar", "filters/parse.go:272-279", False),
    ("images --filter before=nginx:1.27", "image_list.go:48-62", True),
    ("images --filter since=nope", "image_list.go:83-86 GetImage error", False),
    ("images --format '{{.Repository}}:{{.Tag}}'", "formatter.go:116-134", True),
    ("images --format 'table {{.ID}}\\t{{.Size}}'", "formatter.go:88-98 header", True),
    ("images --format json", "formatter.go:67-68", True),
    ("images --format '{{json .}}'", "image.go:213 MarshalJSON", True),
    ("images --format '{{.Foo}}'", "formatter.go:102-104 execution error", False),
    ("images --format '{{'", "formatter.go:76-82 parse error", False),
    ("images --format 'table'", "formatter.go:65-66", True),
    ("images -q --format '{{.Repository}}'", "image.go:70 quiet ignored with a format", True),
    ("images --digests --format 'table {{.ID}}'", "image.go:71-73 digest column added", True),
    ("images --format '{{.Header}}|{{.Containers}}|{{.CreatedAt}}'", "image.go:186-282", True),
    # docker image inspect: cli/command/inspect/inspector.go
    ("image inspect alpine:3.21", "inspector.go:159-172 indented raw JSON", False),
    ("image inspect nope", "inspector.go:99-104 exit 1", False),
    ("image inspect alpine:3.21 nope nginx:1.27", "inspector.go:83-94 order", False),
    ("image inspect --format '{{.RepoDigests}}' alpine:3.21", "typed []string", False),
    ("image inspect --format '{{.Id}} {{.ID}} {{.Size}}' alpine:3.21", "raw fallback", False),
    ("image inspect --format '{{json .Config}}' alpine:3.21", "json of a pointer", False),
    ("image inspect --format '{{.Config}}' alpine:3.21", "printableValue", False),
    ("image inspect --format '{{.Nope}}' alpine:3.21 nope", "missingkey=error", False),
    ("image inspect --format '{{join .RepoTags \",\"}}' alpine:3.21", "join typed", False),
    ("image inspect --format '{{range .RootFS.Layers}}{{.}}{{end}}' alpine:3.21", "range", False),
    ("image inspect --format '{{.Metadata}} {{.GraphDriver}}' alpine:3.21", "structs", False),
    ("image inspect --format json alpine:3.21", "inspector.go:56-58", False),
    (
        "image inspect -f '{{json .RepoTags}}' alpine:3.21",
        "json of a typed []string (the order is the daemon's: inspect-history transcript)",
        False,
    ),
    ("image inspect --format '{{' alpine:3.21", "inspector.go:77-80 exit 64", False),
    # docker inspect: cli/command/system/inspect.go
    ("inspect alpine:3.21", "inspect.go:249-276 the image after the container", False),
    ("inspect nope", "inspect.go:266-268,277 skipped, then No such object", False),
    ("inspect UPPER", "inspect.go:281-285 invalid reference format is skipped", False),
    ("inspect --type image nope", "inspect.go:266-270 not skipped with a type", False),
    ("inspect --type container alpine:3.21", "inspect.go:250", False),
    ("inspect --type bogus alpine:3.21", "inspect.go:96-104", False),
    ("inspect -s alpine:3.21", "inspect.go:272-274 --size ignored", False),
    ("inspect --format '{{.RepoTags}}' alpine:3.21 nope", "inspector.go", False),
    # docker rmi, tag: cli/command/image/remove.go, tag.go
    ("rmi me/app:1.0", "remove.go untagged", False),
    ("rmi nope", "remove.go error", False),
    ("rmi nope alpine:3.21", "remove.go partial failure", False),
    ("rmi -f nope", "remove.go:78-81,98-103 not found with --force: exit 0", False),
    ("rmi -f nope alpine:3.21", "remove.go:98-103", False),
    ("rmi -f UPPER nope", "remove.go:79-81 another error is fatal", False),
    ("rmi b36c497a8b3e", "image_delete.go conflict: several references", False),
    ("rmi -f b36c497a8b3e", "image_delete.go forced", False),
    ("tag alpine:3.21 new/name:2", "tag.go", False),
    ("tag nope:1 new/name:2", "daemon No such image", False),
    # names the client passes through unparsed: the daemon's GetImage parses them
    # (moby daemon/images/image.go:200-203)
    ("rmi UPPER", "image.go:202 InvalidParameter", False),
    ("image inspect UPPER alpine:3.21", "image.go:202", False),
    ("history UPPER", "image.go:202", False),
    ("images --filter before=UPPER", "image_list.go:49", False),
    ("rmi sha256:", "reference error", False),
    # empty and blank names: the client's path.Join sends DELETE /images (no route: 404, not
    # fatal with -f, remove.go:78-81), a blank one reaches the route (image_routes.go:320-324);
    # inspect's own empty-name errors (client/image_inspect.go:16-17, container_inspect.go:15)
    ("rmi ''", "client.delete(/images/) -> /images: page not found", False),
    ("rmi ' '", "image_routes.go:322-324", False),
    ("rmi -f '' alpine:3.21", "remove.go:78-81", False),
    ("image inspect '' alpine:3.21", "client/image_inspect.go:16-17", False),
    ("inspect '' alpine:3.21", "client/container_inspect.go:15 trimID first", False),
    ("inspect --type '' alpine:3.21", "system/inspect.go:72-73", False),
    # docker history: cli/command/image/history.go, formatter_history.go
    ("history alpine:3.21", "formatter_history.go:15", False),
    ("history -q alpine:3.21", "formatter_history.go:26-27", False),
    ("history --no-trunc nginx:1.27", "formatter_history.go:74-79,97-103", False),
    ("history --human=false alpine:3.21", "formatter_history.go:16,84-86,105-110", False),
    ("history --format '{{.ID}}|{{.CreatedBy}}|{{json .}}' alpine:3.21", "formatter", False),
    ("history --format 'table {{.Size}}\t{{.Comment}}' nginx:1.27", "header", False),
    ("history nope", "GetImage", False),
    # --platform: the client's platforms.Parse (vendor/github.com/containerd/platforms/
    # platforms.go:222-297) before any request
    ("history --platform 'Lin ux' alpine:3.21", "history.go:60-64 wrapped", False),
    ("history --platform 'linux/*' alpine:3.21", "platforms.go:223-226", False),
    ("history --platform linux/arm64/v8 -q alpine:3.21", "platforms.go:286-293 valid", False),
    ("image inspect --platform linux/amd64/v2/x -f x alpine:3.21", "inspect.go:60-64", False),
    ("image inspect --platform windows -f '{{.Os}}' alpine:3.21", "platforms.go:257-264", False),
    ("rmi --platform linuxx nope", "remove.go:68-72, platforms.go:276", False),
    ("rmi --platform 'linux/ä' nope", "platforms.go:243-245", False),
    # rmi's --platform is pflag's stringSlice: one record of Go's encoding/csv (string_slice.go)
    ("rmi --platform 'linux/a\"b' nope", "encoding/csv ErrBareQuote", False),
    ("rmi --platform '\"lin\"ux' nope", "encoding/csv ErrQuote", False),
    ("rmi --platform '\"linux' nope", "encoding/csv ErrQuote at the end", False),
    ("rmi --platform '\"linux\",' nope", "an empty element is parsed", False),
    # docker search: cli/command/registry/search.go, moby registry/search.go
    ("search nginx", "formatter_search.go:12", False),
    ("search --limit 2 alpine", "search_session.go:216", False),
    ("search --limit 0 alpine", "image_search.go:22 limit not sent", False),
    ("search --limit 101 alpine", "search_session.go:219", False),
    ("search --no-trunc alpine", "formatter_search.go:68", False),
    ("search --filter is-official=true alpine", "search.go:36", False),
    ("search --filter is-official=yes alpine", "filters GetBoolOrDefault", False),
    ("search --filter stars=x alpine", "search.go:46-48", False),
    ("search --filter stars=100 --filter stars=5 alpine", "search.go:44-52", False),
    ("search --filter foo=bar alpine", "search.go:27", False),
    ("search --filter is-automated=true alpine", "search.go:53 warning; empty", False),
    ("search --format '{{.Name}} {{.StarCount}} {{.IsOfficial}}' nginx", "formatter", False),
    ("search --format '{{json .}}' --limit 2 nginx", "searchContext.MarshalJSON", False),
    ("search --format 'table {{.Name}}\\t{{.Description}}' nginx", "header", False),
    ("search --limit 2 docker.io/library/alpine", "search.go:96-99 Hub by name", False),
    ("search https://docker.io/alpine", "search.go:86-88 scheme", False),
    ("search localhost:5000/alpine", "search_session.go:236-240 no v1 API", False),
    ("search nosuch.example.com/x", "search_endpoint_v1.go:56-62", False),
]


def world_after_setup() -> World:
    world = World.default()
    client = world.client(STUDENT)
    for line in SETUP:
        assert client.run(line).exit_code == 0, line
    return world


def compare(line: str, stub: EngineStub, labkit_world: World, unordered: bool) -> None:
    real = stub.docker(*shlex.split(line))
    ours = labkit_world.client(STUDENT).run(f"docker {line}")
    got = (ours.stdout, ours.stderr, ours.exit_code)
    want = (real.stdout, real.stderr, real.returncode)
    if unordered:
        got = (sorted(got[0].splitlines()), got[1], got[2])
        want = (sorted(want[0].splitlines()), want[1], want[2])
    assert got == want


@live[0]
@live[1]
@pytest.mark.parametrize(("line", "source", "unordered"), CASES, ids=[c[0] for c in CASES])
def test_the_real_client_prints_what_labkit_prints(line: str, source: str, unordered: bool) -> None:
    # mutating commands get worlds of their own
    world_real = world_after_setup()
    world_ours = world_after_setup()
    with EngineStub(world_real.client(STUDENT)) as stub:
        compare(line, stub, world_ours, unordered)
        # and the daemon's state after it: the same images
        compare("images --format '{{.Repository}}:{{.Tag}} {{.ID}}'", stub, world_ours, True)


# -- recordings: the real client's answers kept for machines without it ---------------------

RECORDED = Path(__file__).parent / "data" / "engine-oracle" / "recorded.json"


def fixed_world() -> World:
    world = World.default(clock=Clock.fixed())
    client = world.client(STUDENT)
    for line in SETUP:
        assert client.run(line).exit_code == 0, line
    return world


def record() -> None:
    """Run every case with the real client on fixed-clock worlds (the stub shifts creation
    times so that "N months ago" agrees); keep the cases whose output does not depend on that
    shift (absolute creation times), with what the real client printed."""
    kept, skipped = [], []
    for line, source, unordered in CASES:
        world_real, world_ours = fixed_world(), fixed_world()
        with EngineStub(world_real.client(STUDENT)) as stub:
            real = stub.docker(*shlex.split(line))
        ours = world_ours.client(STUDENT).run(f"docker {line}")
        same = (ours.stdout, ours.stderr, ours.exit_code) == (
            real.stdout,
            real.stderr,
            real.returncode,
        )
        if unordered:
            same = (sorted(ours.stdout.splitlines()), ours.stderr, ours.exit_code) == (
                sorted(real.stdout.splitlines()),
                real.stderr,
                real.returncode,
            )
        entry = {"line": line, "source": source, "unordered": unordered}
        if same:
            kept.append(
                {**entry, "stdout": real.stdout, "stderr": real.stderr, "exit": real.returncode}
            )
        else:
            skipped.append(line)
    RECORDED.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "source": "Docker 28.2.2 client against tests/engine_stub.py "
        "(python tests/test_engine_oracle.py)",
        "live_only": skipped,
        "cases": kept,
    }
    RECORDED.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"recorded {len(kept)} cases, {len(skipped)} live only")


def recorded_cases() -> list[dict]:
    return json.loads(RECORDED.read_text())["cases"] if RECORDED.exists() else []


@pytest.mark.parametrize("case", recorded_cases(), ids=[c["line"] for c in recorded_cases()])
def test_labkit_prints_what_the_real_client_printed(case: dict) -> None:
    """The recordings, without the real client: labkit on a fixed-clock world."""
    ours = fixed_world().client(STUDENT).run(f"docker {case['line']}")
    got = (ours.stdout, ours.stderr, ours.exit_code)
    want = (case["stdout"], case["stderr"], case["exit"])
    if case["unordered"]:
        got = (sorted(got[0].splitlines()), got[1], got[2])
        want = (sorted(want[0].splitlines()), want[1], want[2])
    assert got == want


if __name__ == "__main__":
    record()
