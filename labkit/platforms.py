"""Platform specifiers (``--platform linux/amd64``) as containerd/platforms parses them.

:func:`parse_platform` is ``platforms.Parse`` as vendored in docker/cli v28.2.2
(``vendor/github.com/containerd/platforms/platforms.go:222-297``, with ``database.go`` for the
known operating systems and architectures and the normalisation), including its error texts,
which the client prints as they are (``docker history``, ``image inspect``, ``rmi``, ``push``)
and the daemon returns for ``docker pull`` (moby api/server/router/image/image_routes.go:58-61).
The default architecture of a bare OS is the client's (``runtime.GOARCH``): linux/amd64, the
only platform labkit's images have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Platform", "PlatformError", "go_quote", "parse_platform"]

_SPECIFIER = re.compile(r"^[A-Za-z0-9_.-]+$")  # platforms.go:124
_OS_AND_VERSION = re.compile(r"^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.-]*)\))?$")  # platforms.go:125
_SPECIFIER_TEXT = "^[A-Za-z0-9_.-]+$"
_OS_AND_VERSION_TEXT = r"^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.-]*)\))?$"
_KNOWN_OS = frozenset(
    [
        "aix",
        "android",
        "darwin",
        "dragonfly",
        "freebsd",
        "hurd",
        "illumos",
        "ios",
        "js",
        "linux",
        "nacl",
        "netbsd",
        "openbsd",
        "plan9",
        "solaris",
        "windows",
        "zos",
    ]
)
_KNOWN_ARCH = frozenset(
    [
        "386",
        "amd64",
        "amd64p32",
        "arm",
        "armbe",
        "arm64",
        "arm64be",
        "ppc64",
        "ppc64le",
        "loong64",
        "mips",
        "mipsle",
        "mips64",
        "mips64le",
        "mips64p32",
        "mips64p32le",
        "ppc",
        "riscv",
        "riscv64",
        "s390",
        "s390x",
        "sparc",
        "sparc64",
        "wasm",
    ]
)
_GOOS, _GOARCH = "linux", "amd64"


class PlatformError(ValueError):
    """A specifier platforms.Parse refuses; ``str()`` is its error text."""


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)


def go_quote(text: str) -> str:
    """Go's %q (strconv.Quote) for the texts in these errors."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            named = {
                "\v": "\\v",
                "\a": "\\a",
                "\b": "\\b",
                "\f": "\\f",
                "\n": "\\n",
                "\r": "\\r",
                "\t": "\\t",
            }
            out.append(named.get(char, f"\\x{ord(char):02x}"))
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _invalid(text: str) -> PlatformError:
    return PlatformError(f"{text}: invalid argument")  # errors.go:28 errInvalidArgument


def _normalize_os(name: str) -> str:
    name = name.lower() if name else _GOOS
    return "darwin" if name == "macos" else name


def _normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    """database.go normalizeArch."""
    arch, variant = arch.lower(), variant.lower()
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        variant = {"8": "", "v8": "", "v8.0": "", "9": "v9", "9.0": "v9", "v9.0": "v9"}.get(
            variant, variant
        )
        return "arm64", variant
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        if variant in ("", "7"):
            return "arm", "v7"
        if variant in ("5", "6", "8"):
            return "arm", "v" + variant
    return arch, variant


def parse_platform(specifier: str) -> Platform:
    """platforms.Parse (platforms.go:222-297): ``os[(version)][/arch[/variant]]``."""
    quoted = go_quote(specifier)
    if "*" in specifier:
        raise _invalid(f"{quoted}: wildcards not yet supported")
    parts = specifier.split("/", 3)
    os_name = os_version = ""
    for index, part in enumerate(parts):
        if index == 0:
            match = _OS_AND_VERSION.match(part)
            if match is None or "\n" in part:
                raise _invalid(
                    f"{go_quote(part)} is an invalid OS component of {quoted}: OSAndVersion "
                    f"specifier component must match {go_quote(_OS_AND_VERSION_TEXT)}"
                )
            os_name, os_version = _normalize_os(match.group(1)), match.group(2) or ""
        elif not _SPECIFIER.match(part) or "\n" in part:
            raise _invalid(
                f"{go_quote(part)} is an invalid component of {quoted}: platform specifier "
                f"component must match {go_quote(_SPECIFIER_TEXT)}"
            )
    if len(parts) == 1:
        if os_name in _KNOWN_OS:
            return Platform(os_name, _GOARCH, "", os_version)
        arch, variant = _normalize_arch(parts[0], "")
        if arch == "arm" and variant == "v7":
            variant = ""
        if arch in _KNOWN_ARCH:
            return Platform(_GOOS, arch, variant)
        raise _invalid(f"{quoted}: unknown operating system or architecture")
    if len(parts) == 2:
        arch, variant = _normalize_arch(parts[1], "")
        if arch == "arm" and variant == "v7":
            variant = ""
        return Platform(os_name, arch, variant, os_version)
    if len(parts) == 3:
        arch, variant = _normalize_arch(parts[1], parts[2])
        if arch == "arm64" and not variant:
            variant = "v8"
        return Platform(os_name, arch, variant, os_version)
    raise _invalid(f"{quoted}: cannot parse platform specifier")
