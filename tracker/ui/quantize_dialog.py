"""A small modal asking how to quantize: grid (rows), strength (%) and swing (%)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


@dataclass(frozen=True, slots=True)
class QuantizeSettings:
    """What the dialog returns: a grid in pattern rows, strength and swing in percent."""

    grid: int = 1
    strength: float = 100.0
    swing: float = 50.0


def parse_settings(grid: str, strength: str, swing: str) -> QuantizeSettings:
    """Read the three fields; a message names the first field that is wrong.

    Raises:
        ValueError: a field is not a number or lies outside its range.
    """
    try:
        grid_rows = int(grid.strip())
    except ValueError:
        raise ValueError("grid: a whole number of rows, e.g. 1, 2 or 4") from None
    if grid_rows < 1:
        raise ValueError("grid: at least 1 row")
    try:
        strength_pct = float(strength.strip().rstrip("%"))
    except ValueError:
        raise ValueError("strength: a percentage from 0 to 100") from None
    if not 0 <= strength_pct <= 100:
        raise ValueError("strength: a percentage from 0 to 100")
    try:
        swing_pct = float(swing.strip().rstrip("%"))
    except ValueError:
        raise ValueError("swing: a percentage from 50 to 75") from None
    if not 50 <= swing_pct <= 75:
        raise ValueError("swing: a percentage from 50 to 75")
    return QuantizeSettings(grid_rows, strength_pct, swing_pct)


class QuantizeDialog(ModalScreen[QuantizeSettings | None]):
    """Ask for quantize settings; dismisses with them, or with None when cancelled."""

    DEFAULT_CSS = """
    QuantizeDialog {
        align: center middle;
    }
    QuantizeDialog > Vertical {
        width: 48;
        height: auto;
        border: thick $accent;
        background: $surface;
        padding: 0 1;
    }
    QuantizeDialog Grid {
        grid-size: 2;
        grid-columns: 16 1fr;
        grid-rows: 3;
        height: auto;
    }
    QuantizeDialog Label {
        padding: 1 0;
    }
    QuantizeDialog #quantize-error {
        color: $error;
        padding: 0;
        height: auto;
    }
    QuantizeDialog Horizontal {
        height: auto;
        align: right middle;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=True),
        Binding("down", "app.focus_next", "Next field", show=False),
        Binding("up", "app.focus_previous", "Previous field", show=False),
    ]

    def __init__(self, settings: QuantizeSettings | None = None) -> None:
        super().__init__()
        self._settings = settings or QuantizeSettings()

    def compose(self) -> ComposeResult:
        s = self._settings
        with Vertical():
            yield Label("Quantize the selection (or the whole track)")
            with Grid():
                yield Label("Grid (rows)")
                yield Input(str(s.grid), id="quantize-grid")
                yield Label("Strength (%)")
                yield Input(f"{s.strength:g}", id="quantize-strength")
                yield Label("Swing (50–75 %)")
                yield Input(f"{s.swing:g}", id="quantize-swing")
            yield Label("", id="quantize-error")
            with Horizontal():
                yield Button("Quantize", variant="primary", id="quantize-ok")
                yield Button("Cancel", id="quantize-cancel")

    def on_mount(self) -> None:
        self.query_one("#quantize-grid", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "quantize-ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        try:
            settings = parse_settings(
                self.query_one("#quantize-grid", Input).value,
                self.query_one("#quantize-strength", Input).value,
                self.query_one("#quantize-swing", Input).value,
            )
        except ValueError as error:
            self.query_one("#quantize-error", Label).update(str(error))
            return
        self.dismiss(settings)
