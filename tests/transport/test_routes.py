"""labkit.transport.routes: the one table of the HTTP API, and who uses it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from labkit import server
from labkit.transport import routes

LABKIT = Path(__file__).resolve().parent.parent.parent / "labkit"
PARAMS = {"name": "engineering/team/web-app", "reference": "1.0", "digest": "sha256:" + "a" * 64}
PARAMS["upload"] = "0f1e2d3c-0000-4000-8000-000000000000"


@pytest.mark.parametrize("route", routes.ROUTES, ids=lambda r: f"{r.method} {r.op}")
def test_every_route_matches_its_own_path(route: routes.Route) -> None:
    path = route.path(**{k: v for k, v in PARAMS.items() if "{" + k + "}" in route.template})
    found = routes.match(route.method, path)
    assert found is not None and found[0] == route


def test_paths_with_queries_and_unknown_routes() -> None:
    start = routes.route("start_upload")
    assert start.path([("from", "library/alpine"), ("mount", "sha256:x")], name="a/b") == (
        "/v2/a/b/blobs/uploads/?from=library%2Falpine&mount=sha256%3Ax"
    )
    assert routes.match("GET", "/v2") is not None  # the ping, with or without its slash
    assert routes.match("POST", "/v2/a/tags/list") is None
    assert routes.match("GET", "/v3/a/tags/list") is None
    assert [r.op for r, _ in routes.path_matches("/v2/a/blobs/uploads/x")] == [
        "upload_status",
        "upload_status",
        "upload_chunk",
        "finish_upload",
        "cancel_upload",
    ]


def test_docker_writes_push_and_pull_as_one_scope() -> None:
    put = routes.route("put_manifest")
    assert routes.scope_texts(put.scopes("fredysa/app")) == ["repository:fredysa/app:push,pull"]
    assert routes.scope_texts(routes.route("catalog").scopes("")) == ["registry:catalog:*"]


def test_the_server_answers_every_operation_of_the_table_and_nothing_else() -> None:
    operations = {r.op for r in routes.ROUTES} - {"token"}
    assert set(server.KINDS) == operations
    handled = set(server.KINDS.values()) - {"base", "catalog"}
    assert all(hasattr(server.RegistryHandler, f"on_{kind}") for kind in handled)


def test_nothing_sets_attributes_on_registries() -> None:
    """The recording transport records; it never patches a registry (no setattr anywhere)."""
    for path in LABKIT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr":
                pytest.fail(f"setattr in {path.relative_to(LABKIT.parent)}:{node.lineno}")
