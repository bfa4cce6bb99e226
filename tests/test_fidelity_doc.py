"""docs/fidelity.md: every row of its tables (Content, The client, Registries) is tested.

ROWS names, for the first cell of each row, the tests that hold labkit to what the row says:
test functions (``tests/file.py::name``, which must exist) and golden transcript lines
(``transcript:NAME:LINE``, which must be in tests/transcripts/NAME.script, where its expected
output is checked). A row without an entry, or an entry without its row, fails here. The rows
no other test covers are tested below.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
from pathlib import Path

import pytest

from labkit import oci
from labkit.accounts import ANONYMOUS
from labkit.client import Client
from labkit.world import Clock, World

ROOT = Path(__file__).parent.parent
DOC = ROOT / "docs" / "fidelity.md"
TABLES = ("## Content", "## The client", "## Registries")
HERE = "tests/test_fidelity_doc.py"

ROWS: dict[str, list[str]] = {
    # Content
    "Layer sizes": [f"{HERE}::test_layers_are_tens_of_kilobytes_and_sizes_honest"],
    "Layer compression": [
        "tests/test_oci.py::test_gzip_member_round_trips",
        f"{HERE}::test_pulled_layers_are_gzip_members_with_stored_blocks",
    ],
    "Re-pushing a pulled layer": [f"{HERE}::test_a_pulled_layer_is_pushed_as_it_is"],
    "Platforms": [
        "tests/test_registry.py::test_index_needs_its_child_manifests_in_the_repository",
        f"{HERE}::test_the_linux_amd64_child_of_an_index_is_pulled",
    ],
    "Layer contents": [f"{HERE}::test_a_layer_is_a_small_root_file_system_naming_its_image"],
    # The client
    "Progress": [
        "tests/test_magic.py::test_cell_magic_progress_option_shows_the_stream",
        "tests/test_engine_oracle_flows.py::test_labkit_prints_what_the_real_client_showed",
    ],
    "`--format` (`images`, `image ls`, `image inspect`, `inspect`, `history`, `search`, "
    "`version`)": [
        "tests/test_formats.py::test_parse_errors_are_the_real_clients",
        "tests/test_formats.py::test_execution_errors_are_gos",
        "tests/test_engine_oracle.py::test_labkit_prints_what_the_real_client_printed",
    ],
    "`--format` printing a nested pointer (`{{.Config}}` prints a struct, but a pointer "
    "*inside* a printed struct)": ["tests/test_formats.py::test_documented_differences"],
    "`printf` verbs": ["tests/test_formats.py::test_execution"],
    "Complex number constants in a template (`{{1i}}`)": [
        "tests/test_formats.py::test_documented_differences"
    ],
    "`docker images --tree`": [
        "transcript:images:docker images --tree",
        "transcript:flags:docker images --tree -q",
    ],
    "`--platform` (pull, push, rmi, image inspect, history)": [
        "transcript:flags:docker rmi --platform bogus extra/alpine:1",
        "tests/test_engine_oracle_flows.py::test_labkit_prints_what_the_real_client_showed",
        f"{HERE}::test_a_valid_platform_selects_nothing",
    ],
    "`docker inspect --type`": [
        "transcript:flags:docker inspect --type images alpine:3.21",
        f"{HERE}::test_inspect_types_without_objects",
    ],
    "`docker image inspect`": [f"{HERE}::test_image_inspect_has_the_documented_fields"],
    "`docker version`": ["transcript:help-usage:docker version"],
    "`docker search`": [
        "transcript:search:docker search localhost:5000/alpine",
        "transcript:search:docker search docker.io/library/alpine --limit 2",
        f"{HERE}::test_search_ranks_official_first_then_stars",
    ],
    "`docker login`": [
        "transcript:login-logout:docker login -u fredysa",
        f"{HERE}::test_credentials_are_stored_in_base64",
    ],
    "Wrong password on a registry other than Docker Hub": [
        f"{HERE}::test_a_wrong_password_elsewhere_is_unauthorized"
    ],
    "`docker login` to `localhost:5000`": [
        "transcript:login-logout:docker login localhost:5000 -u anyone -p anything"
    ],
    "Commands other than the image ones (`run`, `ps`, `build`, ...)": [
        f"{HERE}::test_container_commands_name_what_is_simulated"
    ],
    "A line that is not `docker ...`": ["transcript:help-usage:ls -l"],
    "Shell syntax": [
        "tests/test_shell.py::test_a_comment_starts_a_word_as_in_bash",
        "tests/test_shell.py::test_split_here_string",
    ],
    "Values in an invalid boolean filter's error (`invalid filter 'dangling=[true false]'`)": [
        f"{HERE}::test_invalid_filter_values_in_the_order_given"
    ],
    "Row order of `docker images` within one image": [
        f"{HERE}::test_rows_of_one_image_are_sorted_by_full_name"
    ],
    "The terminal": [
        "tests/test_engine_oracle_flows.py::test_the_real_client_on_a_terminal_shows_what_labkit_prints",
        "tests/test_engine_oracle_flows.py::test_labkit_prints_what_the_real_client_showed",
        "tests/test_magic.py::test_interactive_login_shows_a_password_box_instead_of_prompting",
    ],
    "`docker logout SERVER`": [
        "transcript:login-logout:docker logout docker.io",
        "tests/test_engine_oracle_flows.py::test_labkit_prints_what_the_real_client_showed",
    ],
    "Logging in again with the same credentials": [
        "tests/test_engine_oracle_flows.py::test_labkit_prints_what_the_real_client_showed"
    ],
    "An unknown registry host": ["transcript:pull:docker pull nosuch.example.com/thing:1.0"],
    "Global options (`--config`, `-H`, ...)": [
        "tests/test_commandline.py::test_global_flags_before_the_command"
    ],
    "Clock": [f"{HERE}::test_a_fixed_clock_prints_the_same_ages"],
    # Registries
    "Anonymous push": [
        "tests/test_registry.py::test_anonymous_push_on_hub_is_denied",
        "tests/test_registry.py::test_anonymous_push_on_private_on_push_is_unauthorized",
    ],
    "Pull of a private or missing repository": [
        "tests/test_registry.py::test_a_private_repository_looks_exactly_like_a_missing_one",
        "tests/wire/test_differential_pull_errors.py::test_engine_pull_errors_follow_distribution",
    ],
    "Blobs of a failed push": [
        "tests/test_registry.py::test_a_failed_push_step_changes_nothing_visible"
    ],
    "Docker Hub accounts": [
        "tests/test_accounts.py::test_invalid_docker_ids_are_refused_with_the_rule"
    ],
    "Amazon ECR": [
        "tests/test_registry.py::test_ecr_refuses_a_push_until_the_repository_is_created"
    ],
    "Vulnerability scanning": ["tests/test_widgets.py::test_scan_view_is_marked_simulated"],
}


def documented_rows() -> list[str]:
    text = DOC.read_text()
    rows = []
    for heading in TABLES:
        section = text[text.index(heading) :]
        section = section[: section.find("\n## ", 1)]
        for line in section.splitlines():
            if line.startswith("| ") and not line.startswith(("| What ", "|---")):
                rows.append(line[2:].split(" | ", 1)[0])
    return rows


def test_every_row_is_tested_and_every_entry_has_its_row() -> None:
    rows = documented_rows()
    assert len(rows) >= 30
    assert sorted(rows) == sorted(ROWS)


@pytest.mark.parametrize("row", sorted(ROWS))
def test_the_tests_named_for_a_row_exist(row: str) -> None:
    for name in ROWS[row]:
        if name.startswith("transcript:"):
            _, script, line = name.split(":", 2)
            lines = (ROOT / "tests" / "transcripts" / f"{script}.script").read_text().splitlines()
            assert any(text.split("  # ")[0].strip() == line for text in lines), name
        else:
            path, _, function = name.partition("::")
            assert re.search(rf"^def {function}\(", (ROOT / path).read_text(), re.M), name


# -- the rows no other test covers -----------------------------------------------------------


def pulled(*lines: str) -> Client:
    client = World.default(clock=Clock.fixed()).client()
    for line in ("docker pull alpine:3.21", *lines):
        assert client.run(line).exit_code == 0, line
    return client


def test_layers_are_tens_of_kilobytes_and_sizes_honest() -> None:
    client = pulled("docker pull nginx:1.27-alpine")
    image = client.get_image("nginx:1.27-alpine")
    assert all(len(layer.blob) < 200_000 for layer in image.layers)
    assert image.size == sum(layer.size for layer in image.layers)
    assert client.run("docker images nginx --format '{{.Size}}'").stdout.strip().endswith("kB")


def test_pulled_layers_are_gzip_members_with_stored_blocks() -> None:
    image = pulled().get_image("alpine:3.21")
    for layer in image.layers:
        assert layer.blob[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
        assert layer.blob[10] & 0b110 == 0  # BTYPE 00: a stored deflate block
        assert oci.sha256_digest(gzip.decompress(layer.blob)) == layer.diff_id


def test_a_pulled_layer_is_pushed_as_it_is() -> None:
    client = pulled("docker tag alpine:3.21 localhost:5000/mine:1")
    world = client.world
    assert client.run("docker push localhost:5000/mine:1").exit_code == 0
    local = client.get_image("alpine:3.21")
    registry = world.registry("localhost:5000")
    manifest = json.loads(registry.get_manifest(ANONYMOUS, "mine", "1").data)
    assert [layer["digest"] for layer in manifest["layers"]] == [
        layer.blob_digest for layer in local.layers
    ]


def test_the_linux_amd64_child_of_an_index_is_pulled() -> None:
    client = pulled("docker tag alpine:3.21 localhost:5000/multi:child")
    world = client.world
    assert client.run("docker push localhost:5000/multi:child").exit_code == 0
    registry = world.registry("localhost:5000")
    child = registry.get_manifest(ANONYMOUS, "multi", "child")
    descriptor = {
        "mediaType": child.media_type,
        "digest": oci.sha256_digest(child.data),
        "size": len(child.data),
        "platform": {"architecture": "amd64", "os": "linux"},
    }
    index = oci.go_json(
        {"schemaVersion": 2, "mediaType": oci.MEDIA_TYPE_OCI_INDEX, "manifests": [descriptor]}
    )
    registry.put_manifest(ANONYMOUS, "multi", "index", index)
    fresh = world.client("someone-else")
    result = fresh.run("docker pull localhost:5000/multi:index")
    assert result.exit_code == 0, result.stderr
    assert fresh.get_image("localhost:5000/multi:index").id == client.get_image("alpine:3.21").id


def test_a_layer_is_a_small_root_file_system_naming_its_image() -> None:
    image = pulled().get_image("alpine:3.21")
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(image.layers[0].blob))) as tar:
        os_release = tar.extractfile("etc/os-release")
        assert os_release is not None
        assert "alpine" in os_release.read().decode().lower()


def test_a_valid_platform_selects_nothing() -> None:
    world = World.default(clock=Clock.fixed())
    client = world.client()
    result = client.run("docker pull --platform linux/arm64 alpine:3.21")
    assert result.exit_code == 0
    assert client.run("docker image inspect -f '{{.Architecture}}' alpine:3.21").stdout == "amd64\n"
    assert client.run("docker history --platform windows/arm64 -q alpine:3.21").exit_code == 0


def test_inspect_types_without_objects() -> None:
    client = pulled()
    container = client.run("docker inspect --type container alpine:3.21")
    assert (container.exit_code, container.stderr) == (
        1,
        "Error response from daemon: No such container: alpine:3.21\n",
    )
    network = client.run("docker inspect --type network bridge")
    assert network.exit_code == 1
    assert network.stderr.startswith("labkit: docker inspect --type network is not simulated")


def test_image_inspect_has_the_documented_fields() -> None:
    client = pulled()
    data = json.loads(client.run("docker image inspect alpine:3.21").stdout)[0]
    assert list(data) == [
        "Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "DockerVersion",
        "Author", "Config", "Architecture", "Os", "Size", "GraphDriver", "RootFS", "Metadata",
    ]  # fmt: skip
    assert set(data["Config"]) <= {"Env", "Cmd", "WorkingDir", "Entrypoint", "Labels"}
    assert data["GraphDriver"]["Name"] == "labkit-simulated"


def test_search_ranks_official_first_then_stars() -> None:
    client = World.default(clock=Clock.fixed()).client()
    out = client.run("docker search --format '{{.StarCount}}|{{.IsOfficial}}' alpine").stdout
    rows = [(line.split("|")[1] == "[OK]", int(line.split("|")[0])) for line in out.splitlines()]
    assert rows == sorted(rows, key=lambda row: (not row[0], -row[1]))
    assert rows[0][0] and not rows[-1][0]


def test_credentials_are_stored_in_base64() -> None:
    world = World.default(clock=Clock.fixed())
    world.add_user("fredysa", "s3cret-pass", registry="docker.io")
    client = world.client()
    assert client.run("docker login -u fredysa --password-stdin", "s3cret-pass\n").ok
    auths = json.loads(client.config_json())["auths"]
    assert auths["https://index.docker.io/v1/"]["auth"] == "ZnJlZHlzYTpzM2NyZXQtcGFzcw=="


def test_a_wrong_password_elsewhere_is_unauthorized() -> None:
    world = World.default(clock=Clock.fixed())
    world.add_user("carol", "acme-pass-123", registry="registry.acme.com")
    result = world.client().run("docker login registry.acme.com -u carol -p wrong-pass-1")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        'Error response from daemon: Get "https://registry.acme.com/v2/": unauthorized: '
        "authentication required\n"
    )


def test_container_commands_name_what_is_simulated() -> None:
    result = World.default(clock=Clock.fixed()).client().run("docker run alpine")
    assert result.exit_code == 1
    assert result.stderr.startswith("labkit: ")


def test_rows_of_one_image_are_sorted_by_full_name() -> None:
    client = pulled("docker tag alpine:3.21 zz:1", "docker tag alpine:3.21 aa/x:1")
    out = client.run("docker images --format '{{.Repository}}:{{.Tag}}'").stdout.split()
    full = [name if "/" in name.split(":")[0] else f"library/{name}" for name in out]
    assert full == sorted(full)


def test_a_fixed_clock_prints_the_same_ages() -> None:
    first = pulled().run("docker images").stdout
    assert first == pulled().run("docker images").stdout
    assert "ago" in first


def test_invalid_filter_values_in_the_order_given() -> None:
    client = World.default(clock=Clock.fixed()).client()
    line = "docker images --filter dangling=true --filter dangling=false"
    assert client.run(line).stderr == (
        "Error response from daemon: invalid filter 'dangling=[true false]'\n"
    )
    line = "docker images --filter dangling=false --filter dangling=true"
    assert client.run(line).stderr == (
        "Error response from daemon: invalid filter 'dangling=[false true]'\n"
    )
