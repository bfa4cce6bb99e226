"""The permission matrix of an organization: teams × repositories, one Dropdown per cell.

Changing a cell calls the Hub action (``grant`` or ``revoke``) as the student, so the change is
recorded in the world's event log like any other; a refused change is shown with the reason and
the cell goes back to what the registry really holds.
"""

from __future__ import annotations

# Lazy imports (inside functions): IPython.display (python -X importtime: 0.13 s) only when a view
# is displayed.
import html
from typing import TYPE_CHECKING

import ipywidgets as widgets

from labkit.errors import LabkitError
from labkit.widgets.style import MUTED, badge, box

if TYPE_CHECKING:
    from labkit.world import World

__all__ = ["LEVELS", "PermissionMatrix"]

# Dropdown label -> Hub permission value ("none": no access, revoke)
NONE = "none"
LEVELS: tuple[tuple[str, str], ...] = (
    ("none", NONE),
    ("Read-only", "read"),
    ("Read & Write", "write"),
    ("Admin", "admin"),
)


class PermissionMatrix:
    """Rows are the organization's teams (with their members), columns its repositories."""

    def __init__(
        self, world: World, org: str, *, registry: str = "registry.acme.com", user: str
    ) -> None:
        self.world = world
        self.org = org
        self.host = registry
        self.user = user
        self.cells: dict[tuple[str, str], widgets.Dropdown] = {}
        self.message = widgets.HTML()
        self.changes: list[tuple[str, str, str]] = []  # (team, repository, level) done
        self._syncing = False
        self.grid = widgets.VBox()
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.refresh()
        self.widget = widgets.VBox([self.grid, self.message, self.refresh_button])

    # -- what the registry holds ----------------------------------------------------------------

    def _registry(self):
        return self.world.registry(self.host)

    def teams(self) -> dict[str, object]:
        organization = self._registry().accounts.orgs.get(self.org)
        return dict(sorted(organization.teams.items())) if organization else {}

    def repositories(self) -> list[str]:
        """The organization's repositories (names without the namespace)."""
        prefix = f"{self.org}/"
        return sorted(
            repo.path[len(prefix) :]
            for repo in self._registry().repositories()
            if repo.path.startswith(prefix)
        )

    def level(self, team: str, repository: str) -> str:
        """``"none"``, ``"read"``, ``"write"`` or ``"admin"``: what the registry holds now."""
        grants = getattr(self.teams().get(team), "grants", {})
        permission = grants.get(f"{self.org}/{repository}")
        return NONE if permission is None else permission.name.lower()

    # -- the grid -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Rebuild the grid from the registry's accounts."""
        try:
            teams, repositories = self.teams(), self.repositories()
        except LabkitError as error:
            self.grid.children = ()
            self.message.value = box(f"{badge('refused')} {html.escape(str(error))}", "refused")
            return
        if not teams or not repositories:
            what = "no teams" if not teams else "no repositories"
            self.grid.children = ()
            self.message.value = box(
                f"<span style='color: {MUTED}'>Organization <code>{html.escape(self.org)}</code>"
                f" on {html.escape(self.host)} has {what} yet.</span>"
            )
            return
        header = [widgets.HTML("<strong>team (members)</strong>")] + [
            widgets.HTML(f"<code>{html.escape(r)}</code>") for r in repositories
        ]
        rows = [widgets.HBox(header)]
        self.cells = {}
        for team_name, team in teams.items():
            members = ", ".join(sorted(getattr(team, "members", ())))
            label = widgets.HTML(
                f"<strong>{html.escape(team_name)}</strong> "
                f"<span style='color: {MUTED}'>({html.escape(members or 'no members')})</span>"
            )
            cells = [label]
            for repository in repositories:
                cell = widgets.Dropdown(
                    options=LEVELS,
                    value=self.level(team_name, repository),
                    # a name for screen readers (axe-core: select-name); the row and column
                    # headers show it, so the label itself takes no width
                    description=f"{team_name} on {repository}",
                    style={"description_width": "0px"},
                    layout=widgets.Layout(width="9em"),
                )
                cell.observe(
                    lambda change, t=team_name, r=repository: self._changed(t, r, change),
                    names="value",
                )
                self.cells[(team_name, repository)] = cell
                cells.append(cell)
            rows.append(widgets.HBox(cells))
        for row in rows:  # the team and its members, then one column a repository
            for index, child in enumerate(row.children):
                child.layout.width = child.layout.width or ("16em" if index == 0 else "9em")
        self.grid.children = rows

    def set(self, team: str, repository: str, level: str) -> None:
        """Change one cell (what picking a value in its Dropdown does)."""
        self.cells[(team, repository)].value = level

    def _changed(self, team: str, repository: str, change: dict) -> None:
        if self._syncing:
            return
        level = change["new"]
        try:
            hub = self.world.hub(self.user, self.host)
            if level == NONE:
                hub.revoke(self.org, team, repository)
            else:
                hub.grant(self.org, team, repository, level)
        except LabkitError as error:
            self._syncing = True
            try:
                self.cells[(team, repository)].value = self.level(team, repository)
            finally:
                self._syncing = False
            self.message.value = box(
                f"{badge('refused')} changing <strong>{html.escape(team)}</strong> on "
                f"<code>{html.escape(repository)}</code>: {html.escape(str(error))}",
                "refused",
            )
            return
        # A cell's change can reach the kernel after a Refresh rebuilt the grid (a click is
        # sent at once, a Dropdown's value waits while the kernel is busy): the grid shown then
        # holds a new Dropdown for this cell, which must show what was just saved.
        shown = self.cells.get((team, repository))
        if shown is not None and shown.value != level:
            self._syncing = True
            try:
                shown.value = level
            finally:
                self._syncing = False
        label = dict((v, k) for k, v in LEVELS)[level]
        self.changes.append((team, repository, level))
        self.message.value = box(
            f"{badge('correct', words='Saved:')} team <strong>{html.escape(team)}</strong> now has "
            f"<strong>{html.escape(label)}</strong> on <code>{html.escape(repository)}</code>.",
            "correct",
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
