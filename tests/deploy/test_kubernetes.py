"""deploy/kubernetes/values.yaml: Zero to JupyterHub values for a class of 500, checked without a
cluster the way the chart checks itself (its tools/validate-against-schema.py): merged over the
chart's defaults as Helm merges them, then validated with jsonschema against the chart's own
values.schema.yaml, kept with its licence in deploy/kubernetes/z2jh-4.4.0/."""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import labkit

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
CHART = KUBE / "z2jh-4.4.0"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def helm_merge(defaults: Any, values: Any) -> Any:
    """Helm's coalescing of a values file over the chart's: maps merge key by key, anything
    else is replaced, and a null removes the chart's key."""
    if not (isinstance(defaults, dict) and isinstance(values, dict)):
        return copy.deepcopy(values)
    merged = copy.deepcopy(defaults)
    for key, value in values.items():
        if value is None:
            merged.pop(key, None)
        elif key in merged:
            merged[key] = helm_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return load(CHART / "values.schema.yaml")


@pytest.fixture(scope="module")
def merged() -> dict[str, Any]:
    return helm_merge(load(CHART / "values.yaml"), load(KUBE / "values.yaml"))


def errors(schema: dict[str, Any], values: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(values)
    ]


def test_the_chart_files_are_the_ones_recorded_with_their_source() -> None:
    source = (CHART / "SOURCE.md").read_text(encoding="utf-8")
    for name in ("values.schema.yaml", "values.yaml", "Chart.yaml", "LICENSE"):
        digest = hashlib.sha256((CHART / name).read_bytes()).hexdigest()
        assert f"`{name}`" in source and digest in source, name
    assert "BSD 3-Clause License" in (CHART / "LICENSE").read_text(encoding="utf-8")
    assert load(CHART / "Chart.yaml")["name"] == "jupyterhub"


def test_the_chart_defaults_pass_their_own_schema(schema: dict[str, Any]) -> None:
    assert errors(schema, load(CHART / "values.yaml")) == []


def test_our_values_pass_the_charts_schema(schema: dict[str, Any], merged: dict[str, Any]) -> None:
    assert errors(schema, merged) == []


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("a misspelt key", lambda v: v["singleuser"].update(memroy={"limit": "1G"})),
        ("a wrong type", lambda v: v["cull"].update(timeout="half an hour")),
        ("an unknown storage type", lambda v: v["singleuser"]["storage"].update(type="nfs")),
    ],
)
def test_the_schema_catches_mistakes(schema: dict[str, Any], merged: dict[str, Any], where, change):
    broken = copy.deepcopy(merged)
    change(broken)
    assert errors(schema, broken), f"the schema accepted {where}"


def test_helm_merge_follows_helm() -> None:
    assert helm_merge({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": 3, "c": None}, "d": [2]}) == {
        "a": {"b": 3},
        "d": [2],
    }


def megabytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([KMGT]i?)?", str(quantity)).groups()
    scale = {"K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 1024, "Mi": 2**20, "Gi": 2**30}
    return float(number) * scale.get(unit or "", 1) / 1e6


def test_a_class_of_500(merged: dict[str, Any]) -> None:
    singleuser = merged["singleuser"]
    assert singleuser["image"]["tag"] == labkit.__version__  # the pinned labkit
    memory = singleuser["memory"]
    # a student's server with a lab's kernel measured ~215 MB, a kernel ~60 MB (tests/hub):
    # the guarantee holds a server and two kernels; the limit is above it
    assert 300 <= megabytes(memory["guarantee"]) <= megabytes(memory["limit"])
    assert singleuser["storage"]["type"] == "dynamic"
    assert singleuser["storage"]["homeMountPath"] == "/home/jovyan"
    assert merged["cull"]["enabled"] and 0 < merged["cull"]["timeout"] <= 3600
    assert merged["hub"]["activeServerLimit"] >= 500
    collector = merged["hub"]["loadRoles"]["labkit-collector"]
    assert set(collector["scopes"]) == {
        "list:users",
        "read:users:groups",
        "access:servers",
        "custom:jupyter_server:read:*",
    }
    assert "labkit-collect" in merged["hub"]["services"]


def test_the_same_roles_as_on_one_machine(merged: dict[str, Any]) -> None:
    """The Kubernetes roles and scopes are those of deploy/jupyterhub/jupyterhub_config.py."""
    from deploy.deploy_config import load_hub_config

    config = load_hub_config()
    one_machine = {role["name"]: sorted(role["scopes"]) for role in config.JupyterHub.load_roles}
    cluster = {name: sorted(role["scopes"]) for name, role in merged["hub"]["loadRoles"].items()}
    assert cluster == one_machine
    assert merged["hub"]["config"]["JupyterHub"]["custom_scopes"] == dict(
        config.JupyterHub.custom_scopes
    )
    assert merged["hub"]["config"]["Spawner"]["oauth_client_allowed_scopes"] == list(
        config.Spawner.oauth_client_allowed_scopes
    )
