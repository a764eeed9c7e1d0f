"""Reference senders for the load song: how many late rows this machine leaves to any sender.

    .venv/bin/python bench/senders.py [--seconds 10] [--runs 3]

Prototypes to measure against, not product code. Each sends bench/load.py's rows (64
note-offs and 64 note-ons every 50 ms) from a process of its own to a wall receiver, while
`tracker play` of the load song sends to a second receiver beside it (the same load as ours
meets), with bench/stalls.py watching every CPU:

- rt: one thread, python-rtmidi's JACK output, SCHED_FIFO where allowed, sleeping to each row
  on absolute targets: the best a sender without timestamps can do here (nothing else in its
  process shares the interpreter);
- ahead (needs `pip install JACK-Client`): rows queued 20 ms ahead to a JACK MIDI port of its
  own, whose process callback writes each event at its offset in the cycle it falls in, so
  the sender's wake-up drops out of the timing. JACK's dummy driver skips frames when it
  wakes late, so due times are placed by the monotonic clock at each cycle, not by frames.

Printed per run: note-ons received of those sent, rows late at the receiver (a note more than
2 ms off), how many fell in a stall, max |error|.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from load import (  # noqa: E402
    ROWS,
    STEP,
    TRACKS,
    dense_song,
    grid_errors,
    is_note_on,
    late_rows,
    note_messages,
)
from midi_jitter import TRACKER, WallReceiver  # noqa: E402
from stalls import real_time_priority, watching  # noqa: E402

from tests.jack import jack_server  # noqa: E402
from tracker.model.serialize import save_song  # noqa: E402

STEP_NS = round(STEP * 1e9)
AHEAD_NS = 20_000_000


def row_messages(row: int) -> list[bytes]:
    """The `row`-th row played (counting on through the loop) as `tracker play` sends it: the
    last row's note-offs, then this one's note-ons (bench/load.py's dense_song)."""

    def pitch(track: int, played: int) -> int:
        return 36 + (track // 16) * 12 + played % ROWS % 12

    offs = [bytes([0x80 | track % 16, pitch(track, row - 1), 0]) for track in range(TRACKS)]
    ons = [bytes([0x90 | track % 16, pitch(track, row), 100]) for track in range(TRACKS)]
    return (offs if row else []) + ons


def rt_sender(port: str, seconds: float) -> None:
    import rtmidi

    print(f"rt: {real_time_priority()}", file=sys.stderr)
    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="rtsender")
    out.open_port(out.get_ports().index(port), "out")
    time.sleep(0.5)
    start = time.perf_counter_ns() + 100_000_000
    for row in range(round(seconds / STEP)):
        due = start + row * STEP_NS
        if (wait := due - time.perf_counter_ns()) > 0:
            time.sleep(wait / 1e9)
        for message in row_messages(row):
            out.send_message(message)
    time.sleep(0.2)
    out.close_port()


def ahead_sender(port: str, seconds: float) -> None:
    import jack

    client = jack.Client("aheadsender", no_start_server=True)
    out = client.midi_outports.register("out")
    rate = client.samplerate
    queue: collections.deque[tuple[int, bytes]] = collections.deque()  # due µs, message

    @client.set_process_callback
    def process(frames: int) -> None:
        out.clear_buffer()
        # The cycle's start on the monotonic clock (perf_counter's): now, less what has run.
        began = time.perf_counter_ns() // 1000 - client.frames_since_cycle_start * 1e6 / rate
        ends = began + frames * 1e6 / rate
        while queue and queue[0][0] < ends:
            due, message = queue[0]
            try:
                out.write_midi_event(min(max(0, round((due - began) * rate / 1e6)), frames - 1),
                                     message)  # fmt: skip
            except jack.JackError:
                return  # the cycle's buffer is full: the rest goes in the next one
            queue.popleft()

    client.activate()
    client.connect(out, port)
    time.sleep(0.5)
    start = time.perf_counter_ns() + 100_000_000
    for row in range(round(seconds / STEP)):
        due = start + row * STEP_NS
        if (wait := due - AHEAD_NS - time.perf_counter_ns()) > 0:
            time.sleep(wait / 1e9)
        queue.extend((due // 1000, message) for message in row_messages(row))
    time.sleep(0.3)
    client.deactivate()
    client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--send", nargs=2, metavar=("KIND", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        kind, port = args.send
        (rt_sender if kind == "rt" else ahead_sender)(port, args.seconds)
        return 0
    kinds = ["rt"]
    try:
        import jack  # noqa: F401
    except ImportError:
        print("ahead: skipped (pip install JACK-Client to run it)")
    else:
        kinds.append("ahead")
    with tempfile.TemporaryDirectory() as name, jack_server(Path(name), 32) as env:
        os.environ["JACK_DEFAULT_SERVER"] = env["JACK_DEFAULT_SERVER"]
        for run in range(args.runs):
            for kind in kinds:
                wall, sink = WallReceiver(f"wall{kind}{run}"), WallReceiver(f"sink{kind}{run}")
                song = Path(name) / "load.song"
                save_song(dense_song(sink.port), song)
                load = subprocess.Popen(
                    [*TRACKER, "play", str(song), "--midi-api", "jack", "--loop", "--duration",
                     f"{args.seconds + 3:g}"], env=env, stderr=subprocess.DEVNULL)  # fmt: skip
                try:
                    time.sleep(1.0)
                    with watching(args.seconds + 30) as watch:
                        subprocess.run([sys.executable, __file__, "--send", kind, wall.port,
                                        "--seconds", f"{args.seconds:g}"], env=env,
                                       check=True)  # fmt: skip
                    # The load played all along: it was still playing when the sender ended.
                    loaded = load.poll() is None
                finally:
                    if load.poll() is None:
                        load.terminate()
                    load.wait(timeout=10)
                    time.sleep(0.3)
                    wall.close()
                    sink.close()
                notes = note_messages(wall)
                errors = grid_errors(notes)
                sent = round(args.seconds / STEP) * TRACKS
                print(
                    f"{kind} run {run}: {sum(is_note_on(d) for _, d in notes)} of {sent}"
                    f" note-ons received; {late_rows(notes, wall.first_at, watch)};"
                    f" max |error| {max(errors, default=float('nan')):.2f} ms"
                    + ("" if loaded else "; the load had stopped: not comparable")
                )
    print(f"made by: python bench/senders.py {' '.join(sys.argv[1:])}".rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
