"""Live playback on a JACK dummy server while another Python thread burns CPU.

Prints under-runs and the engine's render time per block (p50/p99/max against the block's
budget), for the demo song and for a song of at least 64 simultaneous synth voices.

    .venv/bin/python bench/live_audio.py --seconds 60
    .venv/bin/python bench/live_audio.py --seconds 20 --switch-interval 0.005

Starts its own jackd (-d dummy -r 48000 -p 512, tests/jack.py's) unless --server NAME names
a running one. The CPU burner stands in for the UI.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.jack import jack_server
from tracker.live.transport import LOOKAHEAD

RATE = 48000
BLOCK = 512


def burn(stop: threading.Event, counter: list[int]) -> None:
    """Pure Python work holding the GIL, as a busy UI would."""
    while not stop.is_set():
        total = 0
        for i in range(2000):
            total += i * i % 7
        counter[0] += 1


def voices_song():
    """Eight synth tracks of eight-note chords held a whole pattern, retriggered each time:
    64 voices sounding plus the previous chords' release tails."""
    from tracker.model.song import NoteCell, Pattern, Song, Track

    presets = ["pad", "lead", "strings", "organ", "brass", "bell", "pluck", "bass"]
    song = Song(title="voices", bpm=120.0, instruments={i + 1: p for i, p in enumerate(presets)})
    pattern = Pattern(16)
    for track in range(8):
        song.tracks.append(
            Track(f"T{track}", instrument=track + 1, volume_db=-24.0, note_columns=8)
        )
        for column in range(8):
            pitch = 36 + track * 5 + column * 3
            pattern.set_note(track, 0, column, NoteCell(pitch, None, 80, None))
    song.patterns[0] = pattern
    song.order = [0]
    return song


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] if ordered else 0.0


def run(label: str, song, seconds: float, args: argparse.Namespace, loop: bool) -> None:
    from tracker.live import Transport

    stop = threading.Event()
    counter = [0]
    burner = threading.Thread(target=burn, args=(stop, counter), daemon=True)
    with Transport(song, rate=RATE, block=BLOCK, lookahead=args.lookahead) as live:
        if args.switch_interval is not None:
            sys.setswitchinterval(args.switch_interval)
        interval = sys.getswitchinterval()
        status = live.status()
        live._engine.render_times = times = []
        burner.start()
        live.play(loop=loop)
        began = time.monotonic()
        most_voices = 0
        while time.monotonic() - began < seconds:
            time.sleep(1 / 30)  # the UI's status poll
            status = live.status()
            most_voices = max(most_voices, status.voices)
            if not live.playing:
                live.play(loop=loop)
        stop.set()
        burner.join()
        status = live.status()
        device = getattr(live._sink, "_device_underflows", 0)
    budget = BLOCK / RATE * 1000
    blocks = [t * 1000 for t in times]
    print(
        f"{label}: {seconds:.0f} s on {status.audio}, lookahead {args.lookahead}, switch "
        f"interval {interval * 1000:.1f} ms, burner loops {counter[0]}"
    )
    print(
        f"  under-runs: {status.underruns} (device-reported {device}, ring starved "
        f"{status.underruns - device})   most voices: {most_voices}"
    )
    print(
        f"  render per block: p50 {percentile(blocks, 0.5):.3f} ms, p99 "
        f"{percentile(blocks, 0.99):.3f} ms, max {max(blocks, default=0):.3f} ms "
        f"(budget {budget:.1f} ms, {len(blocks)} blocks)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--server", help="a running JACK server's name (default: start one)")
    parser.add_argument(
        "--switch-interval", type=float, help="override the transport's sys.setswitchinterval"
    )
    parser.add_argument("--lookahead", type=int, default=LOOKAHEAD, help="frames rendered ahead")
    args = parser.parse_args()
    if args.server:
        os.environ["JACK_DEFAULT_SERVER"] = args.server  # before PortAudio starts
    else:
        server = contextlib.ExitStack()
        logs = Path(server.enter_context(tempfile.TemporaryDirectory()))
        os.environ.update(server.enter_context(jack_server(logs, BLOCK)))
        # Registered before sounddevice is imported, so it runs after sounddevice's own exit
        # handler: PortAudio must let go of the server before the server goes.
        atexit.register(server.close)
    try:
        from tracker.model.serialize import load_song
        from tracker.paths import demo_song

        run("demo", load_song(demo_song()), args.seconds, args, loop=False)
        run("voices", voices_song(), args.seconds, args, loop=True)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
