"""labkit.start registers a handler: every likely slip with a lab helper that a notebook shows
ends in a short message naming the mistake and the fix, never a traceback; a real bug inside
labkit still shows its traceback. Cells run in an in-process IPython shell."""

from __future__ import annotations

import pytest

pytest.importorskip("ipywidgets")

from IPython.core.interactiveshell import InteractiveShell

STUDENT = "friendly-student"


@pytest.fixture
def run(monkeypatch, tmp_path, capsys):
    for name in ("LABKIT_GRADING", "LABKIT_STUDENT", "JUPYTERHUB_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    shell = InteractiveShell.instance()
    monkeypatch.chdir(tmp_path)
    saved = shell.CustomTB, shell.custom_exceptions

    def run_cell(code: str) -> tuple[bool, str]:
        capsys.readouterr()
        result = shell.run_cell(code)
        return result.success, capsys.readouterr().out

    yield run_cell
    shell.CustomTB, shell.custom_exceptions = saved


def start(run, lab_id):
    ok, out = run(
        f"import labkit\nlab = labkit.start({lab_id!r}, student={STUDENT!r})\n"
        "me = lab.params['docker_id']"
    )
    assert ok, out


PUSHING = [
    ("lab.show('tag-for-acount')", ["no exercise 'tag-for-acount'", "tag-for-account"]),
    ("lab.show()", ["lab.show()", "exercise_id"]),
    ("lab.check('nope')", ["no exercise 'nope'"]),
    ("lab.hub.set_visibility(f'{me}/hello:1.0', True)", ["tag", "'stu", "/hello'"]),
    ("lab.hub.set_visibility(f'docker.io/{me}/hello', True)", ["registry", "/hello'"]),
    ("lab.hub.set_visibility(f'{me}/nothere', True)", ["no repository", "first push"]),
    ("lab.hub.set_visibility('library/alpine', True)", ["belongs to 'library'", "your own"]),
    ("lab.hub.set_visibility(42, True)", ["must be text", "quotes"]),
    ("lab.hub.set_visibility(f'{me}/hello', 'yes')", ["True or False"]),
    ("lab.hub.make_private(f'{me}/hello')", ["has no `make_private`", "set_visibility"]),
    ("lab.hub.create_token('admin')", ["unknown token scope 'admin'", "'write'"]),
    ("lab.world.hub('nobody42')", ["no user 'nobody42'"]),
    ("lab.world.scan('alpine:9.99')", ["alpine:9.99", "tags"]),
    ("lab.client.run(42)", ["docker", "text"]),
    ("lab.push_view('docker push x')", ["lab.client.run"]),
    (
        "from labkit.labs.pushing import pushed_manifest\n"
        "pushed_manifest(lab.client, f'{me}/nothere:1.0')",
        ["nothere", "push"],
    ),
    ("labkit.parse_reference(42)", ["text"]),
    ("lab.reset(confirm='yes')", ["True"]),
]

TEAMS = [
    ("acme.grant(org, 'QA', web, 'read')", ["no team 'QA'", "'qa'"]),
    ("acme.grant(org, 'qa', web, 'pull')", ["unknown permission 'pull'", "'read'"]),
    ("acme.grant(org, 'qa', f'registry.acme.com/{org}/{web}', 'read')", ["registry"]),
    ("acme.grant('engineerin', 'qa', web, 'read')", ["no organization 'engineerin'"]),
    ("acme.set_role(org, 'nobody42', 'owner')", ["no user 'nobody42'"]),
    ("acme.set_role(org, p['ops_member'] if 'ops_member' in p else me, 'boss')", ["role"]),
    ("lab.permissions('nosuchorg')", ["no organization 'nosuchorg'"]),
]


@pytest.mark.parametrize(("code", "words"), PUSHING, ids=[c for c, _ in PUSHING])
def test_slips_with_the_pushing_helpers_get_a_short_message(run, code, words):
    start(run, "04-pushing")
    ok, out = run(code)
    assert not ok, out
    assert "Traceback" not in out and "File " not in out, out
    assert out.startswith("✘ labkit: "), out
    for word in words:
        assert word in out, (word, out)
    assert len(out.splitlines()) <= 4, out


@pytest.mark.parametrize(("code", "words"), TEAMS, ids=[c for c, _ in TEAMS])
def test_slips_with_the_team_helpers_get_a_short_message(run, code, words):
    start(run, "05-organizations-and-teams")
    ok, out = run(
        "p = lab.params\norg, web = p['org'], p['web']\n"
        "acme = lab.world.hub(me, 'registry.acme.com')"
    )
    assert ok, out
    ok, out = run(code)
    assert not ok, out
    assert "Traceback" not in out and out.startswith("✘ labkit: "), out
    for word in words:
        assert word in out, (word, out)


def test_widgets_and_explain_show_a_bad_name_inside_their_output(run):
    start(run, "04-pushing")
    ok, out = run("lab.scan('alpine:9.99').widget.value")
    assert ok and "Cannot scan" in out and "alpine:9.99" in out and "3.21" in out, out
    ok, out = run("labkit.explain('https://docker.io/alpine')")
    assert ok and "https://" in out and "Traceback" not in out, out


def test_an_unknown_lab_is_named(run):
    ok, out = run("import labkit\nlabkit.start('04-pusing')")
    assert not ok and out.startswith("✘ labkit: ") and "04-pushing" in out, out


def test_a_bug_inside_labkit_keeps_its_traceback(run, monkeypatch):
    from labkit import world

    start(run, "04-pushing")

    def broken(self, reference):
        return {}["no such key"]

    monkeypatch.setattr(world.World, "scan", broken)
    ok, out = run("lab.world.scan('alpine:3.21')")
    assert not ok and "KeyError" in out and "Traceback" in out and "✘ labkit" not in out, out


def test_the_students_own_python_error_keeps_its_traceback(run):
    start(run, "04-pushing")
    ok, out = run("1 / 0")
    assert not ok and "ZeroDivisionError" in out and "✘ labkit" not in out, out
