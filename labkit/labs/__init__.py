"""Lab definitions, and where to find them.

A lab module (``labkit/labs/<name>.py``, or any ``*.py`` in the folder named by ``LABKIT_LABS``)
defines ``LAB = Lab(...)``: its id, title, version, exercises and concepts, and the lab-level
variant (``world_params(student)`` and ``setup(world, params)``: the accounts the student logs
in with, teammates, organizations). Widgets, ``labkit key``, ``labkit grade`` and
``labkit lint`` all find labs through :func:`find_labs` / :func:`get_lab`.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import json
import os
import pkgutil
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labkit.errors import LabkitError
from labkit.exercises import Exercise, Variant, plain_value
from labkit.world import World

if TYPE_CHECKING:
    from labkit.world import Event, World

__all__ = [
    "Lab",
    "find_labs",
    "get_lab",
    "lab_password",
    "student_docker_id",
]

LABS_ENV = "LABKIT_LABS"


def _no_world_params(student: str) -> dict[str, Any]:
    return {}


def _no_setup(world: World, params: Mapping[str, Any]) -> None:
    return None


@dataclass(frozen=True)
class Lab:
    """One lab: its exercises and the lab-level variant of the world it runs in."""

    id: str
    title: str
    exercises: tuple[Exercise, ...]
    concepts: tuple[str, ...] = ()
    version: str = "1"
    world_params: Callable[[str], Mapping[str, Any]] = _no_world_params
    setup: Callable[[World, Mapping[str, Any]], None] = _no_setup
    description: str = ""
    source: str = field(default="", compare=False)
    # A graded lab whose key is not shipped: its module yields the shown parameters and format
    # checks only; the answers come from the instructor's checks folder (``KEYS``, see
    # :func:`labkit.grading.key.apply_keys`), which makes a keyed copy whose ``shipped`` is this.
    withheld: bool = False
    shipped: Lab | None = field(default=None, compare=False, repr=False)

    def exercise(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        ids = [e.id for e in self.exercises]
        error = LabkitError(f"lab {self.id} has no exercise {exercise_id!r}")
        close = difflib.get_close_matches(str(exercise_id), ids, n=1)
        error.hint = (f"Did you mean {close[0]!r}? " if close else "") + (
            "Its exercises: " + ", ".join(repr(i) for i in ids) + "."
        )
        raise error

    def params_for(self, student: str) -> dict[str, Any]:
        """The lab-level variant parameters (the student's Docker ID, teammates, ...)."""
        return plain_value(dict(self.world_params(student)))

    def variant(self, exercise: Exercise | str, student: str) -> Variant:
        """The student's variant of one exercise (re-generated, never read from a record)."""
        if isinstance(exercise, str):
            exercise = self.exercise(exercise)
        return exercise.variant_for(self.id, student, self.params_for(student))

    def setup_world(self, world: World, student: str) -> None:
        """Set a fresh world up for this student (World.replay calls it before the events)."""
        self.setup(world, self.params_for(student))

    def new_world(self, student: str, **options: Any) -> World:
        """A default world set up for ``student`` (what the student's kernel starts from)."""
        world = World.default(**options)
        self.setup_world(world, student)
        return world

    def setup_event_count(self, student: str) -> int:
        """How many events the setup itself records (they are not the student's)."""
        return len(self.world_for(student, ()).events)

    def student_events(self, world: World, student: str) -> list[dict[str, Any]]:
        """The events a record keeps: those after the lab's setup, as JSON."""
        skip = self.setup_event_count(student)
        return [event.to_json() for event in world.events[skip:]]

    def world_for(self, student: str, events: Iterable[Event | Mapping[str, Any]]) -> World:
        """The student's world rebuilt: setup for their variant, then ``events`` replayed."""
        return World.replay(list(events), variant=lambda world: self.setup_world(world, student))

    def fingerprint(self, student: str) -> str:
        """A short sha256 over the lab version and every exercise's variant parameters (a keyed
        lab's: those of the shipped lab it keys, so records made in a kernel match)."""
        if self.shipped is not None:
            return self.shipped.fingerprint(student)
        data = {
            "lab": self.id,
            "version": self.version,
            "world": self.params_for(student),
            "exercises": {e.id: dict(self.variant(e, student).params) for e in self.exercises},
        }
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def max_points(self) -> float:
        return sum(e.points for e in self.exercises)


# -- lab-level variant helpers ---------------------------------------------------------------------


def student_docker_id(student: str) -> str:
    """The Docker ID a student logs in with in every lab: ``stu`` and 6 digits from sha256."""
    number = int.from_bytes(hashlib.sha256(f"docker-id/{student}".encode()).digest()[:8], "big")
    return f"stu{number % 1_000_000:06d}"


_WORDS = ("harbor", "anchor", "vessel", "cargo", "crane", "pier", "tide", "keel", "mast", "buoy")


def lab_password(student: str) -> str:
    """The known password for the student's simulated account (shown in the notebook)."""
    digest = hashlib.sha256(f"password/{student}".encode()).digest()
    first, second = _WORDS[digest[0] % len(_WORDS)], _WORDS[digest[1] % len(_WORDS)]
    return f"{first}-{second}-{int.from_bytes(digest[2:4], 'big') % 1000:03d}"


# -- the registry of labs ---------------------------------------------------------------------


def _lab_of(module: Any, where: str) -> Lab | None:
    lab = getattr(module, "LAB", None)
    if lab is None:
        return None
    if not isinstance(lab, Lab):
        raise LabkitError(f"{where}: LAB is not a labkit.labs.Lab")
    return lab


def _builtin_labs() -> dict[str, Lab]:
    labs = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        lab = _lab_of(module, module.__name__)
        if lab is not None:
            labs[lab.id] = lab
    return labs


def _folder_labs(folder: Path) -> dict[str, Lab]:
    labs = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = f"labkit_course_labs.{path.stem.replace('-', '_')}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            sys.modules.pop(name, None)
            raise LabkitError(f"cannot load lab {path}: {error!r}") from error
        lab = _lab_of(module, str(path))
        if lab is not None:
            labs[lab.id] = lab
    return labs


def find_labs(extra: str | os.PathLike[str] | None = None) -> dict[str, Lab]:
    """Every lab by id: the built-in ones, then those in ``LABKIT_LABS`` (a folder, or several
    joined with ``os.pathsep``) and ``extra``; a course's lab with a built-in id replaces it."""
    labs = _builtin_labs()
    folders = [p for p in os.environ.get(LABS_ENV, "").split(os.pathsep) if p]
    if extra is not None:
        folders.append(os.fspath(extra))
    for folder in folders:
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise LabkitError(f"{LABS_ENV} names {folder!r}, which is not a folder")
        labs.update(_folder_labs(path))
    return dict(sorted(labs.items()))


def get_lab(lab_id: str, extra: str | os.PathLike[str] | None = None) -> Lab:
    """The lab with this id; LabkitError naming the known ones otherwise."""
    labs = find_labs(extra)
    try:
        return labs[lab_id]
    except KeyError:
        known = ", ".join(labs) or "none"
        error = LabkitError(f"no lab {lab_id!r} (known labs: {known})")
        close = difflib.get_close_matches(str(lab_id), list(labs), n=1)
        if close:
            error.hint = f"Did you mean {close[0]!r}?"
        raise error from None
