"""The transport bar: play state, tempo, position, audio and MIDI status at a glance."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from tracker.ui.waveform import level


@dataclass(frozen=True, slots=True)
class TransportView:
    """Everything the bar shows; the app builds one from the song, the cursor and the transport."""

    playing: bool
    looping: bool
    bpm: float
    lines_per_beat: int
    swing: float
    order_index: int
    order_length: int
    pattern: int
    row: int
    octave: int
    step: int
    audio: str
    audio_ok: bool
    underruns: int
    voices: int
    midi: str = "MIDI: off"
    dirty: bool = False
    level: float = 0.0  # the master's peak now (linear)


METER_WIDTH = 8


def meter_text(peak: float) -> str:
    """The master's peak as a bar on a dB scale and its figure: `▕█████···▏ -6.1 dB`."""
    filled = round(level(peak) * METER_WIDTH)
    figure = f"{20 * math.log10(peak):+.1f}" if peak > 1e-6 else "-∞"
    return f"▕{'█' * filled}{'·' * (METER_WIDTH - filled)}▏{figure:>5} dB"


class TransportBar(Widget):
    """One line at the top of the screen. Cheap to redraw: the app refreshes it ~20 times a second
    while playing and only when something changed otherwise."""

    DEFAULT_CSS = """
    TransportBar {
        height: 1;
        background: $panel;
        color: $text;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._view: TransportView | None = None

    @property
    def view(self) -> TransportView | None:
        return self._view

    def show(self, view: TransportView) -> None:
        if view != self._view:
            self._view = view
            self.refresh()

    def render(self) -> Text:
        view = self._view
        if view is None:
            return Text(" starting…")
        text = Text(no_wrap=True, overflow="ellipsis")
        if view.playing:
            text.append(" ▶ PLAY " if not view.looping else " ⟳ LOOP ", style="bold black on green")
        else:
            text.append(" ■ STOP ", style="bold reverse")
        text.append(f"  {view.bpm:g} BPM", style="bold")
        text.append(f"  LPB {view.lines_per_beat}  Swing {view.swing:g}%")
        text.append(
            f"  Ord {view.order_index:02X}/{max(view.order_length - 1, 0):02X}"
            f" Pat {view.pattern:02X} Row {view.row:02X}"
        )
        # Red at full scale: the mix clips in a 16- or 24-bit file.
        text.append(f"  {meter_text(view.level)}", style="bold red" if view.level >= 1.0 else "")
        text.append(f"  Oct {view.octave} Step {view.step}")
        audio_style = "green" if view.audio_ok else "yellow"
        text.append(f"  ♪ {view.audio}", style=audio_style)
        text.append(f"  Xruns {view.underruns}", style="bold red" if view.underruns else "dim")
        text.append(f"  Voices {view.voices}", style="dim")
        text.append(f"  {view.midi}", style="dim")
        if view.dirty:
            text.append("  [modified]", style="italic yellow")
        return text
