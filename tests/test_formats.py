"""labkit.formats: Go's text/template and docker/cli's formatter, checked against the real
Docker 28.2.2 client (parse errors recorded in tests/data/docker-templates/) and against Go's
semantics for execution (text/template exec.go, funcs.go; docker/cli templates/templates.go)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from labkit import formats
from labkit.formats import Number, Struct, TemplateError, parse, raw_json, typed

DATA = Path(__file__).parent / "data" / "docker-templates"
PARSE_CASES = json.loads((DATA / "parse-errors.json").read_text())["cases"]


def run(template: str, data: object, **kwargs: object) -> str:
    return parse(template).execute(data, **kwargs)  # type: ignore[arg-type]


def error_of(template: str, data: object = None, **kwargs: object) -> str:
    with pytest.raises(TemplateError) as caught:
        run(template, data, **kwargs)
    return str(caught.value)


@pytest.mark.parametrize("case", PARSE_CASES, ids=[repr(c["template"]) for c in PARSE_CASES])
def test_parse_errors_are_the_real_clients(case: dict) -> None:
    """Recorded with the real client: exit 64 and the error, or the template parses."""
    try:
        parse(case["template"])
        got = ""
    except TemplateError as error:
        got = f"template parsing error: {error}\n"
    assert got == case["stderr"]


@pytest.mark.skipif(shutil.which("docker") is None, reason="the docker client is not installed")
def test_parse_errors_live_against_the_installed_client(tmp_path: Path) -> None:
    """The same check with the installed client, on a few cases (no daemon is contacted: the
    socket does not exist)."""
    env = {
        **os.environ,
        "DOCKER_HOST": f"unix://{tmp_path}/nobody.sock",
        "DOCKER_CONFIG": str(tmp_path),
    }
    for template in ("{{.A | }}", "{{range $i, $t, $u := .X}}{{end}}", "{{.A}}\n{{foo}}"):
        done = subprocess.run(
            ["docker", "image", "inspect", "--format", template, "x"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        try:
            parse(template)
            assert done.returncode == 1
        except TemplateError as error:
            assert (done.returncode, done.stderr) == (64, f"template parsing error: {error}\n")


RAW = raw_json(
    {
        "Id": "sha256:abc",
        "RepoTags": ["a:1", "b:2"],
        "Size": 123456789,
        "Config": {"Env": ["X=1"], "Labels": None},
    }
)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{.Id}}", "sha256:abc"),
        ("{{.RepoTags}}", "[a:1 b:2]"),  # fmt's %v of a slice
        ("{{json .RepoTags}}", '["a:1","b:2"]'),
        ("{{.Size}}", "123456789"),  # json.Number keeps the text (inspector.go:131 UseNumber)
        ("{{.Foo}}", "<no value>"),
        ("{{.Config.Env}}", "[X=1]"),
        ("{{range $i, $t := .RepoTags}}{{$i}}={{$t}} {{end}}", "0=a:1 1=b:2 "),
        ("{{range .RepoTags}}{{.}}{{break}}{{end}}", "a:1"),
        ('{{range .RepoTags}}{{if eq . "a:1"}}{{continue}}{{end}}{{.}}{{end}}', "b:2"),
        ("{{range .Nothing}}x{{else}}none{{end}}", "none"),
        ("{{range 3}}{{.}}{{end}}", "012"),
        ("{{len .RepoTags}} {{index .RepoTags 1}}", "2 b:2"),
        ("{{if .Foo}}x{{else if .Id}}y{{else}}z{{end}}", "y"),
        ("{{with .Config}}{{.Env}}{{end}}", "[X=1]"),
        ("{{with .Foo}}x{{else with .Id}}{{.}}{{end}}", "sha256:abc"),
        ('{{$x := .Id}}{{$x = "new"}}{{$x}} {{$.Id}}', "new sha256:abc"),
        (
            '{{printf "%s-%05d-%.2f-%q-%x-%v" .Id 42 3.14159 "q" 255 true}}',
            'sha256:abc-00042-3.14-"q"-ff-true',
        ),
        ('{{print 1 2 "a" 3}}|{{println 1 2}}', "1 2a3|1 2\n"),
        ('{{and 1 0}} {{or 0 "" "x"}} {{not .Foo}}', "0 x true"),
        ('{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}} {{ne 1 2}}', "true true true false true"),
        ("{{.Id | upper | lower | title}}", "Sha256:Abc"),
        ('{{split "a:b:c" ":"}} {{join (split "a:b" ":") "+"}}', "[a b c] a+b"),
        ('{{pad "x" 1 2}}|{{pad "" 1 2}}|{{truncate "abcdef" 3}}', " x  ||abc"),
        ("{{1.5}} {{1e6}} {{123456789.0}} {{0x1F}} {{'a'}}", "1.5 1e+06 1.23456789e+08 31 97"),
        ('{{/* a comment */}}a {{- " b " -}} c', "a b c"),
        ('{{define "t"}}<{{.}}>{{end}}{{template "t" .Id}}', "<sha256:abc>"),
        ('{{html "<a&b>"}} {{urlquery "a b&c"}} {{js "it\'s"}}', "&lt;a&amp;b&gt; a+b%26c it\\'s"),
        ('{{slice .Id 0 6}} {{index .Config "Env"}}', "sha256 [X=1]"),
    ],
)
def test_execution(template: str, expected: str) -> None:
    assert run(template, RAW) == expected


@pytest.mark.parametrize(
    ("template", "kwargs", "expected"),
    [
        (
            "{{.Foo}}",
            {"missingkey": "error"},
            'template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"',
        ),
        (
            "{{.Size.Foo}}",
            {},
            'template: :1:7: executing "" at <.Size.Foo>: can\'t evaluate field Foo in type interface {}',  # noqa: E501
        ),
        (
            "{{index .RepoTags 5}}",
            {},
            'template: :1:2: executing "" at <index .RepoTags 5>: error calling index: index out of range: 5',  # noqa: E501
        ),
        (
            '{{join .RepoTags ","}}',
            {},
            'template: :1:7: executing "" at <.RepoTags>: wrong type for value; expected []string; got []interface {}',  # noqa: E501
        ),
        (
            "{{upper .Size}}",
            {},
            'template: :1:8: executing "" at <.Size>: wrong type for value; expected string; got json.Number',  # noqa: E501
        ),
        (
            "{{lt 1 2.0}}",
            {},
            'template: :1:2: executing "" at <lt 1 2.0>: error calling lt: incompatible types for comparison',  # noqa: E501
        ),
        (
            "{{len 3}}",
            {},
            'template: :1:2: executing "" at <len 3>: error calling len: len of type int',
        ),
        (
            "{{1 2}}",
            {},
            'template: :1:2: executing "" at <1>: can\'t give argument to non-function 1',
        ),
        ("{{nil}}", {}, 'template: :1:2: executing "" at <nil>: nil is not a command'),
        (
            "{{join}}",
            {},
            'template: :1:2: executing "" at <join>: wrong number of args for join: want 2 got 0',
        ),
        (
            "{{range .Id}}{{end}}",
            {},
            'template: :1:8: executing "" at <.Id>: range can\'t iterate over sha256:abc',
        ),
        (
            "a\n  {{.Id.X}}",
            {},
            'template: :2:7: executing "" at <.Id.X>: can\'t evaluate field X in type interface {}',
        ),
    ],
)
def test_execution_errors_are_gos(template: str, kwargs: dict, expected: str) -> None:
    assert error_of(template, RAW, **kwargs) == expected


def test_typed_values_print_as_go_prints_them() -> None:
    tags = typed("[]string", ["a:1", "b:2"])
    assert run('{{.}} {{join . ", "}} {{len .}}', tags) == "[a:1 b:2] a:1, b:2 2"
    assert run("{{.}}", typed("map[string]string", {"b": "2", "a": "1"})) == "map[a:1 b:2]"
    assert run("{{.}}", typed("[]string", None)) == "[]"
    assert run("{{json .}}", typed("[]string", None)) == "null"
    assert run("{{.}}", Number("1.50")) == "1.50"


def test_struct_fields_methods_and_their_errors() -> None:
    value = Struct(
        "pkg.thing",
        {"Name": "n"},
        pointer=True,
        methods={"Upper": lambda: "N"},
        unexported=frozenset({"secret"}),
    )
    assert run("{{.Name}} {{.Upper}}", value) == "n N"
    assert error_of("{{.secret}}", value).endswith(
        "secret is an unexported field of struct type *pkg.thing"
    )
    assert error_of("{{.Nope}}", value).endswith("can't evaluate field Nope in type *pkg.thing")
    assert error_of("{{.Upper 1}}", value).endswith("wrong number of args for Upper: want 0 got 1")
    nil = Struct("pkg.thing", None, pointer=True)
    assert error_of("{{.Name}}", nil).endswith("nil pointer evaluating *pkg.thing.Name")


def test_tabwriter_is_gos_with_dockers_settings() -> None:
    """text/tabwriter: minwidth 10, padding 3; a line without a tab ends a column block."""
    text = "A\tBB\tC\nlonger-than-ten\tx\ty\nno tabs here\nP\tQ\n"
    assert formats.tabwrite(text) == (
        "A                 BB        C\nlonger-than-ten   x         y\nno tabs here\nP         Q\n"
    )


def image_row(**overrides: str) -> Struct:
    fields = {
        "image_id": "sha256:" + "ab" * 32,
        "repo": "alpine",
        "tag": "3.21",
        "digest": "<none>",
        "created_since": "2 weeks ago",
        "created_at": "2025-05-30 12:07:14 +0000 UTC",
        "size": "7.83MB",
        "virtual_size": "7.834MB",
    }
    return formats.image_context(**{**fields, **overrides})  # type: ignore[arg-type]


def test_format_list_table_header_json_and_errors() -> None:
    rows = [image_row(), image_row(repo="me/app", tag="1.0")]
    table = formats.format_list(formats.DEFAULT_IMAGE_TABLE, rows, formats.IMAGE_HEADER)
    assert table.splitlines() == [
        "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE",
        "alpine       3.21      abababababab   2 weeks ago   7.83MB",
        "me/app       1.0       abababababab   2 weeks ago   7.83MB",
    ]
    # the header functions leave column names alone (templates.go:42-69)
    custom = formats.format_list(
        "table {{upper .Repository}}\\t{{json .Tag}}", rows[:1], formats.IMAGE_HEADER
    )
    assert custom == 'REPOSITORY   TAG\nALPINE       "3.21"\n'
    assert formats.format_list("{{.Repository}}:{{.Tag}}", rows, {}) == "alpine:3.21\nme/app:1.0\n"
    line = formats.format_list("json", rows[:1], formats.IMAGE_HEADER)
    assert json.loads(line)["ID"] == "abababababab"
    assert list(json.loads(line)) == sorted(json.loads(line))  # a Go map: keys sorted
    with pytest.raises(
        TemplateError, match=r"^template parsing error: template: :1: unclosed action$"
    ):
        formats.format_list("{{", rows, formats.IMAGE_HEADER)
    with pytest.raises(
        TemplateError, match=r"can't evaluate field Foo in type \*formatter.imageContext"
    ):
        formats.format_list("{{.Foo}}", rows, formats.IMAGE_HEADER)
    # no row: only the header, where a missing key prints <no value>
    assert formats.format_list("table {{.Foo}}", [], formats.IMAGE_HEADER) == "<no value>\n"


def test_image_format_follows_new_image_format() -> None:
    """cli/command/formatter/image.go:37-75."""
    assert formats.image_format("table", quiet=True, digest=False) == "{{.ID}}"
    assert (
        formats.image_format("table", quiet=False, digest=True)
        == formats.DEFAULT_IMAGE_TABLE_DIGEST
    )
    assert (
        formats.image_format("table {{.ID}}", quiet=False, digest=True)
        == "table {{.ID}}\t{{.Digest}}"
    )
    assert formats.image_format("{{.ID}}", quiet=True, digest=True) == "{{.ID}}"


def test_inspect_runs_typed_first_then_raw() -> None:
    """inspector.go:111-145: .ID exists on the typed struct, .Id only in the raw JSON."""
    raw = {
        "Id": "sha256:abc",
        "RepoTags": ["a:1"],
        "RepoDigests": [],
        "Size": 5,
        "Config": {"Env": ["A=1"]},
    }
    element = (formats.image_inspect_value(raw), raw_json(raw))
    assert formats.inspect("{{.ID}} {{.Size}}", [element]).stdout == "sha256:abc 5\n"
    assert formats.inspect("{{.Id}}", [element]).stdout == "sha256:abc\n"
    assert formats.inspect('{{join .RepoTags ","}}', [element]).stdout == "a:1\n"
    result = formats.inspect("{{.Nope}}", [element])
    assert result.stdout == "\n"
    assert result.errors == (
        'template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"',  # noqa: E501
    )
    assert formats.inspect("{{.Config.Env}}", [element]).stdout == "[A=1]\n"


def test_documented_differences() -> None:
    """docs/fidelity.md, "The client": a pointer inside a printed struct has no fixed text in
    Go (its address); labkit prints a stand-in. Complex constants are refused."""
    inner = Struct("pkg.inner", {"A": "x"}, pointer=True)
    outer = Struct("pkg.outer", {"Inner": inner, "B": "y"})
    assert run("{{.}}", outer) == "{0xc000010000 y}"
    assert run("{{.Inner}}", outer) == "{x}"  # printableValue indirects the pointer itself
    assert run("{{print .Inner}}", outer) == "&{x}"  # fmt prints &{...} for a pointer argument
    with pytest.raises(TemplateError, match="complex constants are not supported by labkit"):
        parse("{{1i}}")
