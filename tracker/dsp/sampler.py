"""The sampler (`type sampler`): multi-sampled WAVs across the keyboard and velocity layers.

    type sampler
    sample samples/keys_c4_soft.wav root C-4 velocity 1-90 loop 76800 91111
    sample samples/keys_c4_loud.wav root C-4 velocity 91-127
    loop forward          # none | forward (default: loop the samples that give loop points)
    loop-start 0          # frames; for samples whose line gives no `loop START END`
    loop-end 96000
    attack 0.002          # seconds
    release 0.3           # seconds
    velocity-amp 0.7      # 0: velocity leaves the level alone, 1: level follows velocity
    gain -3               # dB
    polyphony 16

A note plays the sample of the velocity layer that holds its velocity whose root is nearest,
resampled with linear interpolation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import soundfile

from tracker.dsp.audio_clips import HEADERLESS, MAX_LEVEL, TOO_LOUD, is_headerless
from tracker.dsp.presets import SHOWN_PATH_CHARS, PresetFile, PresetLine, quoted, shown
from tracker.dsp.sample_kernel import SILENCE, SampleBank, VoicePool
from tracker.model.errors import SongFormatError
from tracker.model.notes import parse_note

# str.isdigit() accepts "²" and "٣", which int() then rejects or reads: ASCII only. Twelve
# digits at most: more is out of every range here, and int() refuses over 4300 digits.
_ASCII_DIGITS = re.compile(r"[0-9]{1,12}")

CUT_SECONDS = 0.003  # a cut, a steal or CC 120 fades this fast: quick, but no click
MAX_SAMPLE_FRAMES = 1 << 26  # ~23 minutes at 48 kHz: beyond that a "sample" is a mistake
# Each zone keeps its own copy of its sample, so a few lines naming one long WAV could ask for
# gigabytes: all of a preset's zones together hold at most 512 MiB of float32.
MAX_BANK_FRAMES = 1 << 27
MAX_ZONES = 128 * 128  # one per (velocity, pitch) cell of the table is already more than enough
BEND_SEMITONES = 2.0
KEYS = {
    "sample",
    "loop",
    "loop-start",
    "loop-end",
    "attack",
    "release",
    "velocity-amp",
    "gain",
    "polyphony",
}


def sample_path(preset: PresetFile, entry: PresetLine, text: str) -> Path:
    """Resolve a sample path against the preset's folder, refusing any way out of it."""
    where = preset.path.parent
    if (
        PurePosixPath(text).is_absolute()
        or PureWindowsPath(text).is_absolute()
        or PureWindowsPath(text).drive
        or ".." in PureWindowsPath(text).parts  # splits on / and \ alike
    ):
        message = f"sample path {quoted(text, SHOWN_PATH_CHARS)} must stay inside {where}"
        raise preset.error(message, entry.line)
    path = where / text
    try:  # a symlink could still lead out
        path.resolve().relative_to(where.resolve())
    except ValueError:
        message = f"sample path {quoted(text, SHOWN_PATH_CHARS)} leads outside {where}"
        raise preset.error(message, entry.line) from None
    return path


def read_sample(preset: PresetFile, entry: PresetLine, text: str) -> tuple[np.ndarray, int]:
    """Read a WAV (or any format libsndfile knows) as mono float32 and its sample rate.

    Raises:
        SongFormatError: at the preset line, naming the WAV, for any file that cannot be used.
    """
    path = sample_path(preset, entry, text)

    def fail(reason: str) -> SongFormatError:
        return preset.error(f"sample {shown(text, SHOWN_PATH_CHARS)}: {reason}", entry.line)

    try:
        is_file = path.is_file()
    except OSError as exc:  # a name too long for the file system, say
        raise fail(f"cannot read audio ({exc.strerror or exc})") from None
    if not is_file:
        raise fail("no such file")
    if is_headerless(path):
        raise fail(f"cannot read audio ({HEADERLESS})")
    try:
        info = soundfile.info(str(path))
        if info.frames > MAX_SAMPLE_FRAMES:
            raise fail(f"{info.frames} frames is too long a sample")
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except SongFormatError:
        raise
    except MemoryError:
        raise fail("not enough memory to load it") from None
    except (soundfile.SoundFileError, RuntimeError, OSError, ValueError, EOFError) as exc:
        # libsndfile reports corrupt and foreign files in several ways; all mean the same here.
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise fail(f"cannot read audio ({detail})") from None
    if audio.shape[0] == 0 or audio.shape[1] == 0:
        raise fail("holds no audio")
    # Checked before mixing down: inf and -inf in one frame would mix to NaN with a warning.
    if not np.isfinite(audio).all():
        raise fail("holds non-finite values")
    if float(np.abs(audio).max()) > MAX_LEVEL:
        raise fail(TOO_LOUD)
    mono = audio.mean(axis=1, dtype=np.float32) if audio.shape[1] > 1 else audio[:, 0].copy()
    return np.ascontiguousarray(mono, np.float32), int(rate)


def midi_note(text: str) -> int:
    """A note name (`C-4`) or a MIDI number (`60`). Raises ValueError."""
    if text.isascii() and text.isdigit():
        if len(text) > 3 or int(text) > 127:
            raise ValueError(f"note {shown(text)} is outside 0..127")
        return int(text)
    if not (text.isascii() and text.isprintable()) or len(text) > 8:  # as parse_note says it
        raise ValueError(f"unknown note {quoted(text)}")
    return parse_note(text)


def frame_count(preset: PresetFile, entry: PresetLine, text: str) -> int:
    if _ASCII_DIGITS.fullmatch(text) is None:
        if text.isascii() and text.isdigit():
            message = f"{entry.key}: {quoted(text)} is more frames than any sample holds"
        else:
            message = f"{entry.key}: {quoted(text)} is not a whole number of frames"
        raise preset.error(message, entry.line)
    return int(text)


def optional_frames(preset: PresetFile, key: str) -> int | None:
    entry = preset.get(key)
    if entry is None:
        return None
    if len(entry.args) != 1:
        raise preset.error(f"{key} takes one whole number of frames", entry.line)
    return frame_count(preset, entry, entry.args[0])


@dataclass(frozen=True, slots=True)
class Zone:
    """One `sample` line: where on the keyboard and in velocity the sample plays."""

    root: int
    low: int
    high: int


def parse_zone(preset: PresetFile, entry: PresetLine) -> tuple[str, Zone, tuple[int, int] | None]:
    """`sample PATH root NOTE [velocity LO-HI] [loop START END]` → (path, zone, loop points)."""
    args = entry.args
    if not args:
        raise preset.error("sample needs a path: sample PATH root NOTE", entry.line)
    name = shown(args[0], SHOWN_PATH_CHARS)
    options: dict[str, tuple[str, ...]] = {}
    i = 1
    widths = {"root": 1, "velocity": 1, "loop": 2}
    while i < len(args):
        word = args[i]
        if word not in widths or word in options or i + widths[word] >= len(args):
            raise preset.error(
                f"sample {name}: expected root NOTE [velocity LO-HI] [loop START END] "
                f"at {quoted(word)}",
                entry.line,
            )
        options[word] = args[i + 1 : i + 1 + widths[word]]
        i += 1 + widths[word]
    if "root" not in options:
        raise preset.error(f"sample {name} needs `root NOTE`", entry.line)
    try:
        root = midi_note(options["root"][0])
    except ValueError as exc:
        raise preset.error(f"sample {name}: {exc}", entry.line) from None
    low, high = 1, 127
    if "velocity" in options:
        lo_text, _, hi_text = options["velocity"][0].partition("-")
        if not (_ASCII_DIGITS.fullmatch(lo_text) and _ASCII_DIGITS.fullmatch(hi_text)) or not (
            0 <= int(lo_text) <= int(hi_text) <= 127
        ):
            raise preset.error(
                f"sample {name}: velocity wants LO-HI within 0-127, "
                f"not {shown(options['velocity'][0])}",
                entry.line,
            )
        low, high = int(lo_text), int(hi_text)
    loop = None
    if "loop" in options:
        loop = (
            frame_count(preset, entry, options["loop"][0]),
            frame_count(preset, entry, options["loop"][1]),
        )
    return args[0], Zone(root, low, high), loop


def check_loop(
    preset: PresetFile, entry: PresetLine, text: str, frames: int, loop: tuple[int, int]
) -> None:
    start, end = loop
    if not 0 <= start < end <= frames:
        raise preset.error(
            f"sample {shown(text, SHOWN_PATH_CHARS)}: loop {start}..{end} must lie within its "
            f"{frames} frames, start < end",
            entry.line,
        )


def choose_samples(zones: list[Zone]) -> np.ndarray:
    """The sample each (velocity, pitch) plays, as a 128x128 table, worked out once.

    The layers holding the velocity come first (else the nearest layer); among them the nearest
    root; on a tie the higher root, since pitching a sample down adds no aliasing; then the
    first zone. Vectorised over pitches: a preset of thousands of zones loads in moments.
    """
    roots = np.array([z.root for z in zones], np.int64)
    lows = np.array([z.low for z in zones], np.int64)
    highs = np.array([z.high for z in zones], np.int64)
    velocities = np.arange(128)[:, None]
    distance = np.maximum(np.maximum(lows - velocities, velocities - highs), 0)
    nearest = distance == distance.min(axis=1, keepdims=True)
    pitches = np.arange(128)[:, None]
    table = np.zeros((128, 128), np.int64)
    for velocity in range(128):
        layer = np.flatnonzero(nearest[velocity])
        # One candidate per root, its first zone; then nearest root, higher on a tie.
        layer_roots, first = np.unique(roots[layer], return_index=True)
        rank = np.abs(layer_roots - pitches) * 256 - layer_roots
        table[velocity] = layer[first][rank.argmin(axis=1)]
    return table


@dataclass(frozen=True, slots=True)
class SamplerFactory:
    """A loaded sampler preset: the samples, read once, shared by every instance."""

    bank: SampleBank
    roots: np.ndarray  # float64 per sample
    table: np.ndarray  # [velocity, pitch] → sample
    rate: int
    attack: float
    release: float
    velocity_amp: float
    gain: float  # linear
    polyphony: int

    def create(self) -> Sampler:
        return Sampler(self)


class Sampler:
    """One track's sampler: its own voices over the factory's shared samples."""

    def __init__(self, factory: SamplerFactory) -> None:
        self.factory = factory
        self.voices = VoicePool(factory.bank, factory.polyphony, factory.rate, CUT_SECONDS)
        # The release reaches SILENCE after `release` seconds; 3 ms at least, so no click.
        release_frames = max(factory.release, CUT_SECONDS) * factory.rate
        self._release_coef = SILENCE ** (1.0 / release_frames)
        self._attack_frames = factory.attack * factory.rate
        # Each sample's pitch ratio at its root, relative to the output rate.
        self._rate_ratio = factory.bank.rates / factory.rate
        self.sustain = False
        self.bend = 1.0

    def note_on(self, pitch: int, velocity: int) -> None:
        f = self.factory
        sample = int(f.table[velocity, pitch])
        step = 2.0 ** ((pitch - f.roots[sample]) / 12.0) * self._rate_ratio[sample]
        amp = f.gain * (1.0 - f.velocity_amp + f.velocity_amp * velocity / 127.0)
        self.voices.start(sample, pitch, float(step), amp, self._attack_frames, self._release_coef)

    def note_off(self, pitch: int, cut: bool = False) -> None:
        if cut:
            self.voices.cut(pitch)
        else:
            self.voices.key_up(pitch, self.sustain)

    def control_change(self, control: int, value: int) -> None:
        if control == 64:
            self.sustain = value >= 64
            if not self.sustain:
                self.voices.release_unheld()
        elif control == 120:
            self.voices.cut_all()
        elif control == 123:
            self.voices.release_all()

    def pitch_bend(self, value: int) -> None:
        self.bend = 2.0 ** (BEND_SEMITONES * value / 8192.0 / 12.0)

    def render(self, out: np.ndarray) -> None:
        self.voices.render(out, self.bend)

    def active_voices(self) -> int:
        return self.voices.sounding()


def load(preset: PresetFile, rate: int) -> SamplerFactory:
    """Validate a `type sampler` preset and read its samples.

    Raises:
        SongFormatError: at the offending line of the preset (naming the WAV for sample errors).
    """
    if preset.kind != "sampler":
        raise preset.error(f"a {preset.kind} preset is not a sampler")
    preset.unknown_keys(KEYS)
    entries = preset.all("sample")
    if not entries:
        raise preset.error("a sampler needs at least one `sample PATH root NOTE` line")
    if len(entries) > MAX_ZONES:
        raise preset.error(f"more than {MAX_ZONES} sample lines", entries[MAX_ZONES].line)
    mode_entry = preset.get("loop")
    mode = preset.choice("loop", "none", ("none", "forward"))
    start_value = optional_frames(preset, "loop-start")
    end_value = optional_frames(preset, "loop-end")
    default_points = preset.get("loop-end") or preset.get("loop-start")
    # The plain numbers first: a typo there should not wait for every WAV to load.
    attack = preset.number("attack", 0.0, 0.0, 10.0)
    release = preset.number("release", 0.25, 0.0, 30.0)
    velocity_amp = preset.number("velocity-amp", 1.0, 0.0, 1.0)
    gain = 10.0 ** (preset.number("gain", 0.0, -96.0, 24.0) / 20.0)
    polyphony = preset.whole("polyphony", 16, 1, 64)
    samples: list[tuple[np.ndarray, int, tuple[int, int] | None]] = []
    zones: list[Zone] = []
    read: dict[str, tuple[np.ndarray, int]] = {}  # each WAV once, however many zones name it
    bank_frames = 0
    for entry in entries:
        text, zone, loop = parse_zone(preset, entry)
        if text not in read:
            read[text] = read_sample(preset, entry, text)
        audio, sample_rate = read[text]
        frames = len(audio)
        if mode_entry is not None and mode == "none":
            loop = None  # `loop none` auditions every sample one-shot, points and all
        elif loop is not None:
            check_loop(preset, entry, text, frames, loop)
        elif mode == "forward":
            loop = (start_value or 0, frames if end_value is None else end_value)
            check_loop(preset, default_points or entry, text, frames, loop)
        bank_frames += frames if loop is None else loop[1]
        if bank_frames > MAX_BANK_FRAMES:
            message = f"the samples come to more than {MAX_BANK_FRAMES} frames in all"
            raise preset.error(message, entry.line)
        samples.append((audio, sample_rate, loop))
        zones.append(zone)
    return SamplerFactory(
        bank=SampleBank.build(samples),
        roots=np.array([z.root for z in zones], np.float64),
        table=choose_samples(zones),
        rate=rate,
        attack=attack,
        release=release,
        velocity_amp=velocity_amp,
        gain=gain,
        polyphony=polyphony,
    )
