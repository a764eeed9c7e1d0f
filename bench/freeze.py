"""Freeze speed, and the CPU a frozen song saves, on a made-up song of built-in instruments.

    python bench/freeze.py [--seconds 300] [--tracks 16] [--repeat 3]

1. Freeze speed: a --tracks track, --seconds long song of the shipped presets (a drum track on
   channel 10, a note every 1 or 2 rows on every track), saved into a temporary folder; every
   track rendered pre-fader to `audio/NAME.freeze.wav` (32-bit float) as freezing does, once,
   timed per track and in all. The target is 100x realtime. FluidSynth renders the same song
   exported to MIDI (`fluidsynth -ni -F out.wav -r 48000 FluidR3_GM.sf2 song.mid`, start-up
   included) when it is installed, for the ratio (FluidSynth time / ours).
2. CPU saving: the whole mix rendered in memory (no file) with every track playing notes, then
   with every track frozen, interleaved, best of --repeat: process CPU and wall seconds, the
   ratio, and a null check (the largest difference between the two mixes, in dBFS).

Numba kernels are compiled (or loaded from their cache) by a short warm-up render first, as
they are in a running tracker. Figures only: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import copy
import math
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

from tracker.dsp.gm import PROGRAM_FOR_PRESET
from tracker.engine.timeline import length_seconds
from tracker.midi.export_file import midi_file
from tracker.model import freezing
from tracker.model.serialize import save_song
from tracker.model.song import NoteCell, Pattern, Song, Track, TrackKind
from tracker.render.freeze import freeze_track, freeze_tracks
from tracker.render.offline import OfflineRender, RenderJob

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
RATE = 48000
ROWS = 64  # rows per pattern: 16 beats at 4 lines per beat
PATTERNS = 4  # distinct patterns, cycled through the order list
BEATS_PER_ENTRY = ROWS // 4
NOMINAL_BPM = 128.0  # nudged so whole patterns fill --seconds exactly
PRESETS = ["drums", "bass", "lead", "pad", "pluck", "keys", "strings", "brass", "bell", "organ"]
PITCHES = {"bass": (28, 52), "bell": (67, 96), "pad": (48, 76), "strings": (48, 84)}
DRUM_KEYS = [36, 38, 42, 42, 46, 49, 51, 39, 45, 48]
MELODIC_CHANNELS = [c for c in range(1, 17) if c != 10]


def make_song(seconds: float, tracks: int, seed: int = 1) -> Song:
    """A song of `tracks` instrument tracks lasting `seconds`, the same every time."""
    rng = random.Random(seed)
    entries = max(1, round(seconds * NOMINAL_BPM / (BEATS_PER_ENTRY * 60)))
    song = Song(title="Freeze bench", bpm=entries * BEATS_PER_ENTRY * 60 / seconds)
    song.instruments = {number: name for number, name in enumerate(PRESETS, start=1)}
    melodic = 0
    for index in range(tracks):
        preset = PRESETS[index % len(PRESETS)]
        if preset == "drums":
            channel = 10
        else:
            channel = MELODIC_CHANNELS[melodic % len(MELODIC_CHANNELS)]
            melodic += 1
        song.tracks.append(
            Track(
                name=f"{preset.capitalize()}{index + 1:02d}",
                kind=TrackKind.INSTRUMENT,
                instrument=PRESETS.index(preset) + 1,
                channel=channel,
                volume_db=-9.0,
                pan=rng.uniform(-0.6, 0.6),
            )
        )
    for pattern_id in range(PATTERNS):
        pattern = Pattern(ROWS, name=f"P{pattern_id}")
        for index in range(tracks):
            preset = PRESETS[index % len(PRESETS)]
            low, high = PITCHES.get(preset, (48, 84))
            row = rng.randrange(2)
            while row < ROWS:
                pitch = rng.choice(DRUM_KEYS) if preset == "drums" else rng.randint(low, high)
                pattern.set_note(index, row, 0, NoteCell(pitch, velocity=rng.randint(60, 120)))
                row += rng.choice((1, 2))
        song.patterns[pattern_id] = pattern
    song.order = [i % PATTERNS for i in range(entries)]
    return song


def warm_up(song: Song, folder: Path) -> None:
    """Load the numba kernels and every preset's code once, untimed."""
    for index in range(min(len(song.tracks), len(PRESETS))):
        job = RenderJob(song, RATE, pattern=song.order[0], track=index, song_dir=folder, tail=0)
        for _ in OfflineRender(job).blocks():
            pass


def freeze_all(song: Song, folder: Path) -> tuple[list[float], Song]:
    """Freeze every track with `tracker freeze`'s own code; the wall seconds of each, and the
    song with every track frozen."""
    timings = []
    frozen = copy.deepcopy(song)
    for index in range(len(song.tracks)):
        started = time.perf_counter()
        relative = freeze_track(song, index, folder, (folder,))
        timings.append(time.perf_counter() - started)
        freezing.freeze(frozen, index, relative)
    return timings, frozen


def fluidsynth_seconds(song: Song, folder: Path) -> float:
    """Wall seconds of FluidSynth rendering the song (programs set to match our presets)."""
    midi = midi_file(song)
    for midi_track, track in zip(midi.tracks[1:], song.tracks, strict=True):
        if track.channel != 10:
            preset = song.instruments.get(track.instrument or 0, "")
            program = PROGRAM_FOR_PRESET.get(preset, 0)
            message = mido.Message("program_change", channel=track.channel - 1, program=program)
            midi_track.insert(0, message)
    path = folder / "song.mid"
    midi.save(path)
    command = ["fluidsynth", "-ni", "-F", str(folder / "fluid.wav"), "-r", str(RATE)]
    started = time.perf_counter()
    subprocess.run([*command, str(SOUNDFONT), str(path)], check=True, capture_output=True)
    return time.perf_counter() - started


@dataclass(slots=True)
class MixTiming:
    setup_cpu: float = math.inf  # building the render: presets, samples, frozen WAVs read
    render_cpu: float = math.inf  # the blocks
    wall: float = math.inf  # both

    @property
    def cpu(self) -> float:
        return self.setup_cpu + self.render_cpu

    def keep_best(self, setup_cpu: float, render_cpu: float, wall: float) -> None:
        if setup_cpu + render_cpu < self.cpu:
            self.setup_cpu, self.render_cpu = setup_cpu, render_cpu
        self.wall = min(self.wall, wall)


def render_mix(song: Song, folder: Path, timing: MixTiming) -> np.ndarray:
    """Render the whole mix in memory, timed into `timing`; the mix as (frames, 2)."""
    wall, cpu = time.perf_counter(), time.process_time()
    job = RenderJob(song, rate=RATE, search_dirs=(folder,), song_dir=folder)
    render = OfflineRender(job)
    setup_cpu = time.process_time() - cpu
    cpu = time.process_time()
    blocks = [mix.copy() for mix, _ in render.blocks()]
    render_cpu = time.process_time() - cpu
    timing.keep_best(setup_cpu, render_cpu, time.perf_counter() - wall)
    return np.concatenate(blocks) if blocks else np.zeros((0, 2), dtype=np.float32)


def null_dbfs(first: np.ndarray, second: np.ndarray) -> float:
    """The largest sample difference between two mixes (the shorter padded with silence)."""
    frames = max(len(first), len(second))
    a, b = np.zeros((frames, 2), np.float64), np.zeros((frames, 2), np.float64)
    a[: len(first)], b[: len(second)] = first, second
    peak = float(np.abs(a - b).max()) if frames else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def part_freeze(song: Song, folder: Path, seconds: float) -> Song:
    print(f"1. Freeze speed ({len(song.tracks)} tracks, {seconds:.1f} s at {song.bpm:.3f} BPM)")
    warm_up(song, folder)
    timings, frozen = freeze_all(song, folder)
    print(f"   {'track':<12} {'seconds':>8} {'x realtime':>11}")
    for track, elapsed in zip(song.tracks, timings, strict=True):
        print(f"   {track.name:<12} {elapsed:8.2f} {seconds / elapsed:11.1f}")
    total = sum(timings)
    print(f"   {'all':<12} {total:8.2f}")
    print(
        f"   track-seconds frozen per second: {seconds * len(song.tracks) / total:.1f}x realtime"
        f" (target 100x); the whole song frozen track by track: {seconds / total:.1f}x realtime"
    )
    started = time.perf_counter()
    freeze_tracks(song, range(len(song.tracks)), folder, (folder,))  # `tracker freeze --all`
    together = time.perf_counter() - started
    print(
        f"   every track in one pass (tracker freeze --all): {together:.2f} s,"
        f" {seconds / together:.1f}x realtime for the whole song"
        f" ({seconds * len(song.tracks) / together:.1f}x in track-seconds)"
    )
    total = together
    if shutil.which("fluidsynth") is None or not SOUNDFONT.exists():
        print("   FluidSynth: not installed (fluidsynth, fluid-soundfont-gm), skipped")
        return frozen
    fluid = fluidsynth_seconds(song, folder)
    print(
        f"   FluidSynth, the whole song as MIDI: {fluid:.2f} s ({seconds / fluid:.1f}x realtime);"
        f" ratio FluidSynth / freezing every track in one pass: {fluid / total:.2f}"
    )
    return frozen


def part_cpu(song: Song, frozen: Song, folder: Path, repeat: int) -> None:
    print(f"2. CPU saving: the whole mix in memory, unfrozen and frozen, best of {repeat}")
    unfrozen_timing, frozen_timing = MixTiming(), MixTiming()
    for _ in range(repeat):
        unfrozen_mix = render_mix(song, folder, unfrozen_timing)
        frozen_mix = render_mix(frozen, folder, frozen_timing)
    print(f"   {'mix':<9} {'setup CPU':>9} {'render CPU':>10} {'CPU':>7} {'wall':>7} {'frames':>9}")
    rows = [("unfrozen", unfrozen_timing, unfrozen_mix), ("frozen", frozen_timing, frozen_mix)]
    for name, timing, mix in rows:
        print(
            f"   {name:<9} {timing.setup_cpu:9.2f} {timing.render_cpu:10.2f} {timing.cpu:7.2f}"
            f" {timing.wall:7.2f} {len(mix):9d}"
        )
    print(
        f"   frozen / unfrozen: CPU {frozen_timing.cpu / unfrozen_timing.cpu:.3f},"
        f" render CPU alone {frozen_timing.render_cpu / unfrozen_timing.render_cpu:.3f},"
        f" wall {frozen_timing.wall / unfrozen_timing.wall:.3f}"
    )
    difference = null_dbfs(unfrozen_mix, frozen_mix)
    verdict = "ok" if difference <= -90 else "ABOVE -90 dBFS"
    peak = float(np.abs(unfrozen_mix).max()) if len(unfrozen_mix) else 0.0
    print(
        f"   null check: largest difference {difference:.1f} dBFS ({verdict});"
        f" the mix peaks at {20 * math.log10(peak) if peak > 0 else -math.inf:.1f} dBFS"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="song length")
    parser.add_argument("--tracks", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.seconds <= 0 or args.tracks < 1 or args.repeat < 1:
        parser.error("--seconds, --tracks and --repeat must be positive")
    song = make_song(args.seconds, args.tracks)
    seconds = length_seconds(song)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        save_song(song, folder / "song.song")
        (folder / "audio").mkdir()
        frozen = part_freeze(song, folder, seconds)
        part_cpu(song, frozen, folder, args.repeat)
    print(f"made by: python bench/freeze.py {' '.join(sys.argv[1:])}".rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
