"""Record what the real Docker 28.2.2 client prints on its own side, as golden data.

Run from the repository root: ``python tests/data/docker-cli/record.py`` (needs ``docker`` on PATH).
Safety: every run has HOME=/home/student (which must not exist, so no credentials are found),
an unreachable daemon (DOCKER_HOST=unix:///nonexistent), no proxy, stdin from /dev/null (so the
help texts are wrapped at 80 columns, as in a notebook). Only help texts, usage errors and
client-side checks are recorded: a case the client accepts would go on to the daemon and fails
with "Cannot connect to the Docker daemon"; it is written to the index as accepted, with no
output file (what the daemon does is the engine's business).

Each output file holds stdout then stderr, then a line ``[exit code: N]``; ``index.json`` maps
each file to its exact command line and to the stream the output went to ("both": then the
index also holds the stderr part, and the file the stdout part first).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
HOME = Path("/home/student")

# (file stem, command line). Never add a pull/push/login/search/images/rmi/inspect line that the
# client would accept: it must fail or print before contacting anything.
CASES: list[tuple[str, str]] = [
    # help texts
    ("no-args", "docker"),
    ("help-flag-short", "docker -h"),
    ("help-command", "docker help"),
    ("help-pull", "docker help pull"),
    ("help-image-pull", "docker help image pull"),
    ("help-images", "docker help images"),
    ("help-bogus", "docker help bogus"),
    ("help-image-bogus", "docker help image bogus"),
    ("help-pull-extra", "docker help pull extra"),
    ("help-flag-then-command", "docker --help pull"),
    ("image", "docker image"),
    ("image--help", "docker image --help"),
    ("image-help", "docker image help"),
    ("image-help-pull", "docker image help pull"),
    ("image-list--help", "docker image list --help"),
    ("image-remove--help", "docker image remove --help"),
    ("history--help", "docker history --help"),
    ("pull-h", "docker pull -h"),
    ("pull-arg-then-help", "docker pull alpine --help"),
    ("pull-help-then-arg", "docker pull --help alpine extra"),
    ("pull-bogus-then-help", "docker pull --bogus --help"),
    ("pull-help-then-bogus", "docker pull --help --bogus"),
    ("pull-help-true", "docker pull --help=true"),
    ("pull-help-false", "docker pull --help=false"),
    ("tag-help-one-arg", "docker tag a --help"),
    ("version--help-again", "docker version -h"),
    ("system--help", "docker system --help"),
    ("image-tag--help-aliases", "docker image tag -h"),
    # version flag
    ("version-flag", "docker --version"),
    ("version-flag-short", "docker -v"),
    ("version-flag-extra", "docker -v pull"),
    # unknown commands and flags
    ("bogus", "docker bogus"),
    ("bogus-help", "docker bogus --help"),
    ("bogus-args", "docker bogus a b"),
    ("image-bogus", "docker image bogus"),
    ("image-bogus-help", "docker image bogus --help"),
    ("global-bogus-flag", "docker --bogus"),
    ("global-bogus-flag-command", "docker --bogus pull alpine"),
    ("global-bogus-short", "docker -x pull alpine"),
    ("image-bogus-flag", "docker image --bogus"),
    ("pull-bogus", "docker pull --bogus"),
    ("pull-bogus-value", "docker pull --bogus=1 alpine"),
    ("pull-bogus-short", "docker pull -x alpine"),
    ("pull-bogus-in-group", "docker pull -aqx alpine"),
    ("pull-bogus-after-arg", "docker pull alpine --bogus"),
    ("pull-single-dash-long", "docker pull -all-tags alpine"),
    ("image-ls-bogus", "docker image ls --bogus"),
    ("images-bogus-short", "docker images -z"),
    ("push-bogus", "docker push --bogus"),
    ("login-bogus", "docker login --bogus"),
    ("logout-bogus", "docker logout --bogus"),
    ("search-bogus", "docker search --bogus"),
    ("version-bogus", "docker version --bogus"),
    ("tag-bogus", "docker tag --bogus a b"),
    ("rmi-bogus", "docker rmi -x a"),
    ("inspect-bogus", "docker inspect --bogus a"),
    ("image-inspect-bogus", "docker image inspect --bogus a"),
    ("history-bogus", "docker history --bogus a"),
    ("triple-dash", "docker pull ---all-tags alpine"),
    # flags that need an argument
    ("login-u-missing", "docker login -u"),
    ("login-username-missing", "docker login --username"),
    ("login-p-missing", "docker login -p"),
    ("search-limit-missing", "docker search --limit"),
    ("images-filter-missing", "docker images --filter"),
    ("images-f-missing", "docker images -f"),
    ("inspect-format-missing", "docker inspect --format"),
    ("version-format-missing", "docker version -f"),
    ("global-config-missing", "docker --config"),
    ("global-log-level-missing", "docker -l"),
    # bad values
    ("search-limit-word", "docker search --limit notanumber alpine"),
    ("search-limit-equals-word", "docker search --limit=x alpine"),
    ("search-limit-float", "docker search --limit 1.5 alpine"),
    ("search-limit-empty", "docker search --limit= alpine"),
    ("search-limit-huge", "docker search --limit 99999999999999999999 alpine"),
    ("search-filter-no-equals", "docker search --filter bogus alpine"),
    ("images-filter-no-equals", "docker images --filter dangling"),
    ("images-f-no-equals", "docker images -f dangling"),
    ("images-f-attached-no-equals", "docker images -fdangling"),
    ("pull-all-tags-bogus-bool", "docker pull --all-tags=maybe alpine"),
    ("pull-a-bogus-bool", "docker pull -a=maybe alpine"),
    ("pull-quiet-empty-bool", "docker pull --quiet= alpine"),
    ("global-log-level-bogus", "docker --log-level bogus version"),
    ("rmi-platform-bad", "docker rmi --platform bogus a"),
    # argument counts
    ("pull-no-arg", "docker pull"),
    ("image-pull-no-arg", "docker image pull"),
    ("pull-two-args", "docker pull a b"),
    ("pull-only-flags", "docker pull -a -q"),
    ("push-no-arg", "docker push"),
    ("push-two-args", "docker push a b"),
    ("tag-no-arg", "docker tag"),
    ("tag-one-arg", "docker tag a"),
    ("tag-three-args", "docker tag a b c"),
    ("image-tag-three-args", "docker image tag a b c"),
    ("rmi-no-arg", "docker rmi"),
    ("image-rm-no-arg", "docker image rm"),
    ("image-remove-no-arg", "docker image remove -f"),
    ("image-inspect-no-arg", "docker image inspect"),
    ("inspect-no-arg", "docker inspect"),
    ("search-no-arg", "docker search"),
    ("search-two-args", "docker search a b"),
    ("login-two-args", "docker login a b"),
    ("logout-two-args", "docker logout a b"),
    ("version-extra", "docker version extra"),
    ("images-two-args", "docker images a b"),
    ("image-ls-two-args", "docker image ls a b"),
    ("image-list-two-args", "docker image list a b"),
    ("history-no-arg", "docker history"),
    ("image-history-two-args", "docker image history a b"),
    ("tag-dash-dash-one-arg", "docker tag -- a"),
    ("tag-flag-after-args", "docker tag a b -x"),
    # client-side checks before any daemon contact
    ("pull-all-tags-with-tag", "docker pull -a alpine:3"),
    ("pull-all-tags-with-digest", "docker pull --all-tags alpine@sha256:" + "a" * 64),
    ("push-all-tags-with-tag", "docker push --all-tags alpine:3"),
    ("pull-dash-dash-flag-like", "docker pull -- --bogus"),
    ("pull-empty-name", "docker pull ''"),
    ("push-uppercase", "docker push Alpine"),
    ("tag-uppercase-source", "docker tag Alpine alpine"),
    # second batch: help and global flags in odd places, interspersed flags per command
    ("help-image", "docker help image"),
    ("help-help", "docker help help"),
    ("help-help-flag", "docker help --help"),
    ("help-h-flag", "docker help -h"),
    ("help-bogus-flag", "docker help --bogus"),
    ("help-no-such-leaf", "docker help image pull extra"),
    ("help-version", "docker help version"),
    ("h-then-command", "docker -h pull"),
    ("h-then-bogus", "docker -h bogus"),
    ("h-then-image", "docker -h image"),
    ("help-then-image-pull", "docker --help image pull"),
    ("image-help-flag-then-pull", "docker image --help pull"),
    ("image-h-then-pull", "docker image -h pull"),
    ("image-bogus-flag-then-pull", "docker image --bogus pull"),
    ("image-help-then-bogus", "docker image --help bogus"),
    ("bogus-then-h", "docker bogus -h"),
    ("bogus-then-bogus-flag", "docker bogus --bogus"),
    ("run-bogus-flag", "docker run --bogus"),
    ("version-flag-help", "docker --version --help"),
    ("version-flag-bogus", "docker --version bogus"),
    ("global-after-command", "docker pull -D"),
    ("global-config-after-command", "docker pull --config x"),
    ("global-then-dashdash", "docker -D -- pull"),
    ("dashdash-alone", "docker --"),
    ("dashdash-bogus", "docker -- bogus"),
    ("global-log-level-bogus-help", "docker -l bogus --help"),
    ("global-log-level-bogus-command", "docker -l bogus bogus"),
    ("global-log-level-upper", "docker -l INFO pull"),
    ("global-log-level-warning", "docker -l warning pull"),
    ("global-log-level-trace", "docker -l trace pull"),
    ("global-host-equals", "docker -H=unix:///x pull"),
    ("global-config-equals", "docker --config=/x pull"),
    ("global-debug-value", "docker --debug=maybe pull"),
    ("push-after-arg-bogus", "docker push a --bogus"),
    ("rmi-after-arg-bogus", "docker rmi a --bogus"),
    ("images-after-arg-bogus", "docker images a --bogus"),
    ("login-after-arg-bogus", "docker login a --bogus"),
    ("logout-after-arg-bogus", "docker logout a --bogus"),
    ("search-after-arg-bogus", "docker search a --bogus"),
    ("inspect-after-arg-bogus", "docker inspect a --bogus"),
    ("image-inspect-after-arg-bogus", "docker image inspect a --bogus"),
    ("history-after-arg-bogus", "docker history a --bogus"),
    ("version-after-arg-bogus", "docker version a --bogus"),
    ("image-tag-after-arg-bogus", "docker image tag a --bogus"),
    ("tag-flag-first-then-args", "docker tag --help=false a"),
    ("pull-double-h", "docker pull -hh"),
    ("pull-help-value-space", "docker pull --help false"),
    ("search-limit-negative", "docker search --limit -5"),
    ("search-limit-plus", "docker search --limit=+5"),
    ("search-limit-hex", "docker search --limit=0x10"),
    ("search-limit-underscore", "docker search --limit=1_0"),
    ("search-limit-attached-short-n", "docker search --limit=010"),
    ("pull-bool-true-forms", "docker pull --all-tags=TRUE -q=1 --disable-content-trust=f"),
    ("pull-bool-yes", "docker pull --quiet=yes"),
    ("images-filter-equals-empty-value", "docker images --filter= x y"),
    ("images-filter-leading-equals", "docker images --filter==x a b"),
    ("images-filter-spaces", "docker images --filter ' dangling = true ' a b"),
    ("login-password-stdin-value", "docker login --password-stdin=maybe"),
    ("logout-no-such-flag-short", "docker logout -u"),
    ("version-format-equals", "docker version --format= extra"),
    ("image-ls-arg-count-with-flags", "docker image ls -aq --digests a b"),
    ("rmi-help-with-args", "docker rmi a b --help"),
    ("dash-alone-as-arg", "docker tag - a b"),
    ("image-pull-help-h-combo", "docker image pull -qah"),
    ("search-limit-octal-bad", "docker search --limit=08"),
    ("search-limit-leading-underscore", "docker search --limit=_1"),
    ("search-limit-double-underscore", "docker search --limit=1__0"),
    ("search-limit-trailing-underscore", "docker search --limit=1_"),
    ("search-limit-hex-empty", "docker search --limit=0x"),
    ("search-limit-double-minus", "docker search --limit=--1"),
    ("search-limit-max-plus-one", "docker search --limit=9223372036854775808"),
    ("search-limit-min-minus-one", "docker search --limit=-9223372036854775809"),
    ("search-limit-overflow-then-junk", "docker search --limit=99999999999999999999x"),
    ("search-limit-hex-underscore", "docker search --limit=0x_1f"),
    ("search-limit-binary", "docker search --limit=0b101"),
    ("search-limit-octal-o", "docker search --limit=0o17"),
    ("search-limit-max", "docker search --limit=9223372036854775807"),
    ("search-limit-min", "docker search --limit=-9223372036854775808"),
    ("pull-short-equals-empty", "docker pull -q= x"),
    ("images-f-equals-only", "docker images -f= a b"),
    ("login-quote-in-value", "docker search --limit 'a\"\\tb'"),
]


def run(line: str) -> tuple[str, str, int]:
    """Run one command line with the real client, isolated; return (stdout, stderr, exit code)."""
    argv = shlex.split(line)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(HOME)}
    env["DOCKER_HOST"] = "unix:///nonexistent"
    done = subprocess.run(
        argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20
    )
    if HOME.exists():
        sys.exit(f"{HOME} was created by {line!r}: stop and check what docker wrote there")
    return done.stdout, done.stderr, done.returncode


def main() -> None:
    if HOME.exists():
        sys.exit(f"{HOME} exists: recording needs a home without any docker configuration")
    index: dict[str, dict[str, object]] = {}
    for stem, line in CASES:
        stdout, stderr, code = run(line)
        if "Cannot connect to the Docker daemon" in stdout + stderr:
            index[stem] = {"line": line, "accepted": True}
            continue
        stream = "both" if stdout and stderr else "stdout" if stdout else "stderr"
        (HERE / f"{stem}.txt").write_text(f"{stdout}{stderr}[exit code: {code}]\n")
        index[stem] = {"line": line, "file": f"{stem}.txt", "stream": stream, "exit_code": code}
        if stream == "both":
            index[stem]["stderr"] = stderr
    (HERE / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    print(f"recorded {len(index)} cases in {HERE}")


if __name__ == "__main__":
    main()
