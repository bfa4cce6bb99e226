"""The ``labkit`` command. Subcommands register themselves in ``build_parser``.

``labkit ref NAME...`` shows how Docker reads image names. Later: run, grade, key, lint, serve
(each adds one ``_add_<name>`` function and one line in ``build_parser``).
"""

from __future__ import annotations

# Lazy imports (inside functions): each subcommand loads only what it needs, so `labkit ref` does
# not pay for tornado (labkit.server) or the grader (python -X importtime on the 2-core box,
# loaded: labkit.server 0.65 s, labkit.grading.grade 0.9 s).
import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from labkit._version import __version__


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per subcommand."""
    parser = argparse.ArgumentParser(
        prog="labkit",
        description="Jupyter labs on how container images are named, tagged, shared and shipped.",
    )
    parser.add_argument("--version", action="version", version=f"labkit {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_ref(subcommands)
    _add_run(subcommands)
    _add_lint(subcommands)
    _add_serve(subcommands)
    _add_grade(subcommands)
    _add_collect(subcommands)
    _add_key(subcommands)
    return parser


# Packages of the optional extras (pyproject.toml): the labs need none of them.
_EXTRAS = {"tornado": "server", "tqdm": "grade", "IPython": "grade"}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``labkit`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.handler(args)
    except ModuleNotFoundError as error:
        extra = _EXTRAS.get((error.name or "").partition(".")[0])
        if extra is None:
            raise
        print(
            f"labkit {args.command}: needs {error.name}, which is not installed: "
            f"pip install 'labkit-images[{extra}]'",
            file=sys.stderr,
        )
        return 2
    except BrokenPipeError:  # e.g. `labkit ref --json alpine | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0


# --- labkit ref ----------------------------------------------------------------------------


def _add_ref(subcommands: argparse._SubParsersAction) -> None:
    ref = subcommands.add_parser(
        "ref",
        help="show how Docker reads image names",
        description=(
            "Break each image name into registry, namespace, name, tag and digest, as Docker "
            "reads it, saying which parts were typed and which were filled in by default. "
            "Exit status 1 when a name is invalid (Docker's error and a hint go to stderr)."
        ),
    )
    ref.add_argument("names", nargs="+", metavar="NAME", help="an image name, e.g. alpine:3.19")
    ref.add_argument("--json", action="store_true", help="print the breakdowns as JSON")
    ref.set_defaults(handler=_run_ref)


def _run_ref(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from labkit.reference import explain

    out = out or sys.stdout
    err = err or sys.stderr
    explanations = [explain(name) for name in args.names]
    if args.json:
        print(json.dumps([e.to_dict() for e in explanations], indent=2), file=out)
    else:
        first = True
        for explanation in explanations:
            if explanation.ok:
                if not first:
                    print(file=out)
                first = False
                print(str(explanation), file=out)
            else:
                print(f"{explanation.text}: {explanation.error}", file=err)
                print(f"  hint: {explanation.hint}", file=err)
    return 0 if all(e.ok for e in explanations) else 1


# --- labkit run ----------------------------------------------------------------------------


def _add_run(subcommands: argparse._SubParsersAction) -> None:
    run = subcommands.add_parser(
        "run",
        help="run a file of docker commands in a fresh world and print a transcript",
        description=(
            "Run each docker command of SCRIPT ('-' for standard input) in a fresh default "
            "world with a fixed clock, and print a transcript: '$ command' then exactly what "
            "it printed. Blank lines and lines starting with '#' are skipped; give standard "
            "input with a here-string: docker login -u NAME --password-stdin <<< PASSWORD."
        ),
    )
    run.add_argument("script", metavar="SCRIPT", help="a file of docker command lines, or -")
    run.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME:PASSWORD[@REGISTRY]",
        help="create this account first (repeatable; the registry defaults to docker.io)",
    )
    run.set_defaults(handler=_run_run)


def _run_run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from labkit.client import run_script
    from labkit.errors import LabkitError
    from labkit.world import Clock, World

    out = out or sys.stdout
    try:
        script = sys.stdin.read() if args.script == "-" else open(args.script).read()  # noqa: SIM115
    except OSError as error:
        print(f"labkit run: cannot read {args.script}: {error.strerror}", file=sys.stderr)
        return 2
    world = World.default(clock=Clock.fixed())
    for spec in args.user:
        account, _, registry = spec.partition("@")
        name, colon, password = account.partition(":")
        if not colon:
            print(f"labkit run: --user wants NAME:PASSWORD, got {spec!r}", file=sys.stderr)
            return 2
        try:
            world.add_user(name, password, registry=registry or "docker.io")
        except LabkitError as error:
            print(f"labkit run: --user {name}: {error}", file=sys.stderr)
            return 2
    out.write(run_script(world.client(), script))
    return 0


# --- labkit lint -------------------------------------------------------------------------------


def _add_lint(subcommands: argparse._SubParsersAction) -> None:
    lint = subcommands.add_parser(
        "lint",
        help="check lab definitions",
        description=(
            "Check that every exercise of each lab generates for a few students, parses its "
            "own key, scores full marks with it, and reaches each mistake code it declares "
            "(a graded lab's key: with --checks). Exit status 1 when a problem is found."
        ),
    )
    lint.add_argument("labs", nargs="+", metavar="LAB", help="a lab id, e.g. demo")
    lint.add_argument("--labs-dir", metavar="DIR", help="also read labs from DIR (as LABKIT_LABS)")
    lint.add_argument(
        "--checks", metavar="DIR", help="the instructor's checks folder (graded labs' KEYS)"
    )
    lint.set_defaults(handler=_run_lint)


def _run_lint(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from labkit.errors import LabkitError
    from labkit.grading.grade import load_keys
    from labkit.grading.key import apply_key
    from labkit.grading.lint import lint_lab
    from labkit.labs import get_lab

    out = out or sys.stdout
    status = 0
    for lab_id in args.labs:
        lab = None
        try:
            lab = get_lab(lab_id, args.labs_dir)
            keys = load_keys(args.checks) if getattr(args, "checks", None) else {}
            if lab.id in keys:
                lab = apply_key(lab, keys[lab.id])
            problems = lint_lab(lab)
        except LabkitError as error:
            problems = [str(error)]
        for problem in problems:
            print(f"{lab_id}: {problem}", file=out)
        if problems:
            status = 1
        elif lab is not None and lab.withheld:
            print(f"{lab_id}: ok (a graded lab: its key is linted with --checks DIR)", file=out)
        else:
            print(f"{lab_id}: ok", file=out)
    return status


# --- labkit serve ------------------------------------------------------------------------------


def _add_serve(subcommands: argparse._SubParsersAction) -> None:
    serve = subcommands.add_parser(
        "serve",
        help="serve a fresh world's registry over the OCI distribution HTTP API",
        description=(
            "Serve one registry of a fresh default world over HTTP, as the OCI distribution "
            "API (with Docker's token authentication unless the registry is open), until "
            "interrupted. Binds to 127.0.0.1 unless --host says otherwise."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=5000, help="port (default 5000; 0: any free)")
    serve.add_argument(
        "--registry", default="docker.io", help="which registry of the world (default docker.io)"
    )
    serve.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME:PASSWORD",
        help="create this account on the served registry first (repeatable)",
    )
    serve.add_argument(
        "--data",
        metavar="DIR",
        default=None,
        help="keep the registry in DIR (accounts, repositories, blobs), crash-safe; "
        "a restart on the same DIR serves everything that was committed",
    )
    serve.add_argument(
        "--upload-lifetime",
        type=float,
        default=None,
        metavar="SECONDS",
        help="purge upload sessions this old (default 168 h, as distribution)",
    )
    serve.set_defaults(handler=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    from labkit.errors import LabkitError
    from labkit.server import serve
    from labkit.world import World

    world = World.default()
    data = None
    try:
        registry = world.registry(args.registry)
        if args.data is not None:
            from labkit.datadir import open_data_dir

            data = open_data_dir(args.data, world, registry)
        for spec in args.user:
            name, colon, password = spec.partition(":")
            if not colon:
                print(f"labkit serve: --user wants NAME:PASSWORD, got {spec!r}", file=sys.stderr)
                return 2
            if data is not None and name in registry.accounts.users:
                # kept from an earlier run on the same --data: the same password is fine
                if registry.accounts.authenticate(name, password) is None:
                    print(
                        f"labkit serve: {name} already exists in {args.data} with another password",
                        file=sys.stderr,
                    )
                    return 2
                continue
            world.add_user(name, password, registry=registry.host)
    except LabkitError as error:
        print(f"labkit serve: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"labkit serve: cannot use {args.data}: {error}", file=sys.stderr)
        return 2

    def ready(url: str) -> None:
        print(f"labkit serve: {registry.host} at {url}/v2/ (Ctrl-C to stop)", flush=True)

    import tempfile

    from labkit.blobstore import DiskBlobStore

    options: dict = {"journal": data}
    if args.upload_lifetime is not None:
        if args.upload_lifetime <= 0:
            print("labkit serve: --upload-lifetime wants a number of seconds > 0", file=sys.stderr)
            return 2
        options["upload_lifetime"] = args.upload_lifetime
        options["purge_interval"] = min(60.0, args.upload_lifetime / 2)
    _return_big_buffers_to_the_system()
    import signal

    # SIGTERM ends the server as Ctrl-C does, so that its scratch folder is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    scratch = tempfile.TemporaryDirectory(prefix="labkit-serve-")
    if data is None:
        # Blobs over 1 MiB on disk (a scratch folder removed at exit), smaller ones in memory.
        registry.blobs = DiskBlobStore(scratch.name)
    try:
        serve(world, registry.host, args.host, args.port, ready=ready, **options)
    except OSError as error:
        print(f"labkit serve: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        scratch.cleanup()
    return 0


def _return_big_buffers_to_the_system() -> None:
    """glibc: allocations of 256 KiB and more get their own mapping, returned to the system
    when freed. (By default glibc raises that threshold as big buffers come and go, and then
    upload and download buffers fragment the heap: the server's memory would creep up.)"""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(-3, 256 << 10)  # M_MMAP_THRESHOLD; fixing it stops the dynamic raise
    except (OSError, AttributeError):
        pass  # not glibc (musl): nothing to tune


# --- labkit grade ------------------------------------------------------------------------------


def _add_grade(subcommands: argparse._SubParsersAction) -> None:
    grade = subcommands.add_parser(
        "grade",
        help="grade a class's submissions",
        description=(
            "Grade every submission under SUBMISSIONS (nbgrader's submitted/<student>/<assignment>/"
            ", <dir>/<student>/, a flat folder of <student>.ipynb, or LMS downloads with "
            "--id-pattern). By default no student code runs: the records are read, the event "
            "log replayed, and every check (hidden ones too) run here. Writes grades.csv (long "
            "form), <stem>-<lab>.csv per lab, <stem>-report.html, and with --feedback one page "
            "per student and lab. Nothing is written inside SUBMISSIONS."
        ),
    )
    grade.add_argument("submissions", metavar="SUBMISSIONS", help="the folder of submissions")
    grade.add_argument("-o", "--output", default="grades.csv", metavar="FILE", help="grades.csv")
    grade.add_argument("--feedback", metavar="DIR", help="write DIR/<student>/<lab>.html")
    grade.add_argument("--lab", metavar="LAB", help="grade this lab only (and assume it)")
    grade.add_argument("--roster", metavar="FILE", help="CSV of student ids: absent ones get rows")
    grade.add_argument(
        "--id-pattern",
        metavar="REGEX",
        help="find the student id in file names with a named group, e.g. '^(?P<student>[^_]+)_'",
    )
    grade.add_argument("--student", metavar="ID", help="grade this student only")
    grade.add_argument("--checks", metavar="DIR", help="instructor-only checks (*.py with CHECKS)")
    grade.add_argument("--labs-dir", metavar="DIR", help="also read labs from DIR (as LABKIT_LABS)")
    grade.add_argument(
        "--execute", action="store_true", help="also run each notebook, isolated (Linux)"
    )
    grade.add_argument(
        "--check-isolation",
        action="store_true",
        help="with --execute: say how notebooks would be isolated here, and grade nothing",
    )
    grade.add_argument(
        "--unisolated",
        action="store_true",
        help="with --execute: run notebooks even where no sandbox can be had (student code then "
        "runs with your rights)",
    )
    grade.add_argument(
        "--cell-timeout",
        type=float,
        metavar="SECONDS",
        help="with --execute: stop a cell after this long (default 30)",
    )
    grade.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="with --execute: stop a whole notebook after this long (default 120)",
    )
    grade.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="worker processes")
    grade.add_argument(
        "--show-hidden", action="store_true", help="name hidden checks in the feedback pages"
    )
    grade.add_argument("--no-progress", action="store_true", help="no progress bar")
    grade.set_defaults(handler=_run_grade)


def _inside(path: str, folder: str) -> bool:
    from pathlib import Path

    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
    except ValueError:
        return False
    return True


def _drop_submission_paths(root: os.PathLike[str]) -> None:
    """Drop the current folder and any folder inside SUBMISSIONS from ``sys.path``, so nothing
    a student left there (a ``labkit.py``, a ``tqdm.py``, a ``csv.py``) is ever imported."""
    from pathlib import Path

    resolved = Path(root).resolve()
    kept = []
    for entry in sys.path:
        if entry in ("", "."):
            continue
        path = Path(entry).resolve()
        if path == resolved or resolved in path.parents:
            continue
        kept.append(entry)
    sys.path[:] = kept


def _run_grade(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from pathlib import Path

    out = out or sys.stdout
    _drop_submission_paths(Path(args.submissions))  # before any lazy import
    from labkit.errors import LabkitError
    from labkit.grading import GradeOptions, collect, grade_all, lab_grades, read_roster
    from labkit.grading.grade import graded_labs
    from labkit.grading.report import summary_line, write_reports

    for name, value in (("-o", args.output), ("--feedback", args.feedback)):
        if value and _inside(value, args.submissions):
            print(
                f"labkit grade: {name} {value} is inside SUBMISSIONS; write elsewhere",
                file=sys.stderr,
            )
            return 2
    if args.check_isolation or args.execute:
        from labkit.grading.execute import check_isolation

        # the report probes the warm sandbox from inside a notebook; a grading run probes it
        # in each worker's own sandbox, before its first notebook
        found = check_isolation(warm=args.check_isolation)
        if args.check_isolation:
            print(found.report(), file=out)
            return 0 if found.complete else 1
        if not found.complete:
            print(found.report(), file=sys.stderr)
            if not args.unisolated:
                print(
                    "labkit grade: refusing to run student code with your rights; fix the "
                    "problems above, or pass --unisolated to run it anyway",
                    file=sys.stderr,
                )
                return 2
            print("labkit grade: --unisolated: running student code unconfined", file=sys.stderr)
    options = GradeOptions(
        lab=args.lab,
        checks_dir=args.checks,
        execute=args.execute,
        unisolated=args.unisolated,
        labs_dir=args.labs_dir,
        cell_seconds=args.cell_timeout,
        total_seconds=args.timeout,
    )
    try:
        roster = read_roster(Path(args.roster)) if args.roster else None
        submissions = collect(
            args.submissions, id_pattern=args.id_pattern, roster=roster, only=args.student
        )
        if args.lab is not None:
            from labkit.labs import get_lab

            get_lab(args.lab, args.labs_dir)
        graded = grade_all(
            submissions,
            options,
            jobs=max(1, args.jobs),
            progress=False if args.no_progress else None,
        )
    except LabkitError as error:
        print(f"labkit grade: {error}", file=sys.stderr)
        return 2
    grades = lab_grades(graded, options)
    written = write_reports(
        grades,
        Path(args.output),
        feedback_dir=Path(args.feedback) if args.feedback else None,
        show_hidden=args.show_hidden,
        labs=graded_labs(options),
    )
    print(summary_line(grades), file=out)
    for path in written[: 2 + len({g.lab for g in grades})]:
        print(f"wrote {path}", file=out)
    if args.feedback:
        print(
            f"wrote {len(written) - 2 - len({g.lab for g in grades})} feedback pages "
            f"under {args.feedback}",
            file=out,
        )
    return 0


# --- labkit collect ----------------------------------------------------------------------------


def _add_collect(subcommands: argparse._SubParsersAction) -> None:
    collect = subcommands.add_parser(
        "collect",
        help="gather a class's notebooks and records from their JupyterHub",
        description=(
            "Collect each student's lab notebooks and labkit-answers/ from their running "
            "server on a JupyterHub, through the hub's proxy, into OUT/<student>/ (the layout "
            "`labkit grade` reads) with OUT/roster.csv. The roster is the hub's user list less "
            "the token's own user, the members of the instructors' group and --exclude. The "
            "token (--token-file, else $JUPYTERHUB_API_TOKEN) needs the scopes list:users, "
            "read:users:groups, access:servers and custom:jupyter_server:read:* (see "
            "docs/jupyterhub.md); it cannot start, stop or change a server."
        ),
    )
    collect.add_argument("--hub", required=True, metavar="URL", help="e.g. http://127.0.0.1:8000")
    collect.add_argument("--token-file", metavar="FILE", help="a file holding the API token")
    collect.add_argument("-o", "--output", default="collected", metavar="OUT", help="a new folder")
    collect.add_argument(
        "--folder", default="labs", metavar="DIR", help="the labs' folder in each home (labs)"
    )
    collect.add_argument(
        "--exclude", action="append", default=[], metavar="NAME", help="leave this user out"
    )
    collect.add_argument(
        "--instructors-group",
        default="instructors",
        metavar="GROUP",
        help="leave this group's members out (default instructors; '' for none)",
    )
    collect.add_argument("--group", metavar="GROUP", help="collect only this group's members")
    collect.add_argument("-j", "--jobs", type=int, default=4, metavar="N", help="at once (4)")
    collect.set_defaults(handler=_run_collect)


def _run_collect(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from labkit.errors import LabkitError
    from labkit.grading.hub import collect_from_hub

    out = out or sys.stdout
    if args.token_file:
        try:
            token = open(args.token_file, encoding="utf-8").read().strip()  # noqa: SIM115
        except (OSError, UnicodeDecodeError) as error:
            print(f"labkit collect: cannot read {args.token_file}: {error}", file=sys.stderr)
            return 2
    else:
        token = os.environ.get("JUPYTERHUB_API_TOKEN", "").strip()
        if not token:
            print(
                "labkit collect: give the hub token with --token-file FILE "
                "(or $JUPYTERHUB_API_TOKEN)",
                file=sys.stderr,
            )
            return 2
    try:
        result = collect_from_hub(
            args.hub,
            token,
            args.output,
            folder=args.folder,
            exclude=args.exclude,
            instructors_group=args.instructors_group or None,
            group=args.group,
            jobs=max(1, args.jobs),
        )
    except LabkitError as error:
        print(f"labkit collect: {error}", file=sys.stderr)
        return 2
    for note in result.notes:
        print(f"note: {note}", file=out)
    for name, why in sorted(result.excluded.items()):
        print(f"left out {name} ({why})", file=out)
    for student in result.students:
        if student.collected:
            line = f"{student.student}: {len(student.notebooks)} notebooks, "
            line += f"{len(student.records)} records"
        else:
            line = f"{student.student}: nothing collected"
        if student.problems:
            line += " (" + "; ".join(student.problems) + ")"
        print(line, file=out)
    done = sum(1 for s in result.students if s.collected)
    print(
        f"collected {done} of {len(result.roster)} students into {result.output}; grade with:\n"
        f"  labkit grade {result.output} --roster {result.output / 'roster.csv'} -o grades.csv",
        file=out,
    )
    return 0


# --- labkit key --------------------------------------------------------------------------------


def _add_key(subcommands: argparse._SubParsersAction) -> None:
    key = subcommands.add_parser(
        "key",
        help="print a student's variant and its correct answers",
        description=(
            "Print the variant of LAB for one student (the lab-level parameters, each "
            "exercise's parameters) and the correct answers, with the commands that solve each "
            "task. A graded lab's key is not shipped: give the instructor's checks folder."
        ),
    )
    key.add_argument("lab", metavar="LAB", help="a lab id, e.g. demo")
    key.add_argument("--student", required=True, metavar="ID", help="the student id")
    key.add_argument("--labs-dir", metavar="DIR", help="also read labs from DIR (as LABKIT_LABS)")
    key.add_argument(
        "--checks", metavar="DIR", help="the instructor's checks folder (graded labs' KEYS)"
    )
    key.add_argument("--json", action="store_true", help="print the key as JSON")
    key.set_defaults(handler=_run_key)


def _run_key(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from labkit.errors import LabkitError
    from labkit.grading.grade import load_keys
    from labkit.grading.key import answer_key, format_key

    out = out or sys.stdout
    try:
        keys = load_keys(args.checks) if getattr(args, "checks", None) else None
        key = answer_key(args.lab, args.student, args.labs_dir, keys)
    except LabkitError as error:
        print(f"labkit key: {error}", file=sys.stderr)
        if error.hint:
            print(error.hint, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(key, indent=2, ensure_ascii=False), file=out)
    else:
        out.write(format_key(key))
    return 0


if __name__ == "__main__":
    sys.exit(main())
