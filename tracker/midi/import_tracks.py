"""MIDI import: the song's patterns and tracks — one track per voice and lane, named and voiced."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from tracker.midi.import_effects import Effect, effects_by_row, fit_row, spread_tempos
from tracker.midi.import_lanes import Lane, cell_delay, place_voice
from tracker.midi.import_reader import Grid
from tracker.midi.import_report import ImportReport
from tracker.midi.import_scan import Scan, Voice
from tracker.model.errors import SongFormatError
from tracker.model.serialize_common import MAX_PATTERNS, MAX_TRACKS
from tracker.model.song import EffectCell, Pattern, Song, Track, TrackKind

# A General MIDI file expects a synth with headroom (FluidSynth plays at a gain of 0.2): a dozen
# channels at full level would clip the mix. Each imported track starts this far down.
IMPORT_VOLUME_DB = -9.0

PresetLookup = Callable[[int, int], str]  # (channel 1..16, program 0..127) → preset name

BEATS_PER_PATTERN = 16


def song_voices(scan: Scan) -> list[Voice]:
    """The voices in (MIDI track, channel) order: the order of the song's tracks."""
    voices = [scan.voices[key] for key in sorted(scan.voices)]
    # A file of meta events only still gets one (empty) track to hold its tempo map.
    return voices or [Voice(0, 1)]


def empty_patterns(song_end: int, grid: Grid, path: Path) -> dict[int, Pattern]:
    """Patterns of BEATS_PER_PATTERN beats (the last one shorter) up to the song's end."""
    rows = song_end // grid.ticks_per_line
    per_pattern = BEATS_PER_PATTERN * grid.lines_per_beat
    count = -(-rows // per_pattern)
    if count > MAX_PATTERNS:
        need = str(count) if count < 10**6 else "over a million"  # delta times have no limit
        raise SongFormatError(path, f"the song would need {need} patterns (limit {MAX_PATTERNS})")
    return {i: Pattern(min(per_pattern, rows - i * per_pattern)) for i in range(count)}


def build_tracks(
    song: Song,
    scan: Scan,
    voices: list[Voice],
    tempos: list[Effect],
    song_end: int,
    midi_type: int,
    preset_for: PresetLookup,
    path: Path,
    report: ImportReport,
) -> None:
    """Place every voice's notes and effects, and add its tracks and instrument to the song."""
    tpl = song.ticks_per_line
    placed = [(voice, place_voice(voice, tpl, song_end)) for voice in voices]
    total = sum(len(lanes) for _, lanes in placed)
    if total > MAX_TRACKS:
        raise SongFormatError(path, f"the file needs {total} tracks (limit {MAX_TRACKS})")
    report.lane_tracks = total - len(placed)
    lanes = [lane for _, voice_lanes in placed for lane in voice_lanes]
    rows = [effects_by_row(lane.effects, tpl) for lane in lanes]
    spread_tempos(tempos, rows, tpl, path)
    used: set[str] = set()
    names = _voice_names(voices, scan, midi_type)
    track = 0
    for (voice, voice_lanes), name in zip(placed, names, strict=True):
        instrument = _instrument(voice, scan, song.instruments, preset_for)
        for number, lane in enumerate(voice_lanes, start=1):
            lane_name = name if number == 1 else f"{name} lane {number}"
            effect_columns, dropped = _write_lane(song, track, lane, rows[track])
            report.dropped_effects += dropped
            song.tracks.append(
                Track(
                    _unique(lane_name, used),
                    kind=TrackKind.INSTRUMENT,
                    instrument=instrument,
                    channel=voice.channel,
                    volume_db=IMPORT_VOLUME_DB,
                    note_columns=max(1, len(lane.columns)),
                    effect_columns=effect_columns,
                )
            )
            track += 1


def _voice_names(voices: list[Voice], scan: Scan, midi_type: int) -> list[str]:
    channels_in: defaultdict[int, int] = defaultdict(int)
    for voice in voices:
        channels_in[voice.midi_track] += 1
    names: list[str] = []
    for voice in voices:
        name = scan.names.get(voice.midi_track, "") if midi_type == 1 else ""
        if not name:
            names.append(f"Ch {voice.channel}")
        elif channels_in[voice.midi_track] > 1:
            names.append(f"{name} ch {voice.channel}")
        else:
            names.append(name)
    return names


def _unique(name: str, used: set[str]) -> str:
    # Tracks are found by name on the command line, so names must not repeat.
    candidate, number = name, 2
    while candidate in used:
        candidate = f"{name} ({number})"
        number += 1
    used.add(candidate)
    return candidate


def _instrument(
    voice: Voice, scan: Scan, instruments: dict[int, str], preset_for: PresetLookup
) -> int:
    program = voice.program
    if program is None:
        first = scan.channel_programs.get(voice.channel)
        program = first[3] if first else 0
    preset = preset_for(voice.channel, program)
    for number, name in instruments.items():
        if name == preset:
            return number
    number = len(instruments) + 1
    instruments[number] = preset
    return number


def _write_lane(
    song: Song, track: int, lane: Lane, rows: dict[int, list[Effect]]
) -> tuple[int, int]:
    """Write a lane's cells into the patterns; return (effect columns used, effects dropped)."""
    tpl = song.ticks_per_line
    patterns = song.patterns
    per_pattern = BEATS_PER_PATTERN * song.lines_per_beat
    for row, column, cell in lane.cells:
        patterns[row // per_pattern].set_note(track, row % per_pattern, column, cell)
    widest, dropped = 1, 0
    for row, effects in rows.items():
        kept, lost = fit_row(effects)
        dropped += lost
        widest = max(widest, len(kept))
        pattern = patterns[row // per_pattern]
        for column, effect in enumerate(kept):
            cell = EffectCell(effect.command, effect.value, cell_delay(effect.tick, tpl))
            pattern.set_effect(track, row % per_pattern, column, cell)
    return widest, dropped
