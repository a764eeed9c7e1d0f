"""Public MIDI files (../shared/corpus/midi) survive import → export with the notes mido hears.

Notes are compared in seconds through each file's own tempo map, so this checks timing end to
end: the grid, delays, note lengths, lanes and tempo changes. Skips when the corpus is absent.
"""

from __future__ import annotations

from collections import defaultdict, deque
from pathlib import Path

import mido
import pytest

from tracker.midi.export_file import export_midi
from tracker.midi.import_file import import_midi_report

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "midi"
if not CORPUS.is_dir():
    pytest.skip(f"no MIDI corpus at {CORPUS}", allow_module_level=True)

FILES = sorted(p for p in CORPUS.iterdir() if p.suffix.lower() in (".mid", ".midi"))
TOLERANCE = 0.001  # seconds

Note = tuple[int, int, int, float, float]  # (channel 0..15, pitch, velocity, start, end)


def presets(channel: int, program: int) -> str:
    return "drums" if channel == 10 else f"gm{program}"


def heard_notes(path: Path) -> list[Note]:
    """Notes as mido plays the file: merged tracks, its tempo map, on/off paired per
    (channel, pitch) first in, first out; a note never released ends with the file."""
    sounding: dict[tuple[int, int], deque[tuple[float, int]]] = defaultdict(deque)
    notes: list[Note] = []
    now = 0.0
    for message in mido.MidiFile(path):
        now += message.time
        if message.type not in ("note_on", "note_off"):
            continue
        key = (message.channel, message.note)
        if message.type == "note_on" and message.velocity:
            sounding[key].append((now, message.velocity))
        elif sounding[key]:
            start, velocity = sounding[key].popleft()
            notes.append((*key, velocity, start, now))
    for key, queue in sounding.items():
        notes.extend((*key, velocity, start, now) for start, velocity in queue)
    return sorted(notes)


def assert_same_notes(original: list[Note], copy: list[Note]) -> None:
    assert len(copy) == len(original)
    for before, after in zip(original, copy, strict=True):
        assert after[:3] == before[:3], (before, after)
        assert abs(after[3] - before[3]) <= TOLERANCE, (before, after)
        assert abs(after[4] - before[4]) <= TOLERANCE, (before, after)


def test_the_corpus_is_there():
    assert FILES, f"{CORPUS} holds no .mid files"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_import_then_export_keeps_every_note(path, tmp_path):
    song, _ = import_midi_report(path, presets)
    export_midi(song, tmp_path / "copy.mid")
    assert_same_notes(heard_notes(path), heard_notes(tmp_path / "copy.mid"))


@pytest.mark.parametrize("path", FILES[:3], ids=[p.name for p in FILES[:3]])
def test_a_song_file_in_between_keeps_every_note(path, tmp_path):
    serialize = pytest.importorskip("tracker.model.serialize")
    song, _ = import_midi_report(path, presets)
    saved = tmp_path / "imported.song"
    serialize.save_song(song, saved)
    export_midi(serialize.load_song(saved), tmp_path / "copy.mid")
    assert_same_notes(heard_notes(path), heard_notes(tmp_path / "copy.mid"))
