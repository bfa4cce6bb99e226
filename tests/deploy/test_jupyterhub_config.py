"""deploy/jupyterhub/jupyterhub_config.py read as JupyterHub reads it (the hub itself runs it in
tests/hub): what it takes from the course folder, and the two ways to log in."""

from __future__ import annotations

from pathlib import Path

from deploy.deploy_config import load_hub_config


def course(tmp_path: Path, with_token: bool = True) -> Path:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "students.txt").write_text("ann\n# a comment\n\nbob  # trailing comment\n")
    (tmp_path / "instructors.txt").write_text("teacher\n")
    if with_token:
        (tmp_path / "collect.token").write_text("abc123\n")
    return tmp_path


def test_a_course_on_unix_accounts(tmp_path: Path) -> None:
    config = load_hub_config(LABKIT_COURSE_DIR=str(course(tmp_path)), LABKIT_HUB_AUTH="pam")
    hub = config.JupyterHub
    assert hub.authenticator_class == "pam" and hub.spawner_class == "localprocess"
    assert config.Authenticator.allowed_users == {"ann", "bob", "teacher"}
    assert hub.load_groups["instructors"] == {"users": ["teacher"]}
    assert hub.load_groups["students"] == {"users": ["ann", "bob"]}
    assert hub.services == [{"name": "labkit-collect", "api_token": "abc123", "display": False}]
    roles = {role["name"]: role for role in hub.load_roles}
    assert roles["labkit-collector"]["services"] == ["labkit-collect"]
    assert not any(
        s.startswith(("admin:", "start:", "delete:", "servers"))
        for s in roles["labkit-collector"]["scopes"]
    )
    assert config.Spawner.environment["LABKIT_LABS_SOURCE"] == str(tmp_path / "notebooks")
    assert config.Spawner.args[0].endswith("deploy/jupyterhub/jupyter_server_config.py")


def test_trying_it_with_the_dummy_login(tmp_path: Path) -> None:
    config = load_hub_config(
        LABKIT_COURSE_DIR=str(course(tmp_path, with_token=False)),
        LABKIT_HUB_AUTH="dummy",
        LABKIT_HUB_DUMMY_PASSWORD="pw",
    )
    assert config.JupyterHub.authenticator_class == "dummy"
    assert config.JupyterHub.spawner_class == "simple"
    assert config.DummyAuthenticator.password == "pw"
    # without a token file there is no service, and no role names it
    assert "services" not in config.JupyterHub
    roles = {role["name"]: role for role in config.JupyterHub.load_roles}
    assert "services" not in roles["labkit-collector"]
