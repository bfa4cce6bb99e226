"""The lab's progress bar: how many exercises are answered correctly."""

from __future__ import annotations

# Lazy imports (inside functions): IPython.display (python -X importtime: 0.13 s) only when a view
# is displayed.
import ipywidgets as widgets

__all__ = ["ProgressView"]


class ProgressView:
    """An IntProgress and a label such as "3 of 7 exercises answered correctly"."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar = widgets.IntProgress(value=0, min=0, max=max(total, 1), bar_style="success")
        self.label = widgets.Label("")
        self.widget = widgets.HBox([self.bar, self.label])
        self.update(0)

    def update(self, correct: int, recorded: int = 0) -> None:
        """Show ``correct`` right answers; answers ``recorded`` for grading (the assessment,
        where Check does not say right or wrong) count as answered, never as right."""
        if recorded and not correct:
            self.bar.bar_style = "info"
            self.bar.value = recorded
            left = self.total - recorded
            self.label.value = f"{recorded} of {self.total} answered, {left} remain"
            self.bar.description = f"{recorded}/{self.total}"
            return
        self.bar.value = correct
        text = f"{correct} of {self.total} exercises answered correctly"
        if recorded:
            text += f" ({recorded} more recorded for grading)"
        self.label.value = text
        self.bar.description = f"{correct}/{self.total}"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
