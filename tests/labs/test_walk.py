"""Every lab walked as a student walks it, typical wrong answers first: right after each
exercise's own cell, the exercise's examples are answered (each must get its own mistake; in
the assessment, only "recorded"), then the solution's step for it must be right there, with
only what the cells above did; the record still grades to full marks. (The labs' own
full-marks tests walk the same way without the wrong answers.)"""

from __future__ import annotations

import pytest
from lab_support import solution_scores_full_marks

from labkit.labs import get_lab

WALKS = (
    ("00-start-here", "start_here"),
    ("01-tags", "tags"),
    ("02-image-names", "image_names"),
    ("03-official-images", "official_images"),
    ("04-pushing", "pushing"),
    ("05-organizations-and-teams", "organizations"),
    ("06-assessment", "assessment"),
    ("07-under-the-hood", "under_the_hood"),
)


def test_every_lab_is_walked():
    from lab_support import ROOT

    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert [lab_id for lab_id, _ in WALKS] == notebooks


@pytest.mark.notebook
@pytest.mark.parametrize(("lab_id", "solution"), WALKS, ids=[w[0] for w in WALKS])
def test_wrong_answers_first_then_right_in_place(lab_id, solution, tmp_path, monkeypatch):
    solution_scores_full_marks(
        get_lab(lab_id),
        f"{lab_id}.ipynb",
        solution,
        "walker-wrong-first",
        tmp_path,
        monkeypatch,
        wrong_first=True,
    )
