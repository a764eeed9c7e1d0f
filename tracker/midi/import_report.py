"""MIDI import: the report of what the import had to change to fit the file into a tracker."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.midi.import_effects import MAX_EFFECT_COLUMNS
from tracker.model.song import MAX_BPM, MIN_BPM


@dataclass(slots=True)
class ImportReport:
    """What the import had to change; the CLI shows `warnings()`. Timing is otherwise exact."""

    source_ppq: int = 0
    rescaled: bool = False  # ticks rounded to the 960 ppq grid
    dropped_effects: int = 0  # controller/bend values (programs last) beyond 8 effects on a row
    lane_tracks: int = 0  # extra tracks for notes that could not share a row
    lengthened_notes: int = 0  # zero-length notes, which a tracker cannot hold, made 1 tick long
    unterminated_notes: int = 0  # ended at the end of their MIDI track
    stray_note_offs: int = 0  # note-offs with no note sounding
    clamped_tempos: int = 0  # tempos outside MIN_BPM..MAX_BPM
    skipped_messages: int = 0  # aftertouch, poly pressure, sysex

    def warnings(self) -> list[str]:
        """One line per lossy or surprising change, for the command line."""
        lines: list[str] = []
        if self.rescaled:
            lines.append(
                f"{self.source_ppq} ticks per beat fits no tracker grid: rescaled to 960, "
                "events moved by at most half a tick"
            )
        if self.dropped_effects:
            lines.append(
                f"dropped {self.dropped_effects} controller/bend value(s) "
                f"(more than {MAX_EFFECT_COLUMNS} effects on one row)"
            )
        if self.lane_tracks:
            lines.append(f"added {self.lane_tracks} extra track(s) for notes sharing a row")
        if self.unterminated_notes:
            lines.append(
                f"{self.unterminated_notes} note(s) never released: ended with their track"
            )
        if self.lengthened_notes:
            lines.append(f"lengthened {self.lengthened_notes} zero-length note(s) to one tick")
        if self.clamped_tempos:
            lines.append(f"clamped {self.clamped_tempos} tempo(s) to {MIN_BPM:g}..{MAX_BPM:g} BPM")
        if self.skipped_messages:
            lines.append(f"skipped {self.skipped_messages} aftertouch/sysex message(s)")
        return lines
