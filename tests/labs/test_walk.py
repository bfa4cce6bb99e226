"""Every lab walked as a student walks it, typical wrong answers first: right after each
exercise's own cell, the exercise's examples are answered (each must get its own mistake; in
the assessment, only "recorded"), then the solution's step for it must be right there, with
only what the cells above did; the record still grades to full marks. The walk is made once per
session (``lab_support.notebook_walk``) and shared with each lab's own notebook test."""

from __future__ import annotations

import pytest
from grading.fixtures import keyed_lab
from lab_support import ROOT, WALKS, solution_scores_full_marks


def test_every_lab_is_walked():
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(WALKS) == notebooks


@pytest.mark.notebook
@pytest.mark.parametrize("lab_id", sorted(WALKS))
def test_wrong_answers_first_then_right_in_place(lab_id, walked):
    solution_scores_full_marks(keyed_lab(lab_id), walked(lab_id))
