"""Sample-playback voices shared by the sampler and the drum kit: a sample bank, a voice pool and
the numba kernel that renders every voice of one instrument in one call.

All voice state lives in two preallocated arrays (`ints`, `floats`: one row per voice, columns
named below), so a render can be split anywhere and give the same samples: nothing is kept in
Python locals between calls, and nothing is allocated while playing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

# Voice stages. IDLE must stay 0: the pool counts sounding voices with count_nonzero.
IDLE = 0
ATTACK = 1  # linear ramp from 0 to 1
HOLD = 2  # full level while the key (or the sustain pedal) holds the note
RELEASE = 3  # exponential decay to SILENCE over the release time
FADE = 4  # linear fade to 0: cut, stolen or choked voices

# Integer columns.
STAGE = 0
PITCH = 1
AGE = 2  # note-on counter: smaller is older, for stealing and note-off order
KEY_DOWN = 3  # 1 until the note-off; with the pedal down the voice keeps sounding after it
OFFSET = 4  # where the sample starts in the bank
END = 5  # frames the voice may play: the sample's length, or its loop end
LOOP_START = 6
LOOPED = 7
GROUP = 8  # choke group (0: none)
INT_COLUMNS = 9

# Float columns.
POS = 0  # playback position in sample frames (float64, so long notes do not drift)
STEP = 1  # frames per output frame before pitch bend
AMP = 2  # velocity and gain
LEVEL = 3  # envelope level
ATTACK_STEP = 4
RELEASE_COEF = 5
FADE_STEP = 6
FLOAT_COLUMNS = 7

SILENCE = 1e-4  # -80 dB: where a release ends (its time constant is set to reach this exactly)


@numba.njit(cache=True)
def render_voices(
    out: np.ndarray, data: np.ndarray, ints: np.ndarray, floats: np.ndarray, bend: float
) -> int:
    """Add every sounding voice into `out`; return how many still sound afterwards.

    `data` holds each sample followed by one guard frame (a copy of the loop start for looped
    samples, else 0), so linear interpolation never needs a bounds check.
    """
    frames = out.shape[0]
    sounding = 0
    for v in range(ints.shape[0]):
        stage = ints[v, STAGE]
        if stage == IDLE:
            continue
        offset = ints[v, OFFSET]
        end = ints[v, END]
        loop_start = float(ints[v, LOOP_START])
        loop_length = end - loop_start
        looped = ints[v, LOOPED] != 0
        pos = floats[v, POS]
        step = floats[v, STEP] * bend
        amp = floats[v, AMP]
        level = floats[v, LEVEL]
        attack_step = floats[v, ATTACK_STEP]
        release_coef = floats[v, RELEASE_COEF]
        fade_step = floats[v, FADE_STEP]
        for i in range(frames):
            if stage != HOLD:
                if stage == ATTACK:
                    level += attack_step
                    if level >= 1.0:
                        level = 1.0
                        stage = HOLD
                elif stage == RELEASE:
                    level *= release_coef
                    if level < SILENCE:
                        stage = IDLE
                        break
                else:
                    level -= fade_step
                    if level <= 0.0:
                        stage = IDLE
                        break
            k = int(pos)
            frac = pos - k
            a = data[offset + k]
            b = data[offset + k + 1]
            out[i] += (a + (b - a) * frac) * (level * amp)
            pos += step
            if pos >= end:
                if looped:
                    pos = loop_start + (pos - loop_start) % loop_length
                    if pos >= end:  # rounding at the wrap must not read past the guard frame
                        pos = loop_start
                else:
                    stage = IDLE
                    break
        ints[v, STAGE] = stage
        floats[v, POS] = pos
        floats[v, LEVEL] = level
        if stage != IDLE:
            sounding += 1
    return sounding


@numba.njit(cache=True)
def fade_voice(ints: np.ndarray, floats: np.ndarray, v: int, frames: float) -> None:
    """Fade voice `v` to silence over `frames` frames, from wherever its envelope is."""
    level = floats[v, LEVEL]
    if level <= 0.0 or frames < 1.0:
        ints[v, STAGE] = IDLE
        return
    ints[v, STAGE] = FADE
    ints[v, KEY_DOWN] = 0
    floats[v, FADE_STEP] = level / frames


@numba.njit(cache=True)
def allocate_voice(ints: np.ndarray, floats: np.ndarray, polyphony: int, fade_frames: float) -> int:
    """Return a free voice row, first stealing one if `polyphony` voices already play.

    Stolen voices fade out in the pool's spare rows rather than stopping dead (a click): the
    oldest released voice goes first, else the oldest. Only when every spare row is still
    fading does the quietest fading voice give up its row at once.
    """
    playing = 0
    oldest_released = -1
    oldest = -1
    for v in range(ints.shape[0]):
        stage = ints[v, STAGE]
        if stage in (IDLE, FADE):
            continue
        playing += 1
        if oldest < 0 or ints[v, AGE] < ints[oldest, AGE]:
            oldest = v
        if (stage == RELEASE or ints[v, KEY_DOWN] == 0) and (
            oldest_released < 0 or ints[v, AGE] < ints[oldest_released, AGE]
        ):
            oldest_released = v
    if playing >= polyphony:
        fade_voice(ints, floats, oldest_released if oldest_released >= 0 else oldest, fade_frames)
    quietest = -1
    for v in range(ints.shape[0]):
        if ints[v, STAGE] == IDLE:
            return v
        if ints[v, STAGE] == FADE and (quietest < 0 or floats[v, LEVEL] < floats[quietest, LEVEL]):
            quietest = v
    return quietest


@numba.njit(cache=True)
def oldest_voice(ints: np.ndarray, pitch: int, key_down_only: bool) -> int:
    """The oldest sounding, unfaded voice of `pitch` (with its key down, if asked); else -1."""
    found = -1
    for v in range(ints.shape[0]):
        stage = ints[v, STAGE]
        if stage in (IDLE, FADE) or ints[v, PITCH] != pitch:
            continue
        if key_down_only and ints[v, KEY_DOWN] == 0:
            continue
        if found < 0 or ints[v, AGE] < ints[found, AGE]:
            found = v
    return found


@numba.njit(cache=True)
def fade_matching(
    ints: np.ndarray, floats: np.ndarray, column: int, value: int, frames: float
) -> None:
    """Fade every sounding, unfaded voice whose `column` holds `value` (-1 matches any)."""
    for v in range(ints.shape[0]):
        if ints[v, STAGE] in (IDLE, FADE):
            continue
        if value < 0 or ints[v, column] == value:
            fade_voice(ints, floats, v, frames)


@numba.njit(cache=True)
def release_voices(ints: np.ndarray, everyone: bool) -> None:
    """Release held voices: those whose key is up (the pedal lifted), or all of them."""
    for v in range(ints.shape[0]):
        if ints[v, STAGE] in (ATTACK, HOLD) and (everyone or ints[v, KEY_DOWN] == 0):
            ints[v, STAGE] = RELEASE
            ints[v, KEY_DOWN] = 0


@numba.njit(cache=True)
def start_voice(
    ints: np.ndarray,
    floats: np.ndarray,
    v: int,
    age: int,
    pitch: int,
    offset: int,
    end: int,
    loop_start: int,
    looped: bool,
    group: int,
    step: float,
    amp: float,
    attack_frames: float,
    release_coef: float,
) -> None:
    """Fill row `v` for a new note; under one frame of attack starts at full level."""
    attacking = attack_frames >= 1.0
    ints[v, STAGE] = ATTACK if attacking else HOLD
    ints[v, PITCH] = pitch
    ints[v, AGE] = age
    ints[v, KEY_DOWN] = 1
    ints[v, OFFSET] = offset
    ints[v, END] = end
    ints[v, LOOP_START] = loop_start
    ints[v, LOOPED] = 1 if looped else 0
    ints[v, GROUP] = group
    floats[v, POS] = 0.0
    floats[v, STEP] = step
    floats[v, AMP] = amp
    floats[v, LEVEL] = 0.0 if attacking else 1.0
    floats[v, ATTACK_STEP] = 1.0 / attack_frames if attacking else 0.0
    floats[v, RELEASE_COEF] = release_coef
    floats[v, FADE_STEP] = 0.0


@dataclass(frozen=True, slots=True)
class SampleBank:
    """Every sample of one preset in one float32 array, each with its guard frame.

    Looped samples are stored only up to their loop end: nothing after it is ever heard.
    """

    data: np.ndarray  # float32
    offsets: np.ndarray  # int64, per sample
    ends: np.ndarray  # int64: playable frames (the loop end when looped)
    loop_starts: np.ndarray  # int64
    looped: np.ndarray  # bool
    rates: np.ndarray  # float64: each sample's own sample rate

    @classmethod
    def build(cls, samples: list[tuple[np.ndarray, int, tuple[int, int] | None]]) -> SampleBank:
        """Pack (mono float32 audio, sample rate, loop points or None) triples."""
        parts: list[np.ndarray] = []
        offsets, ends, starts, looped, rates = [], [], [], [], []
        position = 0
        for audio, rate, loop in samples:
            end = len(audio) if loop is None else loop[1]
            start = 0 if loop is None else loop[0]
            guard = audio[start : start + 1] if loop is not None else np.zeros(1, np.float32)
            parts += [audio[:end], guard]
            offsets.append(position)
            ends.append(end)
            starts.append(start)
            looped.append(loop is not None)
            rates.append(float(rate))
            position += end + 1
        data = np.concatenate(parts).astype(np.float32) if parts else np.zeros(1, np.float32)
        return cls(
            data,
            np.array(offsets, np.int64),
            np.array(ends, np.int64),
            np.array(starts, np.int64),
            np.array(looped, np.bool_),
            np.array(rates, np.float64),
        )


class VoicePool:
    """The voices of one instrument instance, preallocated; the Python side of the kernel."""

    def __init__(self, bank: SampleBank, polyphony: int, rate: int, fade_seconds: float) -> None:
        self.bank = bank
        self.polyphony = polyphony
        # Twice the polyphony: stolen and choked voices finish their fade in the spare rows.
        self.ints = np.zeros((2 * polyphony, INT_COLUMNS), np.int64)
        self.floats = np.zeros((2 * polyphony, FLOAT_COLUMNS), np.float64)
        self.fade_frames = fade_seconds * rate
        self._age = 0

    def start(
        self,
        sample: int,
        pitch: int,
        step: float,
        amp: float,
        attack_frames: float,
        release_coef: float,
        group: int = 0,
    ) -> None:
        """Start `sample` as a new voice at the next rendered frame."""
        v = allocate_voice(self.ints, self.floats, self.polyphony, self.fade_frames)
        self._age += 1
        bank = self.bank
        start_voice(
            self.ints,
            self.floats,
            v,
            self._age,
            pitch,
            int(bank.offsets[sample]),
            int(bank.ends[sample]),
            int(bank.loop_starts[sample]),
            bool(bank.looped[sample]),
            group,
            step,
            amp,
            attack_frames,
            release_coef,
        )

    def key_up(self, pitch: int, sustain: bool) -> None:
        """The oldest held voice of `pitch` lets go; it releases unless the pedal holds it."""
        v = oldest_voice(self.ints, pitch, True)
        if v >= 0:
            self.ints[v, KEY_DOWN] = 0
            if not sustain:
                self.ints[v, STAGE] = RELEASE

    def cut(self, pitch: int) -> None:
        """Fade the oldest voice of `pitch` (preferring one still held) over the cut time."""
        v = oldest_voice(self.ints, pitch, True)
        if v < 0:
            v = oldest_voice(self.ints, pitch, False)
        if v >= 0:
            fade_voice(self.ints, self.floats, v, self.fade_frames)

    def fade_group(self, group: int, frames: float) -> None:
        """Choke: fade every voice of a choke group."""
        fade_matching(self.ints, self.floats, GROUP, group, frames)

    def cut_pitch(self, pitch: int) -> None:
        """Fade every voice of `pitch` over the cut time."""
        fade_matching(self.ints, self.floats, PITCH, pitch, self.fade_frames)

    def cut_all(self) -> None:
        fade_matching(self.ints, self.floats, PITCH, -1, self.fade_frames)

    def release_unheld(self) -> None:
        """The pedal came up: every voice whose key is already up releases."""
        release_voices(self.ints, False)

    def release_all(self) -> None:
        release_voices(self.ints, True)

    def render(self, out: np.ndarray, bend: float = 1.0) -> None:
        if len(out):
            render_voices(out, self.bank.data, self.ints, self.floats, bend)

    def sounding(self) -> int:
        return int(np.count_nonzero(self.ints[:, STAGE]))
