"""Note onsets in recorded audio: where each note begins, to a fraction of a millisecond.

Used twice with the same definition, so a constant bias cancels: to measure the round-trip
latency (one test note from silence) and to check a take (many notes, some over the decay of
the one before). What matters is therefore that the same sound gives the same offset between
its true start and the frame reported, whatever came before it; jitter, not bias.

Method, on the envelope `|x|` of the mono sum:

1. Find the note (coarse, 0.5 ms blocks). A block is a candidate when the loudest block of
   the 10 ms from it reaches `threshold_db` and is `RISE_DB` louder than the loudest block of
   the 20 ms before it: the level jumped after silence, noise or a decay. The note is under
   way at the first sample that is that much louder.
2. Time it (exact frame). The note's peak `P` is the loudest sample of the 20 ms from there;
   the onset is the first frame, from 10 ms earlier on, where `|x|` reaches `level_db` below
   `P` (and 1.5 times the loudest sample of the 20 ms before the search, so a noise floor
   close to that level is not mistaken for the note). `min_gap` after an onset, the search
   for the next one begins.

Why a level relative to the note's own peak, and not a walk back to where the signal leaves
the noise floor: the floor differs between notes (digital silence before the first, the
previous note's tail before the next), and an attack takes milliseconds to rise out of it. On
FluidSynth's GM piano (C4) the rise from -85 dB to -53 dB takes 1 ms and to -38 dB 3 ms, so
"leaves the floor" lands 0 ms into a note after silence but about 3 ms into one over a tail at
-26 dB: a 3 ms inconsistency. The crossing of -20 dB below the peak lands on the same frame
(148 frames at 48 kHz after the note-on) after silence and over tails at -26 dB and -33 dB. A
floor louder than the crossing level raises the level to just above the floor; such notes (a
chord over a held chord, a repeat over a loud tail) are timed later, or not found at all when
the level does not rise by `RISE_DB`.

The offset depends on the sound: the same piano crosses -20 dB 3.1 ms after the note-on at C4,
3.7 ms at C5, 3.9 ms at C6 and 5.8 ms at C3. Measure latency with the sound a take is checked
against, or compare like with like. Between notes of one sound the onsets are consistent to
a few samples: FluidSynth notes recorded through JACK, 500 ms apart while the server kept
time, had onsets 500 ms ± 0.07 ms apart.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

HOP_SECONDS = 0.0005  # coarse block: finds notes; the exact frame comes from the samples
QUIET_SECONDS = 0.020  # the stretch before a note that must be quieter by RISE_DB
PEAK_SECONDS = 0.020  # the stretch after it whose peak sets the crossing level
LOOKBACK_SECONDS = 0.010  # how far before the coarse find the crossing may lie
RISE_DB = 12.0  # a new note: this much louder than the quiet stretch before it
RISE_SECONDS = 0.010  # … within this long after the quiet stretch
FLOOR_MARGIN = 1.5  # the crossing level stays this far above the floor before the search
CONTEXT_SECONDS = 0.25  # first_onset_after: signal before `frame` that shows what is quiet


def onset_frames(
    signal: np.ndarray,
    rate: int,
    *,
    threshold_db: float = -50.0,
    min_gap: float = 0.05,
    level_db: float = -20.0,
) -> list[int]:
    """The first frame of each note in `signal`, ascending.

    Args:
        signal: frames, or frames × channels (summed to mono), any real dtype.
        rate: frames per second.
        threshold_db: notes quieter than this (dBFS, block peak) are ignored.
        min_gap: seconds from one onset before another can be found.
        level_db: the crossing level, relative to the note's peak over 20 ms.

    Returns:
        Frame indices into `signal`. A note that is already sounding at the first frame has
        no onset: before the signal counts as as loud as its first 0.5 ms.
    """
    envelope = _envelope(signal)
    if len(envelope) == 0:
        return []
    hop = max(1, round(rate * HOP_SECONDS))
    quiet = max(1, round(QUIET_SECONDS / HOP_SECONDS))
    threshold = 10.0 ** (threshold_db / 20.0)
    rise = 10.0 ** (RISE_DB / 20.0)
    fraction = 10.0 ** (level_db / 20.0)
    peak_frames = max(1, round(rate * PEAK_SECONDS))
    quiet_frames = quiet * hop
    rise_frames = max(1, round(RISE_SECONDS / HOP_SECONDS)) * hop
    lookback = max(1, round(rate * LOOKBACK_SECONDS))
    gap = max(1, round(rate * min_gap))

    blocks = _block_peaks(envelope, hop)
    before = _window_max(blocks, quiet, ahead=False)
    after = _window_max(blocks, max(1, round(RISE_SECONDS / HOP_SECONDS)), ahead=True)
    candidates = np.flatnonzero((after >= threshold) & (after >= rise * before))

    onsets: list[int] = []
    allowed = 0  # no onset before this frame (min_gap after the last one)
    for block in candidates:
        start = int(block) * hop
        if start + rise_frames <= allowed:
            continue
        found = max(start, allowed)
        level = max(threshold, rise * float(before[block]))
        # The first sample that made the block a candidate: the note is under way here.
        above = np.flatnonzero(envelope[found : start + rise_frames] >= level)
        if len(above) == 0:
            continue
        found += int(above[0])
        search_from = max(found - lookback, allowed)
        onset = _crossing(envelope, found, search_from, fraction, peak_frames, quiet_frames)
        onsets.append(onset)
        allowed = max(onset, found) + gap
    return onsets


def first_onset_after(
    signal: np.ndarray,
    rate: int,
    frame: int,
    *,
    threshold_db: float = -50.0,
    min_gap: float = 0.05,
    level_db: float = -20.0,
) -> int | None:
    """The first onset at or after `frame` (see onset_frames), or None.

    The 0.25 s before `frame` are analysed too, so a note already sounding at `frame` is not
    mistaken for one that starts there.
    """
    start = max(0, frame - round(rate * CONTEXT_SECONDS))
    for onset in onset_frames(
        signal[start:], rate, threshold_db=threshold_db, min_gap=min_gap, level_db=level_db
    ):
        if onset + start >= frame:
            return onset + start
    return None


def _envelope(signal: np.ndarray) -> np.ndarray:
    samples = np.asarray(signal, dtype=np.float64)
    if samples.ndim == 2:
        samples = samples.sum(axis=1)
    elif samples.ndim != 1:
        raise ValueError(f"signal must be frames or frames × channels, not {samples.shape}")
    return np.abs(samples)


def _block_peaks(envelope: np.ndarray, hop: int) -> np.ndarray:
    count = -(-len(envelope) // hop)
    padded = np.zeros(count * hop)
    padded[: len(envelope)] = envelope
    return padded.reshape(count, hop).max(axis=1)


def _window_max(blocks: np.ndarray, width: int, *, ahead: bool) -> np.ndarray:
    """For each block, the peak of the `width` blocks from it (`ahead`) or before it.

    After the end counts as silence; before the start as the first block, so a recording that
    begins in noise or inside a note does not report an onset at its first frame.
    """
    if ahead:
        extended = np.concatenate([blocks, np.zeros(width)])
    else:
        extended = np.concatenate([np.full(width, blocks[0]), blocks])
    return sliding_window_view(extended, width)[: len(blocks)].max(axis=1)


def _crossing(
    envelope: np.ndarray,
    found: int,
    search_from: int,
    fraction: float,
    peak_frames: int,
    quiet_frames: int,
) -> int:
    """The first frame from `search_from` where the envelope reaches `fraction` of the peak
    of the `peak_frames` after `found`, kept above the floor of the `quiet_frames` before."""
    peak = float(envelope[found : found + peak_frames].max())
    floor_from = max(0, search_from - quiet_frames)
    floor = float(envelope[floor_from:search_from].max()) if search_from > floor_from else 0.0
    level = max(fraction * peak, FLOOR_MARGIN * floor)
    if level > peak:
        return found  # the floor is as loud as the note: the coarse find is all we have
    stretch = envelope[search_from : found + peak_frames]
    return search_from + int(np.argmax(stretch >= level))
