"""Build labkit's JupyterLite site: ``build/lite/``, a static folder that runs every lab in the
browser alone (Pyodide), offline. ``make lite`` runs it; ``python deploy/lite/build.py --help``.

Everything comes from the package registries at build time, and nothing from any other host at
run time:

- JupyterLite and its Pyodide kernel: PyPI (the ``lite`` extra of pyproject.toml);
- Pyodide itself: the npm ``pyodide`` package (``deploy/lite/package.json``, installed into
  ``deploy/lite/node_modules`` by ``make lite``), the version the kernel expects, served from the
  site's ``static/pyodide/``; the kernel's ``pyodideUrl`` is rewritten to it;
- the npm package has no package wheels: the few the kernel needs (micropip, ipython, jedi and
  their dependencies) plus comm and ipywidgets are downloaded from PyPI with pinned hashes
  (``deploy/lite/requirements.txt``), and ``static/pyodide/pyodide-lock.json`` lists exactly the
  wheels served, with their sha256;
- labkit's own wheel, built from this checkout.

The kernel's packages and labkit are preloaded while Pyodide starts, so the first cell a student
runs is ``labkit.start(...)``, not an install. No source maps.

The build is skipped when ``build/lite/`` was built from the same inputs (the key of every
input is kept in ``build/lite/.labkit-build-key``); ``--force`` rebuilds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NPM_PYODIDE = HERE / "node_modules" / "pyodide"
REQUIREMENTS = HERE / "requirements.txt"
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
# The npm package's files the browser needs (no source maps, no TypeScript, no demo pages).
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")
# Packages preloaded with Pyodide, in the order the kernel would install them.
KERNEL_PACKAGES = ("micropip", "piplite", "ipykernel", "comm", "pyodide-kernel", "jedi", "ipython")
LAB_PACKAGES = ("widgetsnbextension", "ipywidgets", "labkit-images")
# The wheels of the kernel extension itself (its pypi/ folder): stand-ins made for Pyodide.
KERNEL_WHEELS = ("ipykernel", "piplite", "pyodide_kernel", "widgetsnbextension-4")
# labextensions the site needs from the environment: the kernel and the widgets' front-end.
EXTENSIONS = ("@jupyterlite/pyodide-kernel-extension", "@jupyter-widgets/jupyterlab-manager")
# What a student opens first.
DEFAULT_NOTEBOOK = "00-start-here.ipynb"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def run(*command: str | os.PathLike[str], cwd: Path = ROOT) -> None:
    print("+", " ".join(str(c) for c in command), flush=True)
    subprocess.run([str(c) for c in command], cwd=cwd, check=True)


def input_files() -> list[Path]:
    """Everything the site is made from (the build key hashes them)."""
    files = [*sorted((ROOT / "labkit").rglob("*")), *sorted((ROOT / "notebooks").glob("*.ipynb"))]
    files += [ROOT / "pyproject.toml", HERE / "build.py", REQUIREMENTS, HERE / "package-lock.json"]
    return [
        p
        for p in files
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    ]


def build_key() -> str:
    digest = hashlib.sha256()
    for path in input_files():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    from importlib.metadata import version

    for dist in ("jupyterlite-core", "jupyterlite-pyodide-kernel", "jupyterlab-widgets"):
        digest.update(f"{dist}=={version(dist)}\0".encode())
    return digest.hexdigest()


def wheel_metadata(wheel: Path) -> dict[str, object]:
    """Name, version, top-level import names and requirements of a wheel."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(archive.read(meta_name).decode("utf-8"))
    tops = sorted(
        {
            n.split("/", 1)[0].removesuffix(".py")
            for n in names
            if not n.split("/", 1)[0].endswith((".dist-info", ".data"))
            and (n.endswith(".py") or "/" in n)
        }
    )
    requires = [
        canonical(re.split(r"[ ;<>=!~\[(]", r.strip(), maxsplit=1)[0])
        for r in meta.get_all("Requires-Dist") or []
        if "extra ==" not in r
    ]
    return {
        "name": meta["Name"],
        "version": meta["Version"],
        "imports": [t for t in tops if t.isidentifier()],
        "requires": requires,
    }


def lock_entry(wheel: Path, served: set[str], depends: list[str] | None = None) -> dict:
    meta = wheel_metadata(wheel)
    return {
        "name": meta["name"],
        "version": meta["version"],
        "file_name": wheel.name,
        "install_dir": "site",
        "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
        "package_type": "package",
        "imports": meta["imports"],
        # only what is served: the browser needs no jupyterlab_widgets, no tornado
        "depends": depends
        if depends is not None
        else sorted({r for r in meta["requires"] if r in served}),
        "unvendored_tests": False,
        "shared_library": False,
    }


def check_pyodide_version() -> str:
    from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION

    package = NPM_PYODIDE / "package.json"
    if not package.is_file():
        sys.exit(f"{NPM_PYODIDE} is missing: run `make lite` (it runs npm ci in deploy/lite)")
    found = json.loads(package.read_text())["version"]
    if found != PYODIDE_VERSION:
        sys.exit(
            f"the kernel expects Pyodide {PYODIDE_VERSION}, deploy/lite/package.json gives "
            f"{found}: make the two agree"
        )
    return found


def pin_of(wheel: Path) -> str:
    name, version = wheel.name.split("-")[:2]
    return f"{canonical(name)}=={version}"


def download_wheels(cache: Path) -> list[Path]:
    """The browser's pure-Python wheels, from PyPI, their hashes checked by pip."""
    folder = cache / "wheels"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [
        line.split("==")[0] + "==" + line.split("==")[1].split()[0]
        for line in REQUIREMENTS.read_text().splitlines()
        if "==" in line and not line.startswith("#")
    ]
    have = {
        canonical(p.name.split("-")[0]) + "==" + p.name.split("-")[1] for p in folder.glob("*.whl")
    }
    if not all(canonical(w.split("==")[0]) + "==" + w.split("==")[1] in have for w in wanted):
        run(
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
            "--only-binary=:all:", "--python-version", "3.14", "--implementation", "py",
            "--abi", "none", "--platform", "any", "-r", REQUIREMENTS, "-d", folder,
        )  # fmt: skip
    wheels = []
    for spec in wanted:
        name, version = spec.split("==")
        matches = [
            p
            for p in folder.glob("*.whl")
            if canonical(p.name.split("-")[0]) == canonical(name)
            and p.name.split("-")[1] == version
        ]
        if len(matches) != 1:
            sys.exit(f"no single wheel for {spec} in {folder}")
        wheels.append(matches[0])
    return wheels


def build_labkit_wheel(cache: Path) -> Path:
    folder = cache / "labkit"
    shutil.rmtree(folder, ignore_errors=True)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", folder, ROOT)
    (wheel,) = folder.glob("labkit_images-*.whl")
    return wheel


def kernel_wheels() -> list[Path]:
    folder = labextension(EXTENSIONS[0]) / "static" / "pypi"
    found = []
    for prefix in KERNEL_WHEELS:
        matches = sorted(folder.glob(f"{prefix}*.whl"))
        if not matches:
            sys.exit(f"the Pyodide kernel extension has no {prefix} wheel in {folder}")
        found.append(matches[-1])
    return found


def labextension(name: str) -> Path:
    path = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / name
    if not (path / "package.json").is_file():
        sys.exit(f"{name} is not installed in {sys.prefix}: run `make lite`")
    return path


def assemble_pyodide(static: Path, wheels: list[Path]) -> list[str]:
    """static/pyodide/: the npm package's runtime, every wheel, and a lock naming them."""
    npm_lock = json.loads((NPM_PYODIDE / "pyodide-lock.json").read_text())
    shutil.rmtree(static, ignore_errors=True)
    static.mkdir(parents=True)
    for name in PYODIDE_FILES:
        shutil.copy2(NPM_PYODIDE / name, static / name)
    served = {canonical(str(wheel_metadata(w)["name"])) for w in wheels}
    packages = {}
    for wheel in wheels:
        shutil.copy2(wheel, static / wheel.name)
        entry = lock_entry(wheel, served)
        key = canonical(entry["name"])
        upstream = npm_lock["packages"].get(key)
        if upstream is not None:  # Pyodide's own pins: same version, its dependency list
            if upstream["version"] != entry["version"]:
                sys.exit(
                    f"{key}: Pyodide {npm_lock['info']} pins {upstream['version']}, "
                    f"deploy/lite/requirements.txt {entry['version']}"
                )
            entry["depends"] = sorted(canonical(d) for d in upstream["depends"])
            entry["imports"] = upstream["imports"]
        packages[key] = entry
    for key, entry in packages.items():
        missing = [d for d in entry["depends"] if d not in packages]
        if missing:
            sys.exit(f"{key} depends on {missing}, which the site does not serve")
    lock = {"info": npm_lock["info"], "packages": dict(sorted(packages.items()))}
    (static / "pyodide-lock.json").write_text(json.dumps(lock, indent=1) + "\n")
    return sorted(packages)


def write_config(work: Path, preload: list[str]) -> None:
    config = {
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {
            "appName": "labkit",
            # the app object on window (for the offline test and the bench; nothing else)
            "exposeAppInBrowser": "true",
            "disabledExtensions": [
                # no news, no update checks: nothing leaves the machine
                "@jupyterlab/apputils-extension:announcements",
            ],
            "litePluginSettings": {
                KERNEL_PLUGIN: {
                    # pyodideUrl is rewritten to ./static/pyodide/pyodide.mjs by the build
                    "disablePyPIFallback": True,
                    "pipliteUrls": [],
                    "loadPyodideOptions": {"packages": preload},
                }
            },
        },
    }
    (work / "jupyter-lite.json").write_text(json.dumps(config, indent=2) + "\n")


def check_site(out: Path) -> None:
    maps = [p for p in out.rglob("*.map")]
    if maps:
        sys.exit(f"source maps left in the site: {maps[:3]}")
    config = json.loads((out / "jupyter-lite.json").read_text())
    kernel = config["jupyter-config-data"]["litePluginSettings"][KERNEL_PLUGIN]
    if kernel.get("pyodideUrl") != "./static/pyodide/pyodide.mjs":
        sys.exit(f"the kernel's pyodideUrl was not rewritten: {kernel.get('pyodideUrl')!r}")
    lock = json.loads((out / "static" / "pyodide" / "pyodide-lock.json").read_text())
    for entry in lock["packages"].values():
        path = out / "static" / "pyodide" / entry["file_name"]
        if hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            sys.exit(f"{path.name}: its sha256 is not the lock's")


def size_of(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def build(out: Path, force: bool = False) -> Path:
    key = build_key()
    key_file = out / ".labkit-build-key"
    if not force and key_file.is_file() and key_file.read_text().strip() == key:
        size, count = size_of(out)
        print(f"lite: {out} is up to date ({size / 2**20:.1f} MiB in {count} files)")
        return out
    version = check_pyodide_version()
    cache = out.parent / "lite-cache"
    work = out.parent / "lite-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    wheels = [*download_wheels(cache), *kernel_wheels(), build_labkit_wheel(cache)]
    served = assemble_pyodide(work / "static" / "pyodide", wheels)
    preload = [p for p in (*KERNEL_PACKAGES, *LAB_PACKAGES) if canonical(p) in served]
    write_config(work, [canonical(p) for p in preload])
    shutil.rmtree(out, ignore_errors=True)
    extensions = [f"--LiteBuildConfig.federated_extensions={labextension(e)}" for e in EXTENSIONS]
    run(
        Path(sys.executable).with_name("jupyter"), "lite", "build",
        "--lite-dir", work, "--output-dir", out, "--contents", ROOT / "notebooks",
        "--apps", "lab", "--no-sourcemaps", "--no-unused-shared-packages", "--ignore-sys-prefix",
        *extensions, cwd=work,
    )  # fmt: skip
    for junk in (out / ".jupyterlite.doit.db", out / "package.json"):
        junk.unlink(missing_ok=True)
    check_site(out)
    key_file.write_text(key + "\n")
    size, count = size_of(out)
    print(
        f"lite: built {out} with Pyodide {version}: {size / 2**20:.1f} MiB in {count} files "
        f"(preloaded: {', '.join(preload)})"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default=str(ROOT / "build" / "lite"), help="the site folder")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = parser.parse_args(argv)
    build(Path(args.output).resolve(), force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
