"""Render a song, one pattern, or one track (pre-fader) to WAV, streaming in blocks.

Memory stays flat whatever the song's length: events stream from the sequencer, audio goes
out block by block. Every event starts at the exact frame the tempo map gives; the block
renderer splits blocks at events, so block size never moves a note.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tracker.atomic import atomic_path
from tracker.dsp.effects import Delay
from tracker.dsp.library import InstrumentLibrary
from tracker.dsp.mixer import BlockRenderer
from tracker.engine.sequencer import length_ticks
from tracker.engine.timeline import arrangement_frames, song_tempo_map, timed_events
from tracker.model.errors import TrackerError
from tracker.model.events import Event
from tracker.model.song import Song, TrackKind
from tracker.render.wav import RATES, BackgroundWriter, WavWriter

TAIL_BLOCK = 1024  # the tail is checked for silence in fixed steps, whatever the block size
# A tail block this quiet ends the render (-120 dBFS, below a 16- or 24-bit file's last bit).
# The decision looks at the samples, not at the voices' bookkeeping, so the file's length is
# the same whatever block size rendered it.
SILENCE = 1e-6
MAX_TAIL_SECONDS = 10.0

Progress = Callable[[float], None]


@dataclass(slots=True)
class RenderJob:
    """What to render. `track` renders that track alone, pre-fader; `prefader` several, each
    alone (their stems are what `track` would give one by one); `pattern` one pattern."""

    song: Song
    rate: int = 48000
    pattern: int | None = None
    track: int | None = None
    block: int = 8192
    search_dirs: Sequence[Path] = field(default_factory=tuple)
    song_dir: Path | None = None  # where the song's audio clips' paths start
    tail: float | None = None  # seconds after the end; None: until the sound has died away
    tap: int | None = None  # record this track's output instead of the master's
    prefader: Sequence[int] = ()  # these tracks, each pre-fader, in one pass (freeze)

    def order(self) -> list[int]:
        if self.pattern is None:
            return list(self.song.order)
        if self.pattern not in self.song.patterns:
            ids = ", ".join(str(p) for p in sorted(self.song.patterns))
            raise TrackerError(f"no pattern {self.pattern} (patterns: {ids})")
        return [self.pattern]

    def tracks(self) -> list[int]:
        """The tracks to render: the chosen one(s), else the audible ones."""
        chosen = [self.track] if self.track is not None else list(self.prefader)
        for index in chosen:
            track = self.song.tracks[index]
            if track.kind is TrackKind.MIDI and track.frozen is None:
                raise TrackerError(
                    f"track {track.name!r} is a midi track: its sound comes from elsewhere"
                    " (record it with `tracker record`)"
                )
            if track.kind in (TrackKind.GROUP, TrackKind.RETURN):
                raise TrackerError(
                    f"track {track.name!r} is a {track.kind.value} track: render the song and"
                    " take its stem, or resample it"
                )
        return chosen or self.song.audible_tracks()

    def end_frame(self) -> int:
        """The frame where the last pattern ends (the tail may ring on after it)."""
        order = self.order()
        return song_tempo_map(self.song, order).frame_at(length_ticks(self.song, order), self.rate)


@dataclass(slots=True)
class RenderResult:
    frames: int  # length written, tail included
    clipped: int  # samples clipped by an integer format (the mix and all stems)


def stem_names(song: Song, tracks: Sequence[int]) -> list[str]:
    """File names for stems: `01-Drums.wav`, with characters unsafe in file names replaced."""
    names = []
    for index in tracks:
        safe = re.sub(r"[^A-Za-z0-9._ -]+", "_", song.tracks[index].name).strip(" .") or "track"
        names.append(f"{index + 1:02d}-{safe}.wav")
    return names


class OfflineRender:
    """A render made ready: presets loaded and checked, buffers allocated, nothing written yet.

    Building it is where bad presets and unknown instruments fail, before any file is opened.
    """

    def __init__(self, job: RenderJob, with_stems: bool = False) -> None:
        if job.rate not in RATES:
            raise TrackerError(f"sample rate must be one of {', '.join(map(str, RATES))}")
        self.job = job
        self.tracks = job.tracks()
        self.end = job.end_frame()
        frames = arrangement_frames(job.song, job.rate)
        self.renderer = BlockRenderer(
            job.song,
            job.rate,
            InstrumentLibrary(job.rate, job.search_dirs, job.song_dir),
            max_block=max(job.block, TAIL_BLOCK),
            tracks=self.tracks,
            prefader=job.track is not None or bool(job.prefader),
            clip_frame=frames,
            tap=job.tap,
        )
        # A lookahead limiter delays the master: so many frames are rendered more and dropped
        # from the start, so the file starts with the song.
        self.latency = 0 if job.tap is not None else self.renderer.latency_frames()
        # The tail may fall silent between a delay's repeats: it ends after silence longer
        # than the longest delay line.
        gaps = [e.delay for e in self.renderer.effects() if isinstance(e, Delay)]
        self.quiet_frames = TAIL_BLOCK + max(gaps, default=0)
        self._mix = np.zeros((max(job.block, TAIL_BLOCK), 2), dtype=np.float32)
        self.stem_tracks = self.renderer.stem_tracks
        self._stems = [np.zeros_like(self._mix) for _ in self.stem_tracks] if with_stems else []

    def blocks(self, progress: Progress | None = None) -> Iterator[tuple[np.ndarray, list]]:
        """Yield (mix block, stem blocks) until the song and its tail have played out.

        The blocks are views into reused buffers: consume each before asking for the next.
        """
        job = self.job
        skip = self.latency
        end = self.end + skip
        events = _Lookahead(timed_events(job.song, job.rate, job.order()))
        position = 0
        if job.tail is not None:
            tail_limit = end + round(job.tail * job.rate)
        else:
            tail_limit = end + int(MAX_TAIL_SECONDS * job.rate)
        quiet = 0  # frames of silence since the end
        while True:
            if position < end:
                frames = min(job.block, end - position)
            elif position < tail_limit and (
                job.tail is not None or events.pending() or quiet < self.quiet_frames
            ):
                frames = min(TAIL_BLOCK, tail_limit - position)
            else:
                break
            block = events.take_before(position + frames, position)
            stems = [s[:frames] for s in self._stems]
            self.renderer.render(self._mix[:frames], block, stems or None)
            if position >= end:
                silent = not np.abs(self._mix[:frames]).max() > SILENCE
                quiet = quiet + frames if silent else 0
            position += frames
            if progress is not None:
                progress(min(position / end, 1.0) if end else 1.0)
            drop = min(skip, frames)
            skip -= drop
            if drop < frames:
                yield self._mix[drop:frames], [s[drop:] for s in stems]


def render_to_wav(
    render: OfflineRender,
    out: Path | None,
    bits: str = "24",
    stems_dir: Path | None = None,
    progress: Progress | None = None,
    gain: float = 1.0,
    stems_to: dict[int, Path] | None = None,
) -> RenderResult:
    """Write `render` into `out` (None: no mix) and its stems, one WAV per track, into
    `stems_dir` or to the files `stems_to` names by track, atomically; `gain` scales them all
    (normalising).

    Nothing is left half-written: every file is written beside its target and renamed into
    place only when the whole render succeeded.
    """
    job = render.job
    targets = [] if out is None else [out]
    if stems_to is not None:
        targets += [stems_to[index] for index in render.stem_tracks]
    elif stems_dir is not None:
        targets += [stems_dir / name for name in stem_names(job.song, render.stem_tracks)]
        if out is not None and out.resolve() in {t.resolve() for t in targets[1:]}:
            raise TrackerError(f"{out}: the mix would be written over one of the stems")
        try:
            stems_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TrackerError(f"cannot make stems folder {stems_dir}: {exc.strerror}") from None
    frames = 0
    with contextlib.ExitStack() as stack:
        temps = [stack.enter_context(atomic_path(t)) for t in targets]
        writers = [
            WavWriter(tmp, job.rate, bits, target)
            for tmp, target in zip(temps, targets, strict=True)
        ]
        background = BackgroundWriter(writers)
        try:
            for mix, stems in render.blocks(progress):
                blocks = [mix, *stems] if out is not None else list(stems)
                if gain != 1.0:
                    blocks = [b * np.float32(gain) for b in blocks]
                background.write(blocks)
                frames += len(mix)
        finally:
            background.close()
    return RenderResult(frames, sum(w.clipped for w in writers))


class _Lookahead:
    """Hands out the timed events of each block, as offsets inside the block."""

    def __init__(self, events: Iterator[tuple[int, Event]]) -> None:
        self._events = events
        self._next: tuple[int, Event] | None = next(events, None)

    def pending(self) -> bool:
        return self._next is not None

    def take_before(self, stop: int, start: int) -> list[tuple[int, Event]]:
        taken = []
        while self._next is not None and self._next[0] < stop:
            frame, event = self._next
            taken.append((max(frame - start, 0), event))
            self._next = next(self._events, None)
        return taken


def peak(render: OfflineRender) -> float:
    """The loudest sample `render` makes, in the mix or any stem (a pass that writes
    nothing): what normalising scales to, so no file it writes clips."""
    loudest = 0.0
    for mix, stems in render.blocks():
        for block in (mix, *stems):
            if len(block):
                loudest = max(loudest, float(np.abs(block).max()))
    return loudest
