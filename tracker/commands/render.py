"""`tracker render` / `tracker bounce`: a song, pattern or track to WAV, with a progress bar."""

from __future__ import annotations

import argparse
import sys
import time

from tracker.commands.progress import ProgressBar
from tracker.commands.songs import instrument_dirs, open_song, refuse_overwrite, song_folder
from tracker.model.errors import SongFormatError, TrackerError
from tracker.render.offline import OfflineRender, RenderJob, peak, render_to_wav

NORMALIZE_PEAK = 10 ** (-0.3 / 20)  # -0.3 dBFS: headroom for converters' inter-sample peaks


def run_render(args: argparse.Namespace) -> int:
    song, path = open_song(args.song)
    track = None
    if args.track is not None:
        try:
            track = song.track_index(args.track)
        except KeyError as exc:
            raise TrackerError(f"{path}: {exc.args[0]}") from None
    refuse_overwrite(args.output, path, "song")
    if not song.order and args.pattern is None:
        raise TrackerError(f"{path}: nothing to render: the order list is empty")
    job = RenderJob(
        song,
        rate=args.rate,
        pattern=args.pattern,
        track=track,
        search_dirs=instrument_dirs(path),
        song_dir=song_folder(path),
        tail=args.tail,
    )
    try:
        render = OfflineRender(job, with_stems=args.stems is not None)
    except SongFormatError:
        raise  # already names its file (a preset, a sample)
    except TrackerError as exc:
        raise TrackerError(f"{path}: {exc}") from None
    started = time.perf_counter()
    gain = 1.0
    if args.normalize:
        # Two passes, so memory stays flat: the first finds the peak, the second writes.
        loudest = peak(render)
        gain = NORMALIZE_PEAK / loudest if loudest > 0 else 1.0
        render = OfflineRender(job, with_stems=args.stems is not None)
    bar = ProgressBar(sys.stderr, label=args.output.name)
    result = render_to_wav(render, args.output, args.bits, args.stems, progress=bar, gain=gain)
    bar.finish()
    seconds = result.frames / args.rate
    elapsed = time.perf_counter() - started
    print(
        f"wrote {args.output} ({seconds:.2f} s at {args.rate} Hz, {args.bits}-bit,"
        f" {seconds / max(elapsed, 1e-9):.0f}x realtime)",
        file=sys.stderr,
    )
    if result.clipped:
        print(f"tracker: warning: {result.clipped} samples clipped", file=sys.stderr)
    return 0
