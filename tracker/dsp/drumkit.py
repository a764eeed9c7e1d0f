"""The drum kit (`type drumkit`): one-shot samples on MIDI notes, as on the General MIDI map.

    type drumkit
    gain -2               # dB, the whole kit
    polyphony 32
    key 36 samples/kick.wav
    key 42 samples/hat_closed.wav choke hats
    key 46 samples/hat_open.wav choke hats gain -3

Samples play at their own pitch and ring out: note-offs are ignored, a cut silences. A note
starting in a choke group fades every voice of that group (the closed hat stops the open one).
Notes without a key are silent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.dsp.presets import PresetFile, PresetLine, quoted, shown
from tracker.dsp.sample_kernel import SampleBank, VoicePool
from tracker.dsp.sampler import CUT_SECONDS, midi_note, read_sample

CHOKE_SECONDS = 0.01  # a hand closing a hi-hat takes about this long to damp it
KEYS = {"key", "gain", "polyphony"}


@dataclass(frozen=True, slots=True)
class DrumKitFactory:
    """A loaded kit: samples read once, shared by every instance."""

    bank: SampleBank
    sample_of: np.ndarray  # per MIDI note: sample index, -1 for none
    gain_of: np.ndarray  # per MIDI note: linear gain, the kit's included
    group_of: np.ndarray  # per MIDI note: choke group, 0 for none
    rate: int
    polyphony: int

    def create(self) -> DrumKit:
        return DrumKit(self)


class DrumKit:
    """One track's drum kit: its own voices over the factory's shared samples."""

    def __init__(self, factory: DrumKitFactory) -> None:
        self.factory = factory
        self.voices = VoicePool(factory.bank, factory.polyphony, factory.rate, CUT_SECONDS)
        self._steps = factory.bank.rates / factory.rate
        self._choke_frames = CHOKE_SECONDS * factory.rate

    def note_on(self, pitch: int, velocity: int) -> None:
        f = self.factory
        sample = int(f.sample_of[pitch])
        if sample < 0:
            return
        group = int(f.group_of[pitch])
        if group:
            self.voices.fade_group(group, self._choke_frames)
        # No attack and no release: the sample is the whole envelope.
        amp = float(f.gain_of[pitch]) * velocity / 127.0
        self.voices.start(sample, pitch, float(self._steps[sample]), amp, 0.0, 0.0, group)

    def note_off(self, pitch: int, cut: bool = False) -> None:
        # Drums ring out on a note-off; a cut silences every stroke of that drum still ringing,
        # since a one-shot has no "held" note to tell them apart.
        if cut:
            self.voices.cut_pitch(pitch)

    def control_change(self, control: int, value: int) -> None:
        if control == 120:  # all sound off; 123 (all notes off) is only note-offs, ignored
            self.voices.cut_all()

    def pitch_bend(self, value: int) -> None:
        """Ignored: the kit plays at the samples' own pitch, like GM channel 10."""

    def render(self, out: np.ndarray) -> None:
        self.voices.render(out)

    def active_voices(self) -> int:
        return self.voices.sounding()


def parse_key(preset: PresetFile, entry: PresetLine) -> tuple[int, str, str | None, float]:
    """`key NOTE PATH [choke GROUP] [gain DB]` → (note, path, group name, gain dB)."""
    args = entry.args
    usage = "key NOTE PATH [choke GROUP] [gain DB]"
    if len(args) < 2 or len(args) % 2:
        raise preset.error(f"expected {usage}", entry.line)
    try:
        note = midi_note(args[0])
    except ValueError as exc:
        raise preset.error(f"key: {exc}", entry.line) from None
    options: dict[str, str] = {}
    for word, value in zip(args[2::2], args[3::2], strict=True):
        if word not in ("choke", "gain") or word in options:
            raise preset.error(f"expected {usage}, not {quoted(word)}", entry.line)
        options[word] = value
    gain = 0.0
    if "gain" in options:
        try:
            gain = float(options["gain"])
        except ValueError:
            gain = float("nan")
        if not -96.0 <= gain <= 24.0:  # also rejects nan
            message = f"key {note}: gain {shown(options['gain'])} is outside -96..24"
            raise preset.error(message, entry.line)
    return note, args[1], options.get("choke"), gain


def load(preset: PresetFile, rate: int) -> DrumKitFactory:
    """Validate a `type drumkit` preset and read its samples (each WAV once, however many keys).

    Raises:
        SongFormatError: at the offending line of the preset (naming the WAV for sample errors).
    """
    if preset.kind != "drumkit":
        raise preset.error(f"a {preset.kind} preset is not a drum kit")
    preset.unknown_keys(KEYS)
    entries = preset.all("key")
    if not entries:
        raise preset.error("a drum kit needs at least one `key NOTE PATH` line")
    kit_gain = preset.number("gain", 0.0, -96.0, 24.0)
    polyphony = preset.whole("polyphony", 32, 1, 64)
    sample_of = np.full(128, -1, np.int64)
    gain_of = np.zeros(128, np.float64)
    group_of = np.zeros(128, np.int64)
    samples: list[tuple[np.ndarray, int, tuple[int, int] | None]] = []
    index_of: dict[str, int] = {}
    groups: dict[str, int] = {}
    mapped_at: dict[int, int] = {}
    for entry in entries:
        note, text, group, gain = parse_key(preset, entry)
        if note in mapped_at:
            raise preset.error(
                f"key {note} is already mapped at line {mapped_at[note]}", entry.line
            )
        mapped_at[note] = entry.line
        if text not in index_of:
            audio, sample_rate = read_sample(preset, entry, text)
            index_of[text] = len(samples)
            samples.append((audio, sample_rate, None))
        sample_of[note] = index_of[text]
        gain_of[note] = 10.0 ** ((kit_gain + gain) / 20.0)
        if group is not None:
            group_of[note] = groups.setdefault(group, len(groups) + 1)
    return DrumKitFactory(
        bank=SampleBank.build(samples),
        sample_of=sample_of,
        gain_of=gain_of,
        group_of=group_of,
        rate=rate,
        polyphony=polyphony,
    )
