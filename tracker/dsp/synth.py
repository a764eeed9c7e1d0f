"""The built-in polyphonic subtractive synth (`type synth` presets).

Two band-limited oscillators → resonant 2-pole low-pass with its own envelope → amp envelope.
`load` validates a preset once and precomputes its parameters; each `create()` makes an
instance with its own preallocated voices. The audio work happens in synth_kernel's compiled
loops; this module only turns events into a handful of writes to the voice tables.
"""

from __future__ import annotations

import math

import numpy as np

from tracker.dsp import synth_kernel as k
from tracker.dsp import synth_tables as tables
from tracker.dsp.presets import PresetFile

MAX_SECONDS = 60.0
KEYS = {
    "wave",
    "wave2",
    "pulse-width",
    "detune",
    "mix",
    "octave2",
    "attack",
    "decay",
    "sustain",
    "release",
    "cutoff",
    "resonance",
    "filter-env",
    "f-attack",
    "f-decay",
    "f-sustain",
    "f-release",
    "velocity-cutoff",
    "velocity-amp",
    "key-track",
    "gain",
    "polyphony",
    "glide",
}
MIN_Q = math.sqrt(0.5)  # resonance 0: a Butterworth low-pass, no peak
MAX_Q = 25.0  # resonance 1: rings hard but stays below self-oscillation
DECAY_DB = -60.0  # decay, release and glide times are the time to cover 60 dB of the way


def _decay_per_period(seconds: float, rate: int) -> float:
    """The multiplier per control period that shrinks a distance by 60 dB in `seconds`."""
    if seconds <= 0.0:
        return 0.0
    return 10.0 ** (DECAY_DB / 20.0 * k.CONTROL_PERIOD / (seconds * rate))


def _attack_per_period(seconds: float, rate: int) -> float:
    """The linear rise per control period that reaches full level in `seconds` (0: at once)."""
    return k.CONTROL_PERIOD / max(seconds * rate, 1.0)


def _seconds(preset: PresetFile, key: str, default: float) -> float:
    return preset.number(key, default, 0.0, MAX_SECONDS)


def _parameters(preset: PresetFile, rate: int) -> np.ndarray:
    """Validate a synth preset and turn it into the kernel's parameter vector."""
    preset.unknown_keys(KEYS)
    waves = tuple(k.WAVES)
    params = np.zeros(k.NP, dtype=np.float64)
    params[k.P_WAVE1] = k.WAVES[preset.choice("wave", "saw", waves)]
    wave2 = preset.choice("wave2", "none", ("none", *waves))
    params[k.P_WAVE2] = k.NONE if wave2 == "none" else k.WAVES[wave2]
    params[k.P_PULSE] = preset.number("pulse-width", 0.5, 0.05, 0.95)
    params[k.P_MIX] = preset.number("mix", 0.5, 0.0, 1.0)
    detune = preset.number("detune", 0.0, -1200.0, 1200.0)
    octave2 = preset.whole("octave2", 0, -2, 2)
    params[k.P_RATIO2] = 2.0 ** (octave2 + detune / 1200.0)

    params[k.P_ATTACK] = _attack_per_period(_seconds(preset, "attack", 0.005), rate)
    params[k.P_DECAY] = _decay_per_period(_seconds(preset, "decay", 0.3), rate)
    params[k.P_SUSTAIN] = preset.number("sustain", 0.8, 0.0, 1.0)
    params[k.P_RELEASE] = _decay_per_period(_seconds(preset, "release", 0.2), rate)
    params[k.P_FATTACK] = _attack_per_period(_seconds(preset, "f-attack", 0.005), rate)
    params[k.P_FDECAY] = _decay_per_period(_seconds(preset, "f-decay", 0.3), rate)
    params[k.P_FSUSTAIN] = preset.number("f-sustain", 0.0, 0.0, 1.0)
    params[k.P_FRELEASE] = _decay_per_period(_seconds(preset, "f-release", 0.2), rate)
    params[k.P_FENV_AMT] = preset.number("filter-env", 0.0, -10.0, 10.0)

    resonance = preset.number("resonance", 0.0, 0.0, 1.0)
    params[k.P_K] = 1.0 / (MIN_Q * (MAX_Q / MIN_Q) ** resonance)
    params[k.P_CUTOFF_OCT] = math.log2(preset.number("cutoff", 20000.0, 20.0, 20000.0))
    params[k.P_VEL_CUTOFF] = preset.number("velocity-cutoff", 0.0, -10.0, 10.0)
    params[k.P_VEL_AMP] = preset.number("velocity-amp", 1.0, 0.0, 1.0)
    params[k.P_KEY_TRACK] = preset.number("key-track", 0.0, 0.0, 1.0)
    params[k.P_GAIN] = 10.0 ** (preset.number("gain", 0.0, -60.0, 24.0) / 20.0)
    params[k.P_GLIDE] = _decay_per_period(preset.number("glide", 0.0, 0.0, 10.0), rate)
    params[k.P_POLYPHONY] = preset.whole("polyphony", 16, 1, 64)
    params[k.P_FADE_PERIODS] = max(1.0, k.FADE_SECONDS * rate / k.CONTROL_PERIOD)
    params[k.P_RATE] = float(rate)
    return params


class Synth:
    """One synth instance (one per track and preset): its voices and its controllers."""

    def __init__(self, params: np.ndarray, filters: np.ndarray, waves: np.ndarray) -> None:
        self._params = params
        self._filters = filters
        self._waves = waves
        # Twice the polyphony: stolen and cut voices fade out in the spare slots.
        slots = 2 * int(params[k.P_POLYPHONY])
        self._fs = np.zeros((slots, k.NF), dtype=np.float64)
        self._vs = np.zeros((slots, k.NI), dtype=np.int64)
        self._ctl = np.zeros(k.NC, dtype=np.float64)
        self._buf, self._tick, self._itick = k.work_buffers()
        self._active = 0
        self._order = 0
        self._last_pitch = -1
        self._pedal = False
        self._brightness = [0, 0]  # CC 1, CC 74

    def note_on(self, pitch: int, velocity: int) -> None:
        velocity = min(max(velocity, 1), 127)
        self._order += 1
        self._active = k.note_on(
            self._fs, self._vs, self._params, pitch, velocity, self._order, self._last_pitch
        )
        self._last_pitch = pitch

    def note_off(self, pitch: int, cut: bool = False) -> None:
        self._active = k.note_off(self._fs, self._vs, self._params, pitch, cut, self._pedal)

    def control_change(self, control: int, value: int) -> None:
        if control == 64:
            pedal = value >= 64
            if self._pedal and not pedal:
                self._active = k.release_all(self._fs, self._vs, self._params, False, False, True)
            self._pedal = pedal
        elif control in (1, 74):
            # Either controller opens the filter by up to two octaves; the larger one wins.
            self._brightness[control == 74] = value
            self._ctl[k.C_BRIGHT] = 2.0 * max(self._brightness) / 127.0
        elif control == 120:
            self._active = k.release_all(self._fs, self._vs, self._params, True, False, False)
        elif control == 123:
            self._active = k.release_all(
                self._fs, self._vs, self._params, False, self._pedal, False
            )
        elif control == 121:
            self._brightness = [0, 0]
            self._ctl[:] = 0.0
            self.control_change(64, 0)

    def pitch_bend(self, value: int) -> None:
        self._ctl[k.C_BEND] = 2.0 * value / (8191.0 if value > 0 else 8192.0)

    def render(self, out: np.ndarray) -> None:
        if self._active:
            self._active = k.render_voices(
                out,
                self._fs,
                self._vs,
                self._params,
                self._ctl,
                self._filters,
                self._waves,
                self._buf,
                self._tick,
                self._itick,
            )

    def active_voices(self) -> int:
        return self._active

    def sounding_pitches(self) -> list[int]:
        """Pitches of the voices playing or releasing (not fading out or ending), oldest first."""
        vs = self._vs
        playing = np.flatnonzero(
            (vs[:, k.I_STAGE] != k.IDLE) & (vs[:, k.I_STAGE] != k.FADE) & (vs[:, k.I_DYING] == 0)
        )
        playing = playing[np.argsort(vs[playing, k.I_ORDER])]
        return [int(p) for p in vs[playing, k.I_NOTE]]


class SynthFactory:
    """A validated synth preset; `create()` makes independent instances of it."""

    def __init__(self, preset: PresetFile, rate: int) -> None:
        self.name = preset.name
        self.title = preset.title
        self._params = _parameters(preset, rate)
        self._filters = tables.filter_table(rate)
        self._waves = tables.wavetables(rate)
        _warm_up(self)

    def create(self) -> Synth:
        return Synth(self._params, self._filters, self._waves)


_warmed_up = False


def _warm_up(factory: SynthFactory) -> None:
    """Compile (or load from numba's cache) every kernel now, once per process, so the first
    note played live does not stall the audio callback."""
    global _warmed_up
    if _warmed_up:
        return
    synth = factory.create()
    synth.note_on(60, 100)
    synth.control_change(64, 127)
    synth.note_off(60)
    synth.control_change(64, 0)
    synth.control_change(123, 0)
    synth.control_change(120, 0)
    synth.render(np.zeros(64, dtype=np.float32))
    _warmed_up = True


def load(preset: PresetFile, rate: int) -> SynthFactory:
    """Validate a `type synth` preset for `rate` Hz.

    Raises:
        SongFormatError: an unknown key or a bad value, located at its line.
    """
    return SynthFactory(preset, rate)
