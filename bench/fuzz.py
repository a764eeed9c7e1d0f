"""Fuzz the four loaders of outside files: song files, MIDI import, instrument presets, audio.

    python bench/fuzz.py [--inputs 100000] [--seconds S] [--seed 0] [--workers 2]
                         [--timeout 30] [--memory 2048] [--save-dir fuzz-failures]
    python bench/fuzz.py --replay fuzz-failures/01-clip-TypeError

Every input is a file written to a scratch folder and opened by the real loader, as the
commands open it: `open_song` (song files and MIDI import), `InstrumentLibrary` on a folder
holding the preset and its samples (so WAV loading is included), `load_clip`, and samplers and
drum kits reading a fuzzed WAV. The product rule is checked: bad input raises a TrackerError
whose message is one line (no control characters, not absurdly long) and names the file;
anything else, a Python warning included (it would print above that line), is a failure. What
loads must also work: a song or an imported MIDI file must save (and a saved song read back to
the same text), a preset must play a note, a clip must be finite stereo float32. What C
libraries print to stderr themselves (mpg123 inside libsndfile) is counted and shown apart.

Inputs are mutations of valid seeds (the demo song, songs built with tracker.model, the MIDI
corpus in ../shared/corpus/midi when present, MIDI files made with mido, the shipped presets,
WAV/FLAC/AIFF/… files made with soundfile): bit flips, byte inserts and deletes, chunk
duplication, truncation, numeric token changes, huge numbers, unicode, NUL, CRLF, line and token
shuffles, splices of two seeds, and mutations inside one MIDI/RIFF chunk with the chunk sizes
made right again; plus random bytes and structured random files (songs built from the model,
token soup, raw MIDI events, preset lines, odd soundfile formats, forged WAV headers).

Input i is made from (seed, i) alone, so any input can be made again. Worker processes (one per
core) run the inputs; the parent kills a worker whose input runs past --timeout (a hang) and
starts another; workers run under an address-space limit (--memory MiB above their start) so an
absurd allocation shows as a MemoryError instead of taking the machine down. Each distinct
failure (loader, kind, exception type, where in tracker/) is shrunk to a small reproducer and
saved under --save-dir with a case.json that --replay runs again with its traceback.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shlex
import shutil
import signal
import struct
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGETS = ("song", "midi", "preset", "audio")
RATE = 48000
MAX_INPUT_BYTES = 1 << 20
MESSAGE_SLACK = 400  # characters a message may take besides the file names it must hold
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


# --- what one input is ---------------------------------------------------------------------


@dataclass
class Case:
    """One fuzz input: files written into a scratch folder, and how they are loaded.

    `via` picks the loader: song, midi, preset, clip, sampler or drumkit. `entry` is the fuzzed
    file; `names` are the file names its error message must hold.
    """

    target: str
    via: str
    entry: str
    files: dict[str, bytes]
    names: list[str]
    how: str
    index: int = -1


@dataclass
class Outcome:
    kind: str  # "crash", "after loading", "bad message: …", "hang", "worker died"
    error: str  # exception type
    message: str
    site: str  # where in tracker/ it happened

    def signature(self, via: str) -> tuple[str, str, str, str]:
        return (via, self.kind, self.error, self.site)


# --- mutations -----------------------------------------------------------------------------

NUMBERS = [
    *(str(n).encode() for n in (0, 1, 2, 7, 15, 16, 17, 63, 64, 65, 99, 100, 127, 128, 255, 256)),
    *(str(n).encode() for n in (4095, 4096, 9999, 10000, 16383, 16384, 32767, 65535, 65536)),
    *(str(n).encode() for n in (2**31 - 1, 2**31, 2**32, 2**63, 999_999_999, 10**9, 10**12)),
    b"-0", b"-1", b"-128", b"-99999", b"1e308", b"1e309", b"-1e309", b"1e-320", b"nan", b"NaN",
    b"inf", b"-inf", b"Infinity", b"0.5", b".5", b"5.", b"+5", b"1e3", b"1E-3", b"0x10", b"1_000",
    b"0.000001", b"3.14159265358979323846", "²".encode(), "٣".encode(), "１２".encode(),
    b"9" * 40, b"9" * 400, b"1" + b"0" * 5000,
]  # fmt: skip
INTS = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF,
        0x80000000, 0xFFFFFFFF]  # fmt: skip
UNICODE = ["é", "\u0301", "\u2028", "\u2029", "\ufeff", "\u202e", "\u200b", "𝄞", "１２", "²",
           "\x85", "ß", "İ", "ﬁ", "\ufffd", "\x1b[2J", "日本語"]  # fmt: skip
BAD_UTF8 = [b"\xff", b"\xfe", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82",
            b"\x80"]  # fmt: skip
SPECIAL = [b"\x00", b"\r", b"\r\n", b"\n", b"\t", b'"', b"\\", b"#", b"'", b" ", b"|", b"..",
           b"=", b"/", b"../", b"\x7f", b"\x0c", b"\x0b", b"-", b"OFF", b"^^^"]  # fmt: skip
_NUMBER_TOKEN = re.compile(rb"[-+]?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_WORD = re.compile(rb"[^ \t\r\n]+")

Mutation = Callable[[random.Random, bytes, "Seeds"], bytes]


def _pos(rng: random.Random, data: bytes, end: bool = True) -> int:
    return rng.randrange(len(data) + 1) if end else rng.randrange(len(data))


def bit_flip(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    if not data:
        return data
    i = _pos(rng, data, False)
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]


def set_byte(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    if not data:
        return data
    i = _pos(rng, data, False)
    value = rng.choice([0, 0xFF, 0x7F, 0x80, 0x0A, 0x0D, 0x20, 0x22, 0x5C, rng.randrange(256)])
    return data[:i] + bytes([value]) + data[i + 1 :]


def insert_bytes(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    i = _pos(rng, data)
    piece = rng.choice(
        [bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))), rng.choice(SPECIAL)]
    )
    return data[:i] + piece + data[i:]


def delete_bytes(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    if not data:
        return data
    i = _pos(rng, data, False)
    return data[:i] + data[i + rng.choice([1, 1, 2, 4, 16, 64, 256, 4096]) :]


def duplicate_chunk(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    if not data:
        return data
    start = _pos(rng, data, False)
    chunk = data[start : start + rng.choice([1, 4, 16, 64, 512, 4096])]
    times = rng.choice([1, 1, 1, 2, 10, 100, 1000])
    times = max(1, min(times, (MAX_INPUT_BYTES - len(data)) // max(len(chunk), 1)))
    i = _pos(rng, data)
    return data[:i] + chunk * times + data[i:]


def truncate(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    return data[: _pos(rng, data)]


def numeric_token(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    spans = [m.span() for m in _NUMBER_TOKEN.finditer(data)]
    if not spans:
        return insert_bytes(rng, data, seeds)
    start, end = rng.choice(spans)
    if rng.random() < 0.3:  # a nearby value: off-by-one at a limit
        try:
            value = str(int(data[start:end]) + rng.choice([-1, 1, -2, 2, 1000])).encode()
        except ValueError:
            value = rng.choice(NUMBERS)
    else:
        value = rng.choice(NUMBERS)
    return data[:start] + value + data[end:]


def huge_number(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    spans = [m.span() for m in _NUMBER_TOKEN.finditer(data)]
    start, end = rng.choice(spans) if spans else (_pos(rng, data),) * 2
    digits = b"9" * rng.choice([19, 20, 39, 309, 4300, 100_000])
    return data[:start] + rng.choice([b"", b"-"]) + digits + data[end:]


def unicode_text(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    i = _pos(rng, data)
    piece = rng.choice(UNICODE).encode() if rng.random() < 0.6 else rng.choice(BAD_UTF8)
    return data[:i] + piece + data[i:]


def nul(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    i = _pos(rng, data)
    if data and rng.random() < 0.5:
        return data[: min(i, len(data) - 1)] + b"\x00" + data[min(i, len(data) - 1) + 1 :]
    return data[:i] + b"\x00" + data[i:]


def line_endings(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return data.replace(b"\n", b"\r\n")
    if choice == 1:
        return data.replace(b"\n", b"\r")
    if choice == 2:
        i = _pos(rng, data)
        return data[:i] + rng.choice([b"\r", b"\r\n", b"\n\r", b"\n"]) + data[i:]
    return data.rstrip(b"\n") if rng.random() < 0.5 else data + b"\n\n"


def line_shuffle(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    lines = data.split(b"\n")
    if len(lines) < 2:
        return data
    a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
    choice = rng.randrange(5)
    if choice == 0:
        lines.insert(b, lines[a])
    elif choice == 1:
        del lines[a]
    elif choice == 2:
        lines[a], lines[b] = lines[b], lines[a]
    elif choice == 3:
        times = min(rng.choice([10, 100, 5000]), MAX_INPUT_BYTES // (len(lines[a]) + 1))
        lines[a:a] = [lines[a]] * times
    else:
        lines[a] = rng.choice([b"", b"  ", b"\t", b" "]) + lines[a].lstrip(b" \t")
    return b"\n".join(lines)


def token_swap(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    spans = [m.span() for m in _WORD.finditer(data)]
    if not spans or not seeds.words:
        return data
    start, end = rng.choice(spans)
    return data[:start] + rng.choice(seeds.words) + data[end:]


def splice(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    other = rng.choice(seeds.items)[1]
    if not other:
        return data
    a = _pos(rng, other, False)
    i = _pos(rng, data)
    return data[:i] + other[a : a + rng.choice([8, 64, 512, 4096])] + data[i:]


def binary_int(rng: random.Random, data: bytes, seeds: Seeds) -> bytes:
    size = rng.choice([1, 2, 4])
    if len(data) < size:
        return data
    i = rng.randrange(len(data) - size + 1)
    value = rng.choice(INTS) & ((1 << (8 * size)) - 1)
    value = (value + rng.choice([0, 0, 0, 1, -1])) % (1 << (8 * size))
    return data[:i] + value.to_bytes(size, rng.choice(["big", "little"])) + data[i + size :]


TEXT_MUTATIONS: list[Mutation] = [
    bit_flip, set_byte, insert_bytes, delete_bytes, duplicate_chunk, truncate, numeric_token,
    numeric_token, numeric_token, huge_number, unicode_text, nul, line_endings, line_shuffle,
    line_shuffle, token_swap, token_swap, splice,
]  # fmt: skip
BINARY_MUTATIONS: list[Mutation] = [
    bit_flip, bit_flip, set_byte, insert_bytes, delete_bytes, duplicate_chunk, truncate,
    binary_int, binary_int, binary_int, splice, nul,
]  # fmt: skip


def mutate(rng: random.Random, data: bytes, seeds: Seeds, mutations: list[Mutation]) -> bytes:
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4, 8])):
        data = rng.choice(mutations)(rng, data, seeds)[:MAX_INPUT_BYTES]
    return data


# --- chunked binary files: mutate inside one chunk, then make the sizes right again ---------


def split_chunks(data: bytes, riff: bool) -> tuple[bytes, list[tuple[bytes, bytes]]] | None:
    """(head, [(chunk id, payload)]) of a MIDI file (big-endian) or RIFF WAV (little-endian)."""
    if riff:
        if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
            return None
        head, pos = data[:12], 12
    else:
        head, pos = b"", 0
    chunks = []
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4 : pos + 8], "little" if riff else "big")
        chunks.append((data[pos : pos + 4], data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1 if riff else 0)
    return (head, chunks) if chunks else None


def join_chunks(head: bytes, chunks: list[tuple[bytes, bytes]], riff: bool) -> bytes:
    order = "little" if riff else "big"
    pad = 1 if riff else 0  # RIFF chunks are padded to an even size
    body = b"".join(
        name + len(payload).to_bytes(4, order) + payload + b"\0" * (len(payload) & pad)
        for name, payload in chunks
    )
    if riff:
        return b"RIFF" + (len(body) + 4).to_bytes(4, "little") + b"WAVE" + body
    return head + body


def mutate_chunked(rng: random.Random, data: bytes, seeds: Seeds, riff: bool) -> bytes:
    parts = split_chunks(data, riff)
    if parts is None:
        return mutate(rng, data, seeds, BINARY_MUTATIONS)
    head, chunks = parts
    choice = rng.randrange(10)
    i = rng.randrange(len(chunks))
    if choice == 0:
        chunks.insert(rng.randrange(len(chunks) + 1), chunks[i])
    elif choice == 1 and len(chunks) > 1:
        del chunks[i]
    elif choice == 2:
        j = rng.randrange(len(chunks))
        chunks[i], chunks[j] = chunks[j], chunks[i]
    else:
        name, payload = chunks[i]
        chunks[i] = (name, mutate(rng, payload, seeds, BINARY_MUTATIONS))
    return join_chunks(head, chunks, riff)


# --- seeds ---------------------------------------------------------------------------------


@dataclass
class Seeds:
    """The valid files of one target, and the words they use (for token swaps)."""

    items: list[tuple[str, bytes]]
    words: list[bytes] = field(default_factory=list)

    @classmethod
    def of(cls, items: list[tuple[str, bytes]], text: bool) -> Seeds:
        words: set[bytes] = set()
        if text:
            for _, data in items:
                words.update(m.group() for m in _WORD.finditer(data[:20000]))
        return cls(items, sorted(words))


def model_songs() -> list[Any]:
    """Songs built with tracker.model that use every part of the format."""
    from tracker.model.song import (
        CUT,
        OFF,
        Clip,
        EffectCell,
        EffectSpec,
        Master,
        NoteCell,
        Pattern,
        Song,
        Track,
        TrackKind,
    )

    songs = [Song()]
    one = Pattern(16, "one")
    one.set_note(0, 0, 0, NoteCell(60, 1, 100, None))
    one.set_note(0, 2, 0, NoteCell(OFF, None, None, 5))
    one.set_note(0, 4, 0, NoteCell(127, None, 1, 23))
    one.set_note(0, 6, 0, NoteCell(CUT))
    one.set_note(0, 8, 0, NoteCell(0, 1, 127, 0))
    for row, (command, value) in enumerate(
        [("C", 0x0740), ("B", 0x2000), ("P", 5), ("A", 0x40), ("R", 6), ("L", 12), ("T", 92.5)]
    ):
        one.set_effect(0, row * 2, 0, EffectCell(command, value, row or None))
    songs.append(
        Song(
            title='One "quoted" \\ track',
            instruments={1: "bass"},
            tracks=[Track("T", instrument=1)],
            patterns={0: one},
            order=[0, 0],
            loop=(0, 1),
        )
    )
    verse, chorus = Pattern(8, "verse"), Pattern(4, "chorus")
    for column in range(3):
        verse.set_note(0, column, column, NoteCell(36 + column, 2, 90 + column, column))
    verse.set_effect(0, 1, 1, EffectCell("C", 0x4000 + 64))
    verse.set_note(1, 3, 0, NoteCell(72, 3, None, None))
    chorus.set_note(0, 0, 0, NoteCell(OFF))
    chorus.set_effect(1, 2, 0, EffectCell("T", 140))
    bus_filter = EffectSpec("filter", {"mode": "lowpass", "cutoff": 800.0})
    echo = EffectSpec("delay", {"time": 375.0, "feedback": 0.4})
    tracks = [
        Track("Drums", instrument=2, channel=10, note_columns=3, effect_columns=2),
        Track("Synth", kind=TrackKind.MIDI, port="Synth 1", program=5, bank=300, instrument=3),
        Track("Bus", kind=TrackKind.GROUP, effects=[bus_filter]),
        Track("Verb", kind=TrackKind.RETURN, effects=[EffectSpec("reverb", {"size": 0.7})]),
        Track("Tape", kind=TrackKind.AUDIO, clips=[Clip(0, "audio/take 1.wav"), Clip(96, "b")]),
        Track("Frozen", frozen="audio/Frozen.freeze.wav", effects=[echo]),
    ]
    tracks[0].output, tracks[0].sends, tracks[4].output = "Bus", {"Verb": -6.0}, "Bus"
    tracks[1].pan, tracks[1].volume_db, tracks[1].mute, tracks[4].solo = -0.5, -3.5, True, True
    songs.append(
        Song(
            title="Mixing",
            bpm=97.25,
            lines_per_beat=8,
            ticks_per_line=6,
            swing=60.0,
            time_signature=(7, 8),
            instruments={2: "drums", 3: "keys"},
            tracks=tracks,
            patterns={3: verse, 7: chorus},
            order=[3, 7, 3],
            loop=(1, 2),
            master=Master(-1.0, [EffectSpec("limiter", {"ceiling": -0.3})]),
        )
    )
    wide = Pattern(4)
    for track in range(20):
        wide.set_note(track, track % 4, 0, NoteCell(40 + track))
    songs.append(
        Song(
            instruments={1: "lead"},
            tracks=[Track(f"T{i}", instrument=1, channel=i % 16 + 1) for i in range(20)],
            patterns={0: wide},
            order=[0],
        )
    )
    return songs


def song_seeds() -> list[tuple[str, bytes]]:
    """The demo song, each of its patterns cut to 16 rows with the whole header (a full demo
    parses in 20 ms, an excerpt in 2), and the model's songs."""
    from tracker.model.serialize import dumps, loads
    from tracker.model.song import Pattern

    demo_text = (REPO / "patterns" / "demo.song").read_text()
    seeds = [("demo.song", demo_text.encode())]
    demo = loads(demo_text)
    for pattern_id, pattern in sorted(demo.patterns.items()):
        short = Pattern(min(16, pattern.length), pattern.name)
        short.data = {
            track: {row: cells for row, cells in rows.items() if row < short.length}
            for track, rows in pattern.data.items()
        }
        demo.patterns, demo.order, demo.loop = {pattern_id: short}, [pattern_id], None
        seeds.append((f"demo pattern {pattern_id}", dumps(demo).encode()))
    seeds += [(f"model song {i}", dumps(s).encode()) for i, s in enumerate(model_songs())]
    return seeds


def mido_files() -> list[tuple[str, bytes]]:
    import mido

    def save(midi: mido.MidiFile) -> bytes:
        out = io.BytesIO()
        midi.save(file=out)
        return out.getvalue()

    M, Meta = mido.Message, mido.MetaMessage
    simple = mido.MidiFile(type=0, ticks_per_beat=96)
    simple.tracks.append(mido.MidiTrack([
        Meta("set_tempo", tempo=500000), Meta("time_signature", numerator=3, denominator=4),
        M("note_on", note=60, velocity=100), M("note_off", note=60, time=96),
        M("note_on", note=64, velocity=90), M("note_on", note=64, velocity=0, time=48),
    ]))  # fmt: skip
    busy = mido.MidiFile(type=1, ticks_per_beat=480)
    busy.tracks.append(mido.MidiTrack([
        Meta("track_name", name="Conductor"), Meta("set_tempo", tempo=400000),
        Meta("key_signature", key="Bb"), Meta("text", text="hello"), Meta("marker", text="A"),
        Meta("smpte_offset", hours=1), Meta("set_tempo", tempo=300000, time=960),
        Meta("set_tempo", tempo=600000, time=1), Meta("set_tempo", tempo=1, time=0),
    ]))  # fmt: skip
    piano = [Meta("track_name", name="Piano\x81 lead"), M("program_change", program=5)]
    for i in range(12):
        piano += [
            M("note_on", note=48 + i, velocity=80 + i, time=i % 3 * 40),
            M("control_change", control=64, value=127 if i % 2 else 0),
            M("pitchwheel", pitch=-8192 + i * 1000, channel=0),
            M("note_off", note=48 + i, time=i % 4 * 10),
            M("aftertouch", value=i), M("polytouch", note=50, value=i),
        ]  # fmt: skip
    piano += [M("note_on", note=70, velocity=1), M("note_on", note=70, velocity=1),
              M("note_off", note=71), M("sysex", data=[1, 2, 3])]  # fmt: skip
    busy.tracks.append(mido.MidiTrack(piano))
    drums = [M("note_on", channel=9, note=36 + i % 10, velocity=100, time=i % 2 * 120)
             for i in range(30)]  # fmt: skip
    drums += [M("note_on", channel=c, note=60, velocity=50) for c in range(16)]
    busy.tracks.append(mido.MidiTrack(drums))
    files = [("mido type 0", save(simple)), ("mido type 1", save(busy))]
    for ppq in (1, 7919, 32767):
        busy.ticks_per_beat = ppq
        files.append((f"mido ppq {ppq}", save(busy)))
    return files


def midi_seeds(corpus: Path | None) -> list[tuple[str, bytes]]:
    seeds = mido_files()
    for folder in (REPO / "patterns", corpus):
        if folder is not None and folder.is_dir():
            seeds += [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.mid"))]
    return seeds


def preset_seeds() -> list[tuple[str, bytes]]:
    seeds = [(p.name, p.read_bytes()) for p in sorted((REPO / "instruments").glob("*.preset"))]
    layers = (
        b'type sampler\nname "Layers"\nloop forward\nloop-start 10\nloop-end 1900\n'
        b"sample samples/a.wav root C-4 velocity 1-63\n"
        b"sample 'samples/b.wav' root 72 velocity 64-127 loop 0 1000\n"
        b"sample samples/c.wav root G#2\nattack 0.01\nrelease 1e-3\nvelocity-amp 0\n"
        b"gain -96\npolyphony 64\n"
    )
    kit = (
        b"type drumkit\ngain 24\npolyphony 1\nkey 36 samples/a.wav\n"
        b"key C-3 samples/b.wav choke hats gain -3\nkey 127 samples/c.wav gain -96 choke hats\n"
        b'key 0 "samples/a.wav"  # a comment\n'
    )
    seeds += [("layers.preset", layers), ("kit.preset", kit)]
    return seeds


def wav_bytes(data: Any, rate: int, fmt: str, subtype: str | None) -> bytes:
    import soundfile as sf

    out = io.BytesIO()
    sf.write(out, data, rate, format=fmt, subtype=subtype)
    return out.getvalue()


AUDIO_KINDS = [  # (name suffix, format, subtype, channels, rate, frames)
    (".wav", "WAV", "FLOAT", 2, 48000, 2000),
    (".wav", "WAV", "PCM_16", 1, 44100, 1500),
    (".wav", "WAV", "PCM_24", 2, 96000, 1000),
    (".wav", "WAV", "PCM_32", 1, 22050, 800),
    (".wav", "WAV", "PCM_U8", 1, 8000, 600),
    (".wav", "WAV", "DOUBLE", 3, 11025, 500),
    (".wav", "WAV", "FLOAT", 1, 7999, 400),
    (".wav", "WAV", "PCM_16", 2, 384000, 3000),
    (".wav", "WAV", "PCM_16", 1, 12345, 1),
    (".wav", "WAV", "FLOAT", 2, 48000, 0),
    (".wav", "WAVEX", "FLOAT", 6, 48000, 300),
    (".wav", "RF64", "PCM_16", 2, 48000, 300),
    (".flac", "FLAC", "PCM_16", 2, 44100, 1000),
    (".aiff", "AIFF", "PCM_24", 1, 48000, 700),
    (".ogg", "OGG", "VORBIS", 2, 44100, 2000),
    (".w64", "W64", "FLOAT", 2, 48000, 500),
    (".caf", "CAF", "ALAC_16", 2, 48000, 500),
    (".au", "AU", "ULAW", 1, 8000, 500),
]


def audio_seeds() -> list[tuple[str, bytes]]:
    import numpy as np

    noise = np.random.default_rng(0)
    seeds = []
    for suffix, fmt, subtype, channels, rate, frames in AUDIO_KINDS:
        data = (noise.random((frames, channels)) - 0.5).astype(np.float32)
        seeds.append((f"seed{suffix}", wav_bytes(data, rate, fmt, subtype)))
    nan = np.zeros((64, 2), np.float32)
    nan[10, 1], nan[20, 0] = np.nan, np.inf
    seeds.append(("nan.wav", wav_bytes(nan, 48000, "WAV", "FLOAT")))
    small = min((REPO / "instruments" / "samples").glob("*.wav"), key=lambda p: p.stat().st_size)
    seeds.append((small.name, small.read_bytes()))
    return seeds


def build_seeds(corpus: Path | None) -> dict[str, Seeds]:
    return {
        "song": Seeds.of(song_seeds(), text=True),
        "midi": Seeds.of(midi_seeds(corpus), text=False),
        "preset": Seeds.of(preset_seeds(), text=True),
        "audio": Seeds.of(audio_seeds(), text=False),
    }


# --- structured random files ---------------------------------------------------------------


EFFECT_VALUES = {"B": (0, 0x3FFF), "P": (0, 0x7F), "A": (0, 0x7F), "R": (1, 0xFFFF),
                 "L": (1, 0xFFFF)}  # fmt: skip


def random_song(rng: random.Random) -> bytes:
    """A random song built with the model, written by dumps (valid unless the model is not)."""
    from tracker.model.serialize import dumps
    from tracker.model.song import Song

    song = Song(
        title=rng.choice(["", "x", "Ünïcode ✓", 'q"uo\\te', "t" * 1000]),
        bpm=rng.choice([1.0, 999.0, 120.0, 133.333, rng.uniform(1, 999)]),
        lines_per_beat=rng.choice([1, 4, 64]),
        ticks_per_line=rng.choice([1, 24, 256]),
        swing=rng.choice([50.0, 75.0, 62.5]),
        time_signature=(rng.randint(1, 64), rng.choice([1, 2, 4, 8, 16, 32, 64])),
    )
    for number in rng.sample(range(1, 256), rng.randint(0, 4)):
        song.instruments[number] = rng.choice(["bass", "drums", "a.b-c_d", "x" * 200])
    song.tracks = [
        random_track_of(rng, i, list(song.instruments)) for i in range(rng.randint(0, 6))
    ]
    for pattern_id in rng.sample(range(10000), rng.randint(0, 4)):
        song.patterns[pattern_id] = random_pattern(rng, song)
    if song.patterns:
        song.order = [rng.choice(list(song.patterns)) for _ in range(rng.randint(0, 20))]
        if song.order and rng.random() < 0.5:
            first = rng.randrange(len(song.order))
            song.loop = (first, rng.randrange(first, len(song.order)))
    try:
        return dumps(song).encode()
    except ValueError:  # the random song broke a rule the model does not enforce
        return b"tracker-song 1\n"


def random_track_of(rng: random.Random, i: int, instruments: list[int]) -> Any:
    from tracker.model.song import Clip, EffectSpec, Track, TrackKind

    kind = rng.choice(list(TrackKind))
    track = Track(rng.choice([f"T{i}", f"Track {i} ✓", f'"{i}"']), kind=kind)
    track.channel, track.mute, track.solo = (
        rng.randint(1, 16),
        rng.random() < 0.3,
        rng.random() < 0.3,
    )
    track.volume_db, track.pan = (
        rng.choice([-120.0, 24.0, 0.0, -6.5]),
        rng.choice([-1.0, 1.0, 0.25]),
    )
    track.note_columns = rng.randint(1, 16) if rng.random() < 0.2 else rng.randint(1, 3)
    track.effect_columns = rng.randint(0, 8) if rng.random() < 0.2 else rng.randint(0, 2)
    if kind is TrackKind.INSTRUMENT and instruments:
        track.instrument = rng.choice(instruments)
    if kind is TrackKind.MIDI:
        track.port, track.program, track.bank = "Port", rng.randint(0, 127), rng.randint(0, 16383)
    if kind is TrackKind.AUDIO:
        track.clips = [Clip(rng.randint(0, 10**9), f"a/{j}.wav") for j in range(rng.randint(0, 3))]
    if rng.random() < 0.2:
        track.frozen = "f/z.wav"
    if rng.random() < 0.3:
        track.effects = [EffectSpec("delay", {"time": rng.uniform(0, 2000), "mode": "ping"})]
    return track


def random_pattern(rng: random.Random, song: Any) -> Any:
    from tracker.model.song import CUT, OFF, EffectCell, NoteCell, Pattern

    pattern = Pattern(rng.choice([1, 16, 64, rng.randint(1, 300)]), rng.choice(["", "p"]))
    for _ in range(rng.randint(0, 40) if song.tracks else 0):
        index = rng.randrange(len(song.tracks))
        track = song.tracks[index]
        row = rng.randrange(pattern.length)
        delay = rng.choice([None, 0, song.ticks_per_line - 1])
        if track.note_columns and rng.random() < 0.7:
            pitch = rng.choice([None, OFF, CUT, rng.randint(0, 127)])
            instrument = rng.choice([None, *song.instruments])
            cell = NoteCell(pitch, instrument, rng.choice([None, 1, 127]), delay)
            pattern.set_note(index, row, rng.randrange(track.note_columns), cell)
        elif track.effect_columns:
            command = rng.choice("CBPARLT")
            if command == "T":
                value: float = rng.uniform(1, 999)
            elif command == "C":
                value = rng.randint(0, 127) * 256 + rng.randint(0, 127)
            else:
                value = rng.randint(*EFFECT_VALUES[command])
            effect = EffectCell(command, value, delay)
            pattern.set_effect(index, row, rng.randrange(track.effect_columns), effect)
    return pattern


SONG_WORDS = [
    "tracker-song", "title", "bpm", "lines-per-beat", "ticks-per-line", "swing", "time-signature",
    "order", "loop", "instrument", "track", "master", "pattern", "kind", "port", "program", "bank",
    "channel", "volume", "pan", "mute", "solo", "columns", "output", "send", "effect", "clip",
    "frozen", "yes", "no", "none", "midi", "audio", "group", "return", "|", "..", "OFF", "^^^",
    "C-4", "C#-1", "G-9", "Bb3", "C0740", "T120", "B2000", "L0001", "4/4", '"x"', '""', '"a\\"b"',
    "delay", "time=375", "cutoff=1e3", "mode=lowpass",
]  # fmt: skip


def token_soup(rng: random.Random, words: list[str]) -> bytes:
    lines = ["tracker-song 1"] if rng.random() < 0.9 else []
    for _ in range(rng.randint(1, 30)):
        indent = rng.choice(["", "", "  ", "\t"])
        tokens = [rng.choice(words) for _ in range(rng.randint(1, 6))]
        tokens += [rng.choice(NUMBERS).decode("utf-8", "replace") for _ in range(rng.randint(0, 2))]
        rng.shuffle(tokens[1:])
        lines.append(indent + " ".join(tokens))
    return "\n".join(lines).encode()


def _vlq(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def random_midi(rng: random.Random) -> bytes:
    """A MIDI file from raw bytes: headers and events of every kind, sizes right or wrong."""
    fmt = rng.choice([0, 1, 1, 1, 2, 3, 0xFFFF])
    tracks = [random_track(rng) for _ in range(rng.choice([0, 1, 1, 2, 3, 8]))]
    declared = len(tracks) if rng.random() < 0.9 else rng.choice([0, 1, 100, 0xFFFF])
    division = rng.choice([1, 2, 3, 24, 96, 96, 480, 960, 7919, 0x7FFF, 0, 0xE728, 0x8000])
    header = b"MThd" + struct.pack(">IHHH", 6, fmt, declared, division)
    if rng.random() < 0.05:
        header = b"MThd" + struct.pack(">I", rng.choice([0, 4, 10, 0xFFFFFFFF])) + header[8:]
    return header + b"".join(tracks)


def random_track(rng: random.Random) -> bytes:
    body = bytearray()
    running = rng.random() < 0.3
    for _ in range(rng.choice([0, 1, 5, 20, 100])):
        delta = rng.choice([0, 0, 1, 10, 96, 1000, 0x0FFFFFFF])
        body += _vlq(delta) if rng.random() < 0.98 else b"\xff\xff\xff\xff\x7f"
        body += random_event(rng, running)
    if rng.random() < 0.8:
        body += b"\x00\xff\x2f\x00"
    size = len(body) if rng.random() < 0.9 else rng.choice([0, len(body) + 10, 0xFFFFFFFF])
    return b"MTrk" + struct.pack(">I", size) + bytes(body)


def random_event(rng: random.Random, running: bool) -> bytes:
    channel = rng.randrange(16)
    data = rng.randrange(128) if rng.random() < 0.97 else rng.randrange(128, 256)
    kind = rng.randrange(12)
    if kind < 4:
        status = rng.choice([0x80, 0x90, 0x90, 0xA0, 0xB0, 0xE0]) | channel
        event = bytes([status, data, rng.randrange(128)])
        return event[1:] if running and rng.random() < 0.5 else event
    if kind == 4:
        return bytes([rng.choice([0xC0, 0xD0]) | channel, data])
    if kind < 10:
        meta = rng.choice([0x51, 0x51, 0x58, 0x59, 0x03, 0x01, 0x2F, 0x54, 0x00, 0x20, 0x21, 0x7F,
                           rng.randrange(256)])  # fmt: skip
        natural = {0x51: 3, 0x58: 4, 0x59: 2, 0x2F: 0, 0x54: 5, 0x00: 2, 0x20: 1, 0x21: 1}
        length = natural.get(meta, rng.randint(0, 20))
        if rng.random() < 0.2:
            length = rng.choice([0, 1, 2, 6, 300])
        payload = bytes(rng.randrange(256) for _ in range(min(length, 40)))
        if meta == 0x03 and rng.random() < 0.5:
            payload = rng.choice(UNICODE).encode()[:length].ljust(length, b"x")
        return b"\xff" + bytes([meta]) + _vlq(length) + payload.ljust(length, b"\0")
    if kind == 10:
        payload = bytes(rng.randrange(128) for _ in range(rng.randint(0, 10)))
        return rng.choice([b"\xf0", b"\xf7"]) + _vlq(len(payload) + 1) + payload + b"\xf7"
    return bytes([rng.randrange(256) for _ in range(rng.randint(1, 3))])


PRESET_KEYS = [
    "type", "name", "wave", "wave2", "pulse-width", "detune", "mix", "octave2", "attack", "decay",
    "sustain", "release", "cutoff", "resonance", "filter-env", "f-attack", "f-decay",
    "f-sustain", "f-release", "velocity-cutoff", "velocity-amp", "key-track", "gain",
    "polyphony", "glide", "sample", "loop", "loop-start", "loop-end", "key",
]  # fmt: skip
PRESET_VALUES = [
    "synth", "sampler", "drumkit", "saw", "square", "sine", "triangle", "pulse", "noise", "none",
    "forward", "root", "velocity", "choke", "C-4", "C#-1", "G-9", "H-4", "Bb3", "60", "128",
    "1-90", "90-1", "0-127", "1-", "samples/a.wav", "samples/b.wav", "'samples/a.wav'",
    '"samples/c.wav"', "../a.wav", "/etc/passwd", "samples", "samples/", "C:\\a.wav", "a\\b.wav",
    "samples/../samples/a.wav", "missing.wav", "samples/a.raw", '"a b.wav"', "'", '"', "#x",
    "hats", "1e3", "-0", "0.5",
]  # fmt: skip


def random_preset(rng: random.Random) -> bytes:
    lines = [f"type {rng.choice(['synth', 'sampler', 'drumkit', 'drumkit', 'sampler', 'x'])}"]
    for _ in range(rng.randint(0, 12)):
        words = [rng.choice(PRESET_KEYS)]
        for _ in range(rng.choice([0, 1, 1, 1, 2, 3, 5, 7])):
            pool = (
                PRESET_VALUES
                if rng.random() < 0.6
                else [n.decode("utf-8", "replace") for n in NUMBERS[:60]]
            )
            words.append(rng.choice(pool))
        lines.append(" ".join(words))
    rng.shuffle(lines)
    return "\n".join(lines).encode()  # fmt: skip


def random_audio(rng: random.Random) -> tuple[str, bytes]:
    """A soundfile-written file of a random format, or a forged WAV header."""
    import numpy as np
    import soundfile as sf

    if rng.random() < 0.5:
        return ".wav", forged_wav(rng)
    fmt = rng.choice(["WAV", "WAV", "WAVEX", "FLAC", "AIFF", "AU", "W64", "CAF", "RF64", "OGG",
                      "IRCAM", "VOC", "NIST", "SVX", "PAF", "MAT5", "XI"])  # fmt: skip
    subtype = rng.choice(sorted(sf.available_subtypes(fmt)))
    channels = rng.choice([1, 1, 2, 2, 3, 8])
    rate = rng.choice([8000, 11025, 22050, 44100, 48000, 96000, 7999, 384000, 384001, 1, 65535])
    if fmt == "OGG":  # libsndfile's Vorbis encoder segfaults above 384 kHz (1.2.2)
        rate = min(rate, 192000)
    frames = rng.choice([0, 1, 2, 100, 1000])
    data = np.random.default_rng(rng.randrange(2**32)).standard_normal((frames, channels))
    if subtype not in ("FLOAT", "DOUBLE"):  # libsndfile's A-law encoder segfaults on inf
        data = np.clip(data, -1.0, 1.0)
    elif frames and rng.random() < 0.3:
        data[rng.randrange(frames), 0] = rng.choice([np.nan, np.inf, -np.inf, 1e30])
    try:
        return "." + fmt.lower(), wav_bytes(data.astype(np.float32), rate, fmt, subtype)
    except Exception:  # not every format takes every subtype, channel count and rate
        return ".wav", forged_wav(rng)


def forged_wav(rng: random.Random) -> bytes:
    """A RIFF WAVE header whose fields claim anything, with a little data."""
    tag = rng.choice([1, 1, 3, 3, 0xFFFE, 2, 6, 7, 0, rng.randrange(65536)])
    channels = rng.choice([1, 2, 2, 0, 3, 255, 65535])
    rate = rng.choice([48000, 44100, 8000, 0, 1, 7999, 384001, 0xFFFFFFFF])
    bits = rng.choice([8, 16, 24, 32, 64, 0, 12, 65535])
    align = max(channels * bits // 8, 0) & 0xFFFF if rng.random() < 0.8 else rng.randrange(65536)
    fmt = struct.pack("<HHIIHH", tag, channels, rate, (rate * align) & 0xFFFFFFFF, align, bits)
    if tag == 0xFFFE:
        fmt += struct.pack("<HHI", 22, bits, 3) + rng.choice([
            b"\x01\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71",
            b"\x03\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71",
            bytes(16),
        ])  # fmt: skip
    data = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 4, 64, 1000])))
    chunks = [(b"fmt ", fmt), (b"data", data)]
    if rng.random() < 0.3:
        chunks.insert(
            rng.randrange(3), (rng.choice([b"LIST", b"fact", b"smpl", b"junk"]), data[:20])
        )
    out = join_chunks(b"", chunks, riff=True)
    if rng.random() < 0.3:  # a data size claiming far more than the file holds
        at = out.rfind(b"data") + 4
        out = (
            out[:at]
            + struct.pack("<I", rng.choice([0xFFFFFFFF, 0x7FFFFFFF, 10**9]))
            + out[at + 4 :]
        )
    return out  # fmt: skip


# --- making input i -------------------------------------------------------------------------

SUFFIXES = [".wav", ".flac", ".aiff", ".ogg", ".raw", ".mp3", "", ".txt", ".WAV", ".au", ".RAW"]
ABSENT = ["missing.wav", "samples", "samples/", "a/b/c.wav", "x" * 300 + ".wav", "é" * 200]
SAMPLE_PRESETS = [
    "type sampler\nsample {} root C-4\n",
    "type sampler\nloop forward\nsample {} root 60 velocity 1-127\n",
    "type drumkit\nkey 36 {}\nkey 38 {} choke a gain -3\n",
]


def make_case(seed: int, index: int, seeds: dict[str, Seeds]) -> Case:
    rng = random.Random(seed * 1_000_003 + index)
    target = TARGETS[index % len(TARGETS)]
    pool = seeds[target]
    choice = rng.random()
    name, data = rng.choice(pool.items)
    if target == "audio":
        suffix = Path(name).suffix
        if choice < 0.15:
            suffix, data = random_audio(rng)
            how = f"random audio {suffix}"
        elif choice < 0.18:
            data, how = (
                bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))),
                "random bytes",
            )
        elif choice < 0.6:
            data, how = mutate_chunked(rng, data, pool, riff=True), f"chunk mutation of {name}"
        else:
            data, how = mutate(rng, data, pool, BINARY_MUTATIONS), f"mutation of {name}"
        if rng.random() < 0.1:
            suffix = rng.choice(SUFFIXES)
        clip, files = f"clip{suffix}", {f"clip{suffix}": data}
        if rng.random() < 0.03:  # no such file, a folder, a name too long for the system
            clip, files, how = rng.choice(ABSENT), {}, "absent file"
        via = rng.choice(["clip", "clip", "sampler", "drumkit"])
        if via == "clip":
            return Case(target, via, clip, files, [clip.rstrip("/")], how, index)
        template = SAMPLE_PRESETS[2] if via == "drumkit" else rng.choice(SAMPLE_PRESETS[:2])
        files["fuzz.preset"] = template.replace("{}", shlex.quote(clip)).encode()
        # A sampler shows a sample path of over 200 characters cut short.
        return Case(target, via, clip, files, ["fuzz.preset", clip[:150]], how, index)
    if choice < 0.15:
        if target == "song":
            if rng.random() < 0.5:
                data, how = random_song(rng), "random song"
            else:
                words = [w.decode("utf-8", "replace") for w in pool.words[:300]]
                data, how = token_soup(rng, SONG_WORDS + words), "token soup"
        elif target == "midi":
            data, how = random_midi(rng), "random MIDI events"
        else:
            data, how = random_preset(rng), "random preset lines"
        if rng.random() < 0.5:
            data = mutate(rng, data, pool, TEXT_MUTATIONS if target != "midi" else BINARY_MUTATIONS)
            how += ", mutated"
    elif choice < 0.18:
        data, how = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))), "random bytes"
    elif target == "midi" and choice < 0.6:
        data, how = mutate_chunked(rng, data, pool, riff=False), f"chunk mutation of {name}"
    else:
        mutations = BINARY_MUTATIONS if target == "midi" else TEXT_MUTATIONS
        data, how = mutate(rng, data, pool, mutations), f"mutation of {name}"
    entry = {"song": "fuzz.song", "midi": "fuzz.mid", "preset": "fuzz.preset"}[target]
    return Case(target, target, entry, {entry: data}, [entry], how, index)


# --- running one input: the oracle ---------------------------------------------------------


class AfterLoading(Exception):
    """What loaded does not work (cannot be saved, does not read back, cannot play)."""


def prepare_scratch(folder: Path) -> None:
    """The samples the shipped and seed presets name, short so loading them is quick."""
    import numpy as np
    import soundfile as sf

    samples = folder / "samples"
    samples.mkdir(parents=True, exist_ok=True)
    names = set(re.findall(r"samples/([A-Za-z0-9_]+\.wav)", "".join(
        p.read_text() for p in (REPO / "instruments").glob("*.preset")
    )))  # fmt: skip
    noise = np.random.default_rng(1)
    for name in sorted(names | {"a.wav", "b.wav", "c.wav"}):
        # The keys preset loops to frame 91202; the others play short one-shots.
        frames = 91300 if name.startswith("keys") else 2000
        subtype = "PCM_16" if name.startswith("keys") else "FLOAT"
        data = ((noise.random(frames) - 0.5) * 0.5).astype(np.float32)
        sf.write(samples / name, data, RATE, subtype=subtype)


def load_case(case: Case, folder: Path) -> None:
    """Load the case's entry with the real loader; raise AfterLoading if the result is bad."""
    import numpy as np

    path = folder / case.entry
    if case.via in ("song", "midi"):
        from tracker.commands.songs import open_song
        from tracker.model.serialize import dumps, loads

        song, _ = open_song(path)
        try:
            text = dumps(song)
            if case.via == "song" and len(text) < 200_000 and dumps(loads(text, path)) != text:
                raise AfterLoading("a saved song reads back to a different text")
        except AfterLoading:
            raise
        except Exception as exc:
            raise AfterLoading(f"loaded, but {type(exc).__name__}: {exc}") from exc
    elif case.via == "clip":
        from tracker.dsp.audio_clips import load_clip

        audio = load_clip(path, RATE)
        if audio.ndim != 2 or audio.shape[1] != 2 or audio.dtype != np.float32:
            raise AfterLoading(f"clip is {audio.dtype} {audio.shape}, not (frames, 2) float32")
        if not np.isfinite(audio).all():
            raise AfterLoading("clip holds non-finite samples")
    else:
        from tracker.dsp.library import InstrumentLibrary

        factory = InstrumentLibrary(RATE, [folder]).factory("fuzz")
        try:
            instrument = factory.create()
            out = np.zeros(256, np.float32)
            for pitch in (36, 60, 127):
                instrument.note_on(pitch, 100)
            instrument.render(out)
            instrument.note_off(60)
            instrument.render(out)
            finite = bool(np.isfinite(out).all())
        except Exception as exc:
            raise AfterLoading(f"loaded, but {type(exc).__name__}: {exc}") from exc
        if not finite:
            raise AfterLoading("the instrument plays non-finite samples")


def _ours(filename: str) -> bool:
    return filename.startswith(str(REPO / "tracker"))


def _relative(filename: str) -> str:
    return str(Path(filename).relative_to(REPO))


def where(exc: BaseException) -> str:
    """The deepest frame in tracker/ (and the frame that raised, if elsewhere)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if _ours(f.filename)]
    site = f"{_relative(ours[-1].filename)}:{ours[-1].lineno}" if ours else "?"
    if frames and (not ours or frames[-1] is not ours[-1]):
        site += f" via {Path(frames[-1].filename).name}:{frames[-1].name}"
    return site


def message_problem(message: str, names: list[str], folder: Path) -> str | None:
    if _LINE_BREAKING.search(message):
        return "message breaks the line or holds control characters"
    missing = [n for n in names if n not in message]
    if missing:
        return f"message does not name {missing[0]}"
    if len(message) > MESSAGE_SLACK + len(str(folder)) * len(names) + sum(map(len, names)):
        return "message is too long for one line"
    return None


def run_case(case: Case, folder: Path) -> Outcome | None:
    """Write the case's files, load them, remove them; None when the product rule holds.

    A warning counts too: the command would print it above its one line.
    """
    import warnings

    warned: list[Outcome] = []

    def show_warning(message: Warning | str, category: type[Warning], *_: object) -> None:
        stack = [f for f in traceback.extract_stack() if _ours(f.filename)]
        site = f"{_relative(stack[-1].filename)}:{stack[-1].lineno}" if stack else "?"
        warned.append(Outcome("warning", category.__name__, one_line(str(message)), site))

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show_warning
        outcome = _load_and_judge(case, folder)
    return outcome or (warned[0] if warned else None)


def _load_and_judge(case: Case, folder: Path) -> Outcome | None:
    from tracker.model.errors import TrackerError

    written = []
    try:
        for name, data in case.files.items():
            path = folder / name
            path.write_bytes(data)
            written.append(path)
        load_case(case, folder)
    except AfterLoading as exc:
        cause = exc.__cause__ or exc
        return Outcome("after loading", type(cause).__name__, one_line(str(exc)), where(cause))
    except TrackerError as exc:
        problem = message_problem(str(exc), case.names, folder)
        if problem is None:
            return None
        message = repr(str(exc))[:300]
        return Outcome(f"bad message: {problem}", type(exc).__name__, message, where(exc))
    except Exception as exc:
        return Outcome("crash", type(exc).__name__, one_line(str(exc)), where(exc))
    finally:
        for path in written:
            path.unlink(missing_ok=True)
    return None


def one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:200] + "…"


# --- worker processes ----------------------------------------------------------------------


def worker_main(
    conn: Connection,
    parent_end: Connection,
    seed: int,
    seeds: dict[str, Seeds],
    folder: Path,
    memory: int,
) -> None:
    import resource

    parent_end.close()  # inherited by fork: held here, it would hide the parent's exit
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    prepare_scratch(folder)
    # Load every loader once (and numba's cached kernels) before the clock starts.
    warm_up = [("preset", "fuzz.preset", (REPO / "instruments" / f"{name}.preset").read_bytes())
               for name in ("keys", "drums", "bass")]  # fmt: skip
    warm_up += [("song", "fuzz.song", seeds["song"].items[1][1]),
                ("midi", "fuzz.mid", seeds["midi"].items[0][1]),
                ("clip", "clip.wav", seeds["audio"].items[0][1])]  # fmt: skip
    for via, entry, data in warm_up:
        run_case(Case(via, via, entry, {entry: data}, [entry], "warm-up"), folder)
    if memory:
        with open("/proc/self/status") as status:
            size = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
        limit = (size << 10) + (memory << 20)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    conn.send(("ready", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    # What C libraries print lands in a file, to be seen per input (mpg123 inside libsndfile
    # writes "Note: Illegal Audio-MPEG-Header" to fd 2 itself).
    terminal = os.dup(2)
    log = os.open(folder / "stderr.log", os.O_RDWR | os.O_CREAT | os.O_TRUNC)
    os.dup2(log, 2)
    try:
        serve(conn, seed, seeds, folder)
    finally:
        os.dup2(terminal, 2)


def serve(conn: Connection, seed: int, seeds: dict[str, Seeds], folder: Path) -> None:
    import resource

    parent = os.getppid()
    printed_bytes = 0
    while True:
        if not conn.poll(2.0):
            if os.getppid() != parent:  # the parent is gone: nobody wants our answers
                return
            continue
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        case = make_case(seed, request, seeds) if isinstance(request, int) else request
        started = time.perf_counter()
        outcome = run_case(case, folder)
        seconds = time.perf_counter() - started
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        sys.stderr.flush()
        size = os.fstat(2).st_size
        printed = ""
        if size > printed_bytes:
            text = os.pread(2, min(size - printed_bytes, 400), printed_bytes)
            printed = one_line(text.decode("utf-8", "replace"))
            printed_bytes = size
        answer = (case.index, outcome, seconds, rss, case.how, printed, case if outcome else None)
        conn.send(answer)


class Worker:
    def __init__(
        self, number: int, args: argparse.Namespace, seeds: dict[str, Seeds], root: Path
    ) -> None:
        self.folder = root / f"worker{number}"
        self.folder.mkdir(exist_ok=True)
        context = get_context("fork")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=worker_main,
            args=(child, self.conn, args.seed, seeds, self.folder, args.memory),
            daemon=True,
        )
        self.process.start()
        child.close()
        self.busy: int | Case | None = None
        self.started = 0.0
        _, self.start_rss = self.conn.recv()  # ("ready", its RSS after warming up)
        self.peak_rss = self.start_rss

    def send(self, request: int | Case) -> None:
        self.busy, self.started = request, time.perf_counter()
        self.conn.send(request)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# --- the run -------------------------------------------------------------------------------


@dataclass
class Failure:
    outcome: Outcome
    case: Case
    count: int = 0


@dataclass
class Tally:
    inputs: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, list[float]] = field(default_factory=dict)
    slowest: list[tuple[float, str, int, str]] = field(default_factory=list)
    distinct: dict[tuple[str, str, str, str], Failure] = field(default_factory=dict)
    memory: list[tuple[int, str, int, str]] = field(default_factory=list)  # RSS jumps
    printed: dict[str, list[Any]] = field(default_factory=dict)  # C output: [count, text, first]

    def add(self, target: str, seconds: float, case_index: int, how: str) -> None:
        self.inputs[target] += 1
        self.seconds.setdefault(target, []).append(seconds)
        self.slowest.append((seconds, target, case_index, how))
        if len(self.slowest) > 200:
            self.slowest = sorted(self.slowest, reverse=True)[:5]

    def fail(self, outcome: Outcome, case: Case) -> None:
        self.failures[case.target] += 1
        found = self.distinct.setdefault(outcome.signature(case.via), Failure(outcome, case))
        found.count += 1
        if found.count == 1:
            print(f"  failure: {case.via} #{case.index} {outcome.kind}: {outcome.error}: "
                  f"{outcome.message} [{outcome.site}]", file=sys.stderr, flush=True)  # fmt: skip


class Pool:
    def __init__(self, args: argparse.Namespace, seeds: dict[str, Seeds], root: Path) -> None:
        self.args, self.seeds, self.root = args, seeds, root
        self.workers = [Worker(n, args, seeds, root) for n in range(args.workers)]
        self.spawned = len(self.workers)

    def replace(self, worker: Worker) -> Worker:
        worker.stop()
        fresh = Worker(self.spawned, self.args, self.seeds, self.root)
        self.spawned += 1
        self.workers[self.workers.index(worker)] = fresh
        return fresh

    def check(self, case: Case) -> Outcome | None:
        """Run one case on a worker and wait (for shrinking reproducers)."""
        worker = self.workers[0]
        worker.send(case)
        if not worker.conn.poll(self.args.timeout):
            self.replace(worker)
            return Outcome("hang", "Timeout", "", "")
        try:
            answer = worker.conn.recv()
        except EOFError:
            self.replace(worker)
            return Outcome("worker died", "Signal", "", "")
        worker.busy = None
        outcome: Outcome | None = answer[1]
        return outcome

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()


def fuzz(args: argparse.Namespace, pool: Pool, tally: Tally) -> float:
    started = time.perf_counter()
    next_index, done, next_report = 0, 0, 10_000

    def out_of_time() -> bool:
        return args.seconds is not None and time.perf_counter() - started > args.seconds

    while True:
        for worker in pool.workers:
            if worker.busy is None and next_index < args.inputs and not out_of_time():
                worker.send(next_index)
                next_index += 1
        busy = [w for w in pool.workers if w.busy is not None]
        if not busy:
            break
        ready = wait([w.conn for w in busy], timeout=0.25)
        now = time.perf_counter()
        for worker in busy:
            index = worker.busy
            assert isinstance(index, int)
            if worker.conn in ready:
                try:
                    _, outcome, seconds, rss, how, printed, case = worker.conn.recv()
                except EOFError:
                    code = worker.process.exitcode
                    lost = make_case(args.seed, index, pool.seeds)
                    tally.add(lost.target, now - worker.started, index, lost.how)
                    tally.fail(Outcome("worker died", f"exit {code}", "", "?"), lost)
                    pool.replace(worker)
                    done += 1
                    continue
                worker.busy = None
                target = TARGETS[index % len(TARGETS)]
                tally.add(target, seconds, index, how)
                if rss > worker.peak_rss + (64 << 10):
                    lost = case or make_case(args.seed, index, pool.seeds)
                    tally.memory.append((rss - worker.start_rss, target, index, lost.how))
                worker.peak_rss = max(worker.peak_rss, rss)
                if outcome is not None:
                    tally.fail(outcome, case)
                if printed:
                    tally.printed.setdefault(target, [0, printed, index])[0] += 1
                done += 1
            elif now - worker.started > args.timeout:
                lost = make_case(args.seed, index, pool.seeds)
                tally.add(lost.target, now - worker.started, index, lost.how)
                tally.fail(Outcome("hang", "Timeout", f"over {args.timeout:g} s", "?"), lost)
                pool.replace(worker)
                done += 1
        if done >= next_report:
            rate = done / (time.perf_counter() - started)
            print(f"  {done} inputs, {rate:.0f}/s, {sum(tally.failures.values())} failures",
                  file=sys.stderr, flush=True)  # fmt: skip
            next_report += 10_000
    return time.perf_counter() - started


# --- reproducers ---------------------------------------------------------------------------


def shrink(case: Case, signature: tuple[str, str, str, str], pool: Pool, budget: float) -> Case:
    """Remove pieces of the fuzzed file while the same failure remains (delta debugging)."""
    deadline = time.perf_counter() + budget
    data = case.files[case.entry]

    def same(candidate: bytes) -> bool:
        trial = Case(case.target, case.via, case.entry, {**case.files, case.entry: candidate},
                     case.names, case.how, case.index)  # fmt: skip
        outcome = pool.check(trial)
        return outcome is not None and outcome.signature(case.via) == signature

    chunk = max(len(data) // 2, 1)
    while chunk >= 1 and time.perf_counter() < deadline:
        i, removed = 0, False
        while i < len(data) and time.perf_counter() < deadline:
            candidate = data[:i] + data[i + chunk :]
            if same(candidate):
                data, removed = candidate, True
            else:
                i += chunk
        if not removed:
            chunk //= 2
    return Case(case.target, case.via, case.entry, {**case.files, case.entry: data}, case.names,
                case.how, case.index)  # fmt: skip


def save(failure: Failure, number: int, folder: Path) -> Path:
    outcome, case = failure.outcome, failure.case
    place = folder / f"{number:02d}-{case.via}-{outcome.error.replace(' ', '_')}"
    shutil.rmtree(place, ignore_errors=True)
    place.mkdir(parents=True)
    for name, data in case.files.items():
        (place / name).write_bytes(data)
    meta = {k: v for k, v in asdict(case).items() if k != "files"}
    meta.update(files=sorted(case.files), outcome=asdict(outcome), count=failure.count)
    (place / "case.json").write_text(json.dumps(meta, indent=2) + "\n")
    return place


def replay(folder: Path) -> int:
    """Run a saved reproducer in this process and show what it raises."""
    meta = json.loads((folder / "case.json").read_text())
    files = {name: (folder / name).read_bytes() for name in meta["files"]}
    case = Case(meta["target"], meta["via"], meta["entry"], files, meta["names"], meta["how"])
    with tempfile.TemporaryDirectory() as scratch:
        prepare_scratch(Path(scratch))
        for name, data in files.items():
            (Path(scratch) / name).write_bytes(data)
        from tracker.model.errors import TrackerError

        try:
            load_case(case, Path(scratch))
        except TrackerError as exc:
            print(f"{type(exc).__name__}: {exc}")
        except Exception:
            traceback.print_exc()
        outcome = run_case(case, Path(scratch))
    print(f"{folder}: {'passes' if outcome is None else outcome}")
    return 0 if outcome is None else 1


# --- main ----------------------------------------------------------------------------------


def scratch_root() -> Path:
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="tracker-fuzz-", dir=base))


def report(
    args: argparse.Namespace, tally: Tally, elapsed: float, pool: Pool, seeds: dict[str, Seeds]
) -> None:
    total = sum(tally.inputs.values())
    print(f"{'loader':<8} {'seeds':>6} {'inputs':>8} {'failures':>9} {'mean ms':>8} {'p99 ms':>8}"
          f" {'max ms':>8}")  # fmt: skip
    for target in TARGETS:
        times = sorted(tally.seconds.get(target, [0.0]))
        mean = 1000 * sum(times) / len(times)
        p99 = 1000 * times[min(len(times) - 1, int(len(times) * 0.99))]
        print(
            f"{target:<8} {len(seeds[target].items):6d} {tally.inputs[target]:8d}"
            f" {tally.failures[target]:9d} {mean:8.2f} {p99:8.2f} {1000 * times[-1]:8.1f}"
        )
    slowest = sorted(tally.slowest, reverse=True)[:5]
    print("slowest inputs: " + "; ".join(
        f"{target} #{index} {seconds * 1000:.0f} ms ({how})" for seconds, target, index, how
        in slowest
    ))  # fmt: skip
    peak = max(w.peak_rss for w in pool.workers) >> 10
    start = min(w.start_rss for w in pool.workers) >> 10
    jumps = sorted(tally.memory, reverse=True)[:3]
    print(
        f"memory: peak RSS {peak} MiB per worker (start {start} MiB, address space capped at"
        f" +{args.memory} MiB); jumps over 64 MiB: "
        + ("; ".join(f"{t} #{i} +{r >> 10} MiB ({h})" for r, t, i, h in jumps) or "none")
    )
    for target, (count, text, index) in sorted(tally.printed.items()):
        print(f"note: {count} {target} input(s) made a C library print to stderr (not counted"
              f" as failures), first #{index}: {text}")  # fmt: skip
    failed = sum(tally.failures.values())
    print(f"failures: {failed} ({len(tally.distinct)} distinct)")
    for number, (signature, failure) in enumerate(sorted(tally.distinct.items()), 1):
        outcome = failure.outcome
        print(f"  {number}. {signature[0]}: {outcome.kind}: {outcome.error}: {outcome.message}"
              f" [{outcome.site}] x{failure.count}, first #{failure.case.index}"
              f" ({failure.case.how})")  # fmt: skip
        shrinkable = failure.case.entry in failure.case.files
        if shrinkable and outcome.kind not in ("hang", "worker died"):
            failure.case = shrink(failure.case, signature, pool, args.shrink_seconds)
        place = save(failure, number, args.save_dir)
        size = len(failure.case.files.get(failure.case.entry, b""))
        print(f"     reproducer ({size} bytes): {place}  (python bench/fuzz.py --replay {place})")
    corpus = args.corpus if args.corpus.is_dir() else f"{args.corpus} (absent, skipped)"
    print(f"MIDI corpus: {corpus}")
    print(f"{total} inputs in {elapsed:.1f} s: {total / elapsed:.0f} inputs/s on {args.workers}"
          f" worker(s), {args.timeout:g} s limit per input, failures {failed}")  # fmt: skip
    print("command: " + " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument(
        "--seconds", type=float, default=None, help="stop starting inputs after this"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds one input may take")
    parser.add_argument(
        "--memory", type=int, default=2048, help="MiB a worker may grow (0: no cap)"
    )
    parser.add_argument("--save-dir", type=Path, default=Path("fuzz-failures"))
    parser.add_argument("--shrink-seconds", type=float, default=20.0)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "midi")
    parser.add_argument("--replay", type=Path, help="run one saved reproducer and exit")
    args = parser.parse_args()
    if args.replay:
        return replay(args.replay)
    seeds = build_seeds(args.corpus if args.corpus.is_dir() else None)
    root = scratch_root()
    pool = Pool(args, seeds, root)
    tally = Tally()
    try:
        elapsed = fuzz(args, pool, tally)
        report(args, tally, elapsed, pool, seeds)
    finally:
        pool.close()
        shutil.rmtree(root, ignore_errors=True)
    return 1 if tally.distinct else 0


if __name__ == "__main__":
    raise SystemExit(main())
