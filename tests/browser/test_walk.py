"""Every lab notebook walked in JupyterLab at 1280 px as a student walks it (see
:mod:`browser.walker`): each exercise answered wrong first, Hint, then right, right after its own
cell; the kernel restarted and every cell run again, the answers restored; no traceback and no
labkit element whose content overflows its box, in the light theme and then, in the same page,
in the dark theme; axe-core finds nothing in labkit's outputs in either; screenshots of both."""

from __future__ import annotations

import pytest

from browser.driver import lab_notebooks
from browser.student import assert_clean
from browser.walker import DARK, LIGHT, Walk

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("notebook", lab_notebooks())
def test_a_student_walks_the_lab(notebook, lab_server, open_notebook, screenshots):
    page = open_notebook(lab_server, notebook)
    page.set_theme(LIGHT)
    walk = Walk.open(page, notebook)
    walk.walk()
    assert_clean(page)
    assert not walk.docker_outputs(), walk.docker_outputs()
    walk.explorer()
    # every widget with its feedback and hints shown
    violations = page.axe_violations()
    assert not violations, f"{notebook}: axe-core (light) in labkit's outputs:\n" + "\n".join(
        violations
    )
    walk.screenshot(screenshots, "light")

    walk.restart()
    walk.see_restored()
    assert_clean(page)
    page.save()
    assert not page.saved_error_outputs(), page.saved_error_outputs()

    page.set_theme(DARK)  # the restored widgets, in the same page
    try:
        assert_clean(page)
        violations = page.axe_violations()
        assert not violations, f"{notebook}: axe-core (dark) in labkit's outputs:\n" + "\n".join(
            violations
        )
        walk.screenshot(screenshots, "dark")
    finally:
        page.set_theme(LIGHT)  # the theme is a setting of the server: the next lab starts light
