"""Load: the scheduler under a dense song, and memory over a long render.

    .venv/bin/python bench/load.py [--seconds 30] [--render-minutes 60]

1. MIDI under load: 64 MIDI tracks (four to a channel), a note on every row of every track,
   256-row patterns at 300 BPM (a row every 50 ms: 64 note-ons and 64 note-offs each), played
   by `tracker play --midi-api jack` to a wall-clock receiver on a JACK dummy server (the
   receiver of bench/midi_jitter.py: python-rtmidi stamps each message with jack_get_time()).
   Every note-on should arrive at t0 + k·step, t0 the median offset of the first beat; printed:
   received/expected, p50/p99/max of |error|, and how many are more than 2 ms off (the issue's
   bound). The receiver's own resolution is one JACK period (32 frames, 0.67 ms).
2. Memory over a long render: an hour of the demo's patterns rendered offline (blocks thrown
   away, no file), the process's resident memory sampled every rendered minute.

Figures only: nothing here asserts on time. The machine is shared: compare runs made together.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import pytest  # noqa: E402  (tests.jack reports a missing program with pytest.fail/skip)
from midi_jitter import TRACKER, WallReceiver, percentile  # noqa: E402

from tests.jack import jack_server, wait_for  # noqa: E402
from tracker.model.serialize import load_song, save_song  # noqa: E402
from tracker.model.song import NoteCell, Pattern, Song, Track, TrackKind  # noqa: E402
from tracker.paths import demo_song  # noqa: E402

TRACKS = 64
ROWS = 256
BPM = 300.0
LINES_PER_BEAT = 4
STEP = 60.0 / BPM / LINES_PER_BEAT  # 0.05 s
PERIOD = 32
BOUND_MS = 2.0


def dense_song(port: str) -> Song:
    """64 MIDI tracks to `port`, four to a channel on pitches of their own, a note every row."""
    tracks = [
        Track(f"T{t + 1}", kind=TrackKind.MIDI, port=port, channel=t % 16 + 1)
        for t in range(TRACKS)
    ]
    song = Song(title="load", bpm=BPM, lines_per_beat=LINES_PER_BEAT, tracks=tracks)
    pattern = Pattern(ROWS)
    for t in range(TRACKS):
        for row in range(ROWS):
            pattern.set_note(t, row, 0, NoteCell(36 + (t // 16) * 12 + row % 12, velocity=100))
    song.patterns[0] = pattern
    song.order = [0]
    return song


def midi_under_load(seconds: float) -> None:
    print(f"1. MIDI under load: {TRACKS} tracks × {ROWS} rows at {BPM:g} BPM, {seconds:g} s")
    with tempfile.TemporaryDirectory() as name, jack_server(Path(name), PERIOD) as env:
        os.environ["JACK_DEFAULT_SERVER"] = env["JACK_DEFAULT_SERVER"]  # for rtmidi here
        wall = WallReceiver("loadwall")
        path = Path(name) / "load.song"
        save_song(dense_song(wall.port), path)
        command = [*TRACKER, "play", str(path), "--midi-api", "jack"]
        command += ["--duration", f"{seconds + 0.5:g}", "--loop"]
        player = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        try:
            # The player connects its port to the receiver itself (the song names it); wait
            # for the first notes.
            if not wait_for(lambda: bool(wall.received), 30):
                print("   no MIDI received")
                return
            player.wait(timeout=seconds + 60)
        finally:
            if player.poll() is None:
                player.kill()
            time.sleep(0.3)
            wall.close()
        ons = [(t, d) for t, d in wall.received if d[0] & 0xF0 == 0x90 and d[2] > 0]
    if not ons:
        print("   no note-ons received")
        return
    first = ons[0][0]
    rows = [round((t - first) / STEP) for t, _ in ons]
    offsets = [t - k * STEP for (t, _), k in zip(ons, rows, strict=True)]
    t0 = statistics.median(o for o, k in zip(offsets, rows, strict=True) if k < LINES_PER_BEAT)
    errors = [abs(o - t0) * 1000 for o in offsets]
    expected = round(seconds / STEP) * TRACKS
    late = sum(e > BOUND_MS for e in errors)
    print(
        f"   note-ons received {len(ons)} (about {expected} expected in {seconds:g} s);"
        f" |error| p50 {percentile(errors, 50):.3f} ms, p99 {percentile(errors, 99):.3f} ms,"
        f" max {max(errors):.3f} ms; {late} more than {BOUND_MS:g} ms off"
    )
    print(f"   player: {' '.join(command)}")


def memory_over_an_hour(minutes: float) -> None:
    from tracker.render.offline import OfflineRender, RenderJob

    demo = load_song(demo_song())
    one_pass = sum(demo.pattern_ticks(p) for p in demo.order)
    print(f"2. Memory over a {minutes:g}-minute render (the demo's order, repeated)")
    song = demo
    seconds_per_pass = 62.0  # the demo's length
    song.order = demo.order * max(1, round(minutes * 60 / seconds_per_pass))
    job = RenderJob(song, search_dirs=[REPO / "patterns"])
    render = OfflineRender(job)
    rate = job.rate
    samples = []
    frames = 0
    next_mark = 0
    started = time.perf_counter()
    for mix, _ in render.blocks():
        frames += len(mix)
        if frames >= next_mark:
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            samples.append((frames / rate / 60, rss))
            next_mark += 60 * rate
    elapsed = time.perf_counter() - started
    print(
        f"   {frames / rate / 60:.1f} minutes rendered in {elapsed:.1f} s;"
        " peak RSS (MiB) by minute:"
    )
    shown = [f"{m:.0f}:{rss:.0f}" for m, rss in samples[:: max(1, len(samples) // 12)]]
    print("   " + "  ".join(shown))
    first_rss = samples[min(1, len(samples) - 1)][1]
    print(
        f"   after the first minute {first_rss:.0f} MiB, at the end {samples[-1][1]:.0f} MiB:"
        f" {samples[-1][1] - first_rss:+.0f} MiB over the render ({one_pass} ticks a pass)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="MIDI run length")
    parser.add_argument("--render-minutes", type=float, default=60.0)
    args = parser.parse_args()
    try:
        midi_under_load(args.seconds)
    except (pytest.fail.Exception, pytest.skip.Exception) as exc:
        print(f"1. skipped: {exc}")
    memory_over_an_hour(args.render_minutes)
    print(f"made by: python bench/load.py {' '.join(sys.argv[1:])}".rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
