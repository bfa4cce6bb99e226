"""The registry browser: registries → namespaces → repositories, tags and digests.

Read from ``world.snapshot()`` (so it shows exactly what the simulated registries hold);
Refresh re-reads it after docker commands or Hub actions.
"""

from __future__ import annotations

# Lazy imports (inside functions): IPython.display (python -X importtime: 0.13 s) only when a view
# is displayed.
import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from labkit.widgets.style import INFO, MUTED, box

if TYPE_CHECKING:
    from labkit.world import World

__all__ = ["RegistryBrowser"]

ALL = "(all namespaces)"


class RegistryBrowser:
    """Dropdowns for the registry and namespace, and an HTML table of their repositories."""

    def __init__(self, world: World, registry: str = "docker.io") -> None:
        self.world = world
        self.snapshot: dict[str, Any] = {}
        self.registry = widgets.Dropdown(description="Registry")
        self.namespace = widgets.Dropdown(description="Namespace")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.table = widgets.HTML()
        self.refresh_button.on_click(lambda _: self.refresh())
        self.registry.observe(lambda _: self._namespaces(), names="value")
        self.namespace.observe(lambda _: self._render(), names="value")
        self.refresh(registry)
        self.widget = widgets.VBox(
            [widgets.HBox([self.registry, self.namespace, self.refresh_button]), self.table]
        )

    def refresh(self, registry: str | None = None) -> None:
        """Re-read the world's snapshot, keeping the selection when it still exists."""
        self.snapshot = self.world.snapshot()["registries"]
        hosts = list(self.snapshot)
        keep = registry or self.registry.value
        self.registry.options = hosts
        self.registry.value = keep if keep in hosts else (hosts[0] if hosts else None)
        self._namespaces()

    def repositories(self) -> dict[str, Any]:
        """The repositories shown now (path -> snapshot)."""
        registry = self.snapshot.get(self.registry.value or "", {})
        repos = registry.get("repositories", {})
        namespace = self.namespace.value
        if namespace in (None, ALL):
            return dict(repos)
        return {p: r for p, r in repos.items() if _namespace(p) == namespace}

    def _namespaces(self) -> None:
        registry = self.snapshot.get(self.registry.value or "", {})
        names = sorted({_namespace(p) for p in registry.get("repositories", {})})
        keep = self.namespace.value
        self.namespace.options = [ALL, *names]
        self.namespace.value = keep if keep in names else ALL
        self._render()

    def _render(self) -> None:
        repos = self.repositories()
        if not repos:
            self.table.value = box(f"<span style='color: {MUTED}'>No repositories here.</span>")
            return
        rows = []
        for path, repo in sorted(repos.items()):
            badges = ["<strong>private</strong>" if repo["private"] else "public"]
            if repo["official"]:
                badges.append(f"<strong style='color: {INFO}'>★ Docker Official Image</strong>")
            tags = (
                "<br>".join(
                    f"<code>{html.escape(tag)}</code> "
                    f"<span style='color: {MUTED}'>{html.escape(digest[:19])}…</span>"
                    for tag, digest in repo["tags"].items()
                )
                or f"<span style='color: {MUTED}'>no tags</span>"
            )
            rows.append(
                f"<tr><td><code>{html.escape(path)}</code></td><td>{' · '.join(badges)}</td>"
                f"<td>{tags}</td></tr>"
            )
        self.table.value = box(
            "<table><tr><th>repository</th><th>visibility</th><th>tags → digest</th></tr>"
            + "".join(rows)
            + "</table>"
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def _namespace(path: str) -> str:
    head, slash, _ = path.partition("/")
    return head if slash else "(none)"
