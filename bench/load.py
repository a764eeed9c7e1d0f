"""Load: the scheduler under a dense song, and memory over a long render.

    .venv/bin/python bench/load.py [--seconds 30] [--render-minutes 60]

1. MIDI under load: 64 MIDI tracks (four to a channel), a note on every row of every track,
   256-row patterns at 300 BPM (a row every 50 ms: 64 note-ons and 64 note-offs each), to a
   wall-clock receiver on a JACK dummy server (the receiver of bench/midi_jitter.py:
   python-rtmidi stamps each message with jack_get_time()), one player after the other:
   - ours: `tracker play SONG --midi-api jack --loop`;
   - probed: the same player built the same way in a child that also keeps each message's
     send time minus its due time, so the scheduler's own part of the error is known;
   - naive: the loop people write first (mido messages through python-rtmidi, send a row,
     sleep a step), for scale.
   Every note-on and note-off is judged: row k's note-ons and the note-offs of row k-1's notes
   are due at t0 + k·step, t0 the median offset of the first 40 rows' note-ons; each
   message's row is told by its time and checked by its pitch (a row a whole step late is not
   taken for the next).
   Printed: received/expected, p50/p99/p99.9/max of |error|, how many are more than 2 ms off
   (the issue's bound), naive p99 / ours. The receiver's resolution is one JACK period (32
   frames, 0.67 ms), and the dummy driver's cycles themselves run late at times on a shared VM.
   Beside each player, bench/stalls.py watches every CPU with a FIFO-99 thread waking each
   millisecond: the rows that came late are counted with how many of them fell while a CPU
   was taken from even that thread (the host's doing, which no player can time through), and
   how often the rows that came in time met one too (chance).
2. Memory over a long render: an hour of the demo's patterns rendered offline (blocks thrown
   away, no file), the process's resident memory sampled every rendered minute.
3. The app under load: the same 64-track song open in the app (in a pseudo-terminal, MIDI to
   the wall receiver, audio to the JACK dummy server), and the time from a key to the screen
   showing what it did (the octave in the transport bar, + and - in turn): stopped, then
   while the pattern loops with the grid following the playhead (20 rows a second); and the
   note-ons received against those the song has in that time. (Not jack_midi_dump: at 2,560
   messages a second it drops about one in 64 itself.)

4. Memory while playing: `tracker play --loop` of the load song for --play-minutes (full
   garbage collections are suspended while it plays, so cyclic garbage would pile up here),
   its resident memory and its MIDI sender's read from /proc every 10 s.

Figures only: nothing here asserts on time. The machine is shared: compare runs made together.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import resource
import select
import shlex
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
from stalls import Watch, watching  # noqa: E402
from ui import PtyApp  # noqa: E402

from tests.jack import jack_server  # noqa: E402
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
FIT_ROWS = 40


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
    results: dict[str, list[Note]] = {}
    first_at: dict[str, float] = {}
    watches: dict[str, Watch] = {}
    with tempfile.TemporaryDirectory() as name, jack_server(Path(name), PERIOD) as env:
        os.environ["JACK_DEFAULT_SERVER"] = env["JACK_DEFAULT_SERVER"]  # for rtmidi here
        tmp = Path(name)
        late_file = tmp / "late.json"
        for player in ("ours", "probed", "naive"):
            wall = WallReceiver(f"wall{player}")
            path = tmp / f"{player}.song"
            save_song(dense_song(wall.port), path)
            duration = f"{seconds + 0.5:g}"
            command = {
                "ours": [*TRACKER, "play", str(path), "--midi-api", "jack", "--duration",
                         duration, "--loop"],
                "probed": [sys.executable, str(REPO / "bench" / "midi_jitter.py"),
                           "--probe-song", str(path), "--seconds", f"{seconds:g}",
                           "--late-file", str(late_file)],  # it adds 0.5 s (SPARE) itself
                "naive": [sys.executable, __file__, "--naive-to", wall.port, "--seconds",
                          duration],
            }[player]  # fmt: skip
            try:
                with watching(seconds + 60) as watches[player]:
                    # Each player connects its port to the receiver itself.
                    subprocess.run(command, env=env, check=True, timeout=seconds + 60,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
            finally:
                time.sleep(0.3)  # the last messages reach the receiver's queue
                wall.close()
            results[player] = note_messages(wall)
            first_at[player] = wall.first_at
            print(f"   {player}: {shlex.join(command)}")
        late = [ns / 1e6 for ns in json.loads(late_file.read_text())]
    expected = round((seconds + 0.5) / STEP) * TRACKS
    naive_p99 = None
    errors_of = {player: grid_errors(notes) for player, notes in results.items()}
    if errors_of["naive"]:
        naive_p99 = percentile(errors_of["naive"], 99)
    for player, errors in errors_of.items():
        if not errors:
            print(f"   {player}: no note-ons received")
            continue
        ratio = f"; naive p99 / this p99 {naive_p99 / p99:.0f}x" if (
            naive_p99 and player != "naive" and (p99 := percentile(errors, 99))
        ) else ""  # fmt: skip
        ons = sum(is_note_on(d) for _, d in results[player])
        print(
            f"   {player}: {ons} of about {expected} note-ons, {len(errors) - ons} note-offs;"
            f" |error| of each p50 {percentile(errors, 50):.3f} ms,"
            f" p99 {percentile(errors, 99):.3f} ms, p99.9 {percentile(errors, 99.9):.3f} ms,"
            f" max {max(errors):.3f} ms; {sum(e > BOUND_MS for e in errors)} more than"
            f" {BOUND_MS:g} ms off{ratio}"
        )
        if player != "naive":  # every naive row is late
            print(f"      {late_rows(results[player], first_at[player], watches[player])};"
                  f" the machine meanwhile: {watches[player].summary()}")  # fmt: skip
    print(
        f"   probed, its sender's own lateness (send minus due) over {len(late)} messages:"
        f" p50 {percentile(late, 50):.3f} ms, p99 {percentile(late, 99):.3f} ms,"
        f" max {max(late):.3f} ms; {sum(x > BOUND_MS for x in late)} sent > {BOUND_MS:g} ms late"
    )


Note = tuple[float, bytes]  # seconds (the wall receiver's), a note-on or note-off


def note_messages(wall: WallReceiver) -> list[Note]:
    """Every note-on and note-off the receiver has so far (a copy: it is still receiving)."""
    return [(t, d) for t, d in list(wall.received) if len(d) == 3 and d[0] & 0xE0 == 0x80]


def is_note_on(data: bytes) -> bool:
    return data[0] & 0xF0 == 0x90 and data[2] > 0


def grid_rows(notes: list[Note]) -> tuple[float, list[int]]:
    """Each message's row k (row k due at t0 + k·step; a note-off is due with the row after its
    note-on's), and t0, the median offset of the note-ons of the first FIT_ROWS rows (two
    seconds: a late first row or two cannot move it); -1 for the note-offs after the last
    note-on, which are the stop's, not the song's.

    k comes first from time: a row is the messages within half a step of its first, its k the
    last row's plus the steps between them (a lost row leaves a gap, and a drifting player, the
    naive loop, is still judged row by row). Then from what each message says: dense_song's
    pitches on pattern row r are r mod 12 above a C, so a message goes to the nearest row whose
    pitch it carries. A row that came a whole step late is not taken for the next one."""
    rough = []
    k, row_start = 0, None
    for t, _ in notes:
        if row_start is None:
            row_start = t
        elif t - row_start > STEP / 2:
            k += max(1, round((t - row_start) / STEP))
            row_start = t
        rough.append(k)
    rows = [_row_carried(data, k) for (_, data), k in zip(notes, rough, strict=True)]
    last_on = max((k for (_, d), k in zip(notes, rows, strict=True) if is_note_on(d)), default=-1)
    rows = [k if k <= last_on else -1 for k in rows]
    first_beats = [
        t - k * STEP
        for (t, d), k in zip(notes, rows, strict=True)
        if is_note_on(d) and 0 <= k < FIT_ROWS
    ]
    return (statistics.median(first_beats) if first_beats else math.nan), rows


def _row_carried(data: bytes, near: int) -> int:
    """The row nearest `near` that `data` belongs to, by its pitch: within six rows, but
    across the loop (256 rows, not a multiple of 12, so rows 252-255 share pitches with 256-259)
    a message two rows early or three late goes four rows off. Either way it is 100 ms or more
    off, and counted late."""
    on = is_note_on(data)
    for distance in sorted(range(-6, 7), key=abs):
        k = near + distance
        played = k if on else k - 1  # the row whose note it is
        if played >= 0 and played % ROWS % 12 == data[1] % 12:
            return k
    return near


def grid_errors(notes: list[Note]) -> list[float]:
    """|error| in ms of each note message (the stop's note-offs aside) against its row's time."""
    t0, rows = grid_rows(notes)
    if math.isnan(t0):
        return []
    return [abs(t - t0 - k * STEP) * 1000 for (t, _), k in zip(notes, rows, strict=True) if k >= 0]


def late_rows(notes: list[Note], first_at: float, watch: Watch) -> str:
    """Which rows had a message more than BOUND_MS off, and how many of them the stall monitor
    saw a CPU taken in (from 1 ms before the row was due to its last message's arrival). Beside
    it, how many would by chance: each late row's window, of its own length, laid at every row
    that came in time, the share of those that meet a stall, summed over the late rows."""
    t0, rows = grid_rows(notes)
    if math.isnan(t0) or not math.isfinite(first_at):
        return "no rows"
    spans: dict[int, tuple[float, float, bool]] = {}  # row → due, last arrival, late
    for (t, _), k in zip(notes, rows, strict=True):
        if k < 0:
            continue
        due = t0 + k * STEP
        _, last, late = spans.get(k, (due, t, False))
        spans[k] = (due, max(last, t), late or abs(t - due) * 1000 > BOUND_MS)

    def stalled(start: float, length: float) -> bool:
        begin = (first_at + start) * 1e9 - 1e6
        return bool(watch.during(int(begin), int(begin + 1e6 + length * 1e9)))

    late = [(due, max(last, due) - due) for due, last, is_late in spans.values() if is_late]
    in_time = [due for due, _, is_late in spans.values() if not is_late]
    seen = sum(stalled(due, length) for due, length in late)
    chance = sum(
        sum(stalled(due, length) for due in in_time) / len(in_time) for _, length in late
    ) if in_time else math.nan  # fmt: skip
    caveat = "" if watch.real_time else " (the watchers had no real-time priority: unreliable)"
    return (
        f"{len(late)} of {len(spans)} rows late, {seen} of them while a CPU was taken;"
        f" by chance {chance:.2f} would be{caveat}"
    )


def naive_loop(port: str, seconds: float) -> None:
    """The loop people write first, for this song: send a row, sleep a step. Sleeps add up."""
    import mido
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="naive")
    out.open_port(out.get_ports().index(port), "out")
    time.sleep(0.5)
    song = dense_song(port)
    pattern = song.patterns[0]
    sounding: list[tuple[int, int]] = []
    for row in range(round(seconds / STEP)):
        for channel, note in sounding:
            out.send_message(mido.Message("note_off", channel=channel, note=note).bytes())
        sounding = []
        for t, track in enumerate(song.tracks):
            cell = pattern.get(t, row % ROWS)
            if cell is not None and cell.notes and cell.notes[0] is not None:
                note = cell.notes[0].note
                assert note is not None
                sounding.append((track.channel - 1, note))
                message = mido.Message("note_on", channel=track.channel - 1, note=note,
                                       velocity=100)  # fmt: skip
                out.send_message(message.bytes())
        time.sleep(STEP)
    for channel, note in sounding:
        out.send_message(mido.Message("note_off", channel=channel, note=note).bytes())
    time.sleep(0.2)
    out.close_port()
    out.delete()


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


def memory_while_playing(minutes: float) -> None:
    """`tracker play --loop` of the load song for `minutes`, full garbage collections suspended
    as they are while it plays: its resident memory every 10 s, read from /proc."""
    print(
        f"4. Memory of `tracker play` and its MIDI sender over {minutes:g} minutes of the load"
        " song, looped"
    )
    seconds = minutes * 60
    with tempfile.TemporaryDirectory() as name, jack_server(Path(name), 256) as env:
        os.environ["JACK_DEFAULT_SERVER"] = env["JACK_DEFAULT_SERVER"]
        wall = WallReceiver("memwall")
        path = Path(name) / "load.song"
        save_song(dense_song(wall.port), path)
        command = [*TRACKER, "play", str(path), "--midi-api", "jack", "--loop", "--duration",
                   f"{seconds:g}"]  # fmt: skip
        errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 (a pipe could fill over hours)
        player = subprocess.Popen(command, env=env, stderr=errors)
        samples: list[tuple[float, float]] = []  # seconds, MiB
        window = (0.0, 0)  # seconds, note-ons: the last span between samples
        started = last = time.perf_counter()
        try:
            while player.poll() is None:
                now = time.perf_counter()
                if now - started >= (len(samples) + 1) * 10:
                    samples.append((now - started, resident_mib(player.pid)))
                    # A new list in one step: the drain thread appends to whichever is there.
                    received, wall.received = wall.received, []
                    window = (now - last, sum(d[0] & 0xF0 == 0x90 and d[2] > 0
                                              for _, d in received))  # fmt: skip
                    last = now
                time.sleep(0.5)
        finally:
            if player.poll() is None:  # an error or ctrl-c here: don't leave it playing
                player.terminate()
            player.wait(timeout=30)
            wall.close()
    print(f"   {shlex.join(command)}")
    with errors:
        errors.seek(0)
        failed = errors.read().strip()[-300:]
    if player.returncode != 0:
        print(f"   the player failed (exit {player.returncode}): {failed}")
        return
    samples = [(t, mib) for t, mib in samples if not math.isnan(mib)]
    if not samples:
        print("   too short to sample (10 s at least)")
        return
    shown = [f"{t / 60:.1f}:{mib:.0f}" for t, mib in samples[:: max(1, len(samples) // 12)]]
    print("   resident MiB by minute: " + "  ".join(shown))
    settled = next(((t, mib) for t, mib in samples if t >= 30), samples[-1])
    print(
        f"   at {settled[0]:.0f} s {settled[1]:.0f} MiB, at {samples[-1][0]:.0f} s"
        f" {samples[-1][1]:.0f} MiB: {samples[-1][1] - settled[1]:+.1f} MiB;"
        f" {window[1]} note-ons reached the receiver in the last {window[0]:.2f} s"
        f" (the song has {window[0] / STEP * TRACKS:.0f})"
    )


def resident_mib(pid: int) -> float:
    """Resident memory of `pid` and every process under it (the MIDI sender is a child)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # gone
        return math.nan
    kib = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")), "")
    own = int(kib) / 1024 if kib else math.nan
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError, ValueError):  # a thread that just ended
            children += [int(child) for child in (task / "children").read_text().split()]
    return own + sum(mib for child in children if not math.isnan(mib := resident_mib(child)))


def pump(app: PtyApp, seconds: float) -> None:
    """Read the app's output for `seconds` (an unread terminal would block it)."""
    deadline = time.perf_counter() + seconds
    while (left := deadline - time.perf_counter()) > 0:
        if select.select([app.fd], [], [], left)[0]:
            os.read(app.fd, 65536)


def octave_latencies(app: PtyApp, presses: int) -> list[float]:
    """Seconds from writing + or - to the transport bar showing the octave it set, in pairs
    (an odd count is made even) so that the octave ends where it began, at 4."""
    rng = random.Random(presses)
    latencies = []
    for i in range(presses + presses % 2):
        key, shown = (b"=", b"Oct 5") if i % 2 == 0 else (b"-", b"Oct 4")
        app.output.clear()
        sent = time.perf_counter()
        os.write(app.fd, key)
        app.started = sent
        latencies.append(app.read_until(shown, timeout=10))
        # A player's pace, not a key-repeat burst; random, so that the keys fall at every
        # point of the app's own timers.
        pump(app, rng.uniform(0.03, 0.13))
    return latencies


def note_on_times(wall: WallReceiver) -> list[float]:
    """When each note-on the receiver has so far arrived (a copy: it is still receiving)."""
    return [t for t, d in list(wall.received) if d[0] & 0xF0 == 0x90 and d[2] > 0]


def app_under_load(presses: int, seconds: float) -> None:
    print(f"3. The app with the load song: key → screen, {presses} presses each")
    with tempfile.TemporaryDirectory() as name, jack_server(Path(name), 512) as env:
        os.environ["JACK_DEFAULT_SERVER"] = env["JACK_DEFAULT_SERVER"]  # for the app
        wall = WallReceiver("appwall")
        path = Path(name) / "load.song"
        save_song(dense_song(wall.port), path)
        app = PtyApp(path)
        try:
            app.read_until(b"JACK", timeout=60)  # the transport bar: the audio output is open
            pump(app, 1.0)
            stopped = octave_latencies(app, presses)
            os.write(app.fd, b"\x1b[17~")  # F6: loop the pattern
            pump(app, 1.0)
            before = len(note_on_times(wall))
            started = time.perf_counter()
            playing = octave_latencies(app, presses)
            while time.perf_counter() - started < seconds:
                os.write(app.fd, b"\x1b[B" if int(time.perf_counter() * 4) % 2 else b"\x1b[A")
                pump(app, 0.05)
            elapsed = time.perf_counter() - started
            after = len(note_on_times(wall))
        finally:
            app.close()
            wall.close()
    for label, values in (("stopped", stopped), ("playing", playing)):
        ms = [v * 1000 for v in values]
        print(
            f"   {label}: p50 {percentile(ms, 50):.1f} ms, p99 {percentile(ms, 99):.1f} ms,"
            f" max {max(ms):.1f} ms"
        )
    expected = elapsed / STEP * TRACKS
    print(
        f"   note-ons received while keys were pressed: {after - before} in {elapsed:.1f} s"
        f" (the song has {expected:.0f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="MIDI run length")
    parser.add_argument("--render-minutes", type=float, default=60.0)
    parser.add_argument("--keys", type=int, default=100, help="presses for part 3")
    parser.add_argument("--play-minutes", type=float, default=10.0, help="part 4's length")
    parser.add_argument("--parts", default="1234", help="which parts to run, e.g. 13")
    parser.add_argument("--naive-to", metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive_to:  # the child that runs the naive loop
        naive_loop(args.naive_to, args.seconds)
        return 0
    if "1" in args.parts:
        try:
            midi_under_load(args.seconds)
        except (pytest.fail.Exception, pytest.skip.Exception) as exc:
            print(f"1. skipped: {exc}")
    if "2" in args.parts:
        memory_over_an_hour(args.render_minutes)
    if "3" in args.parts:
        try:
            app_under_load(args.keys, args.seconds)
        except (pytest.fail.Exception, pytest.skip.Exception) as exc:
            print(f"3. skipped: {exc}")
    if "4" in args.parts:
        try:
            memory_while_playing(args.play_minutes)
        except (pytest.fail.Exception, pytest.skip.Exception) as exc:
            print(f"4. skipped: {exc}")
    print(f"made by: python bench/load.py {' '.join(sys.argv[1:])}".rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
