"""MIDI timing against independent receivers: our player beside a naive mido loop.

    .venv/bin/python bench/midi_jitter.py [--seconds 60] [--tui] [--probed] [--repeat 1]

A JACK dummy server (32-frame periods at 48 kHz: a receiver sees time in steps of 0.67 ms).
The pattern: 16 MIDI tracks on channels 1-16, a new note on every row of every track, 150 BPM,
4 rows a beat (a 16th every 100 ms), looped. The players, one after the other (fairer on a
2-core machine than side by side), each to receivers of its own:

- ours: `tracker play SONG --midi-api jack --duration S --loop`;
- probed (with --probed): the same player built the same way in a child of ours that also
  keeps MidiOut.late_ns, so the sender's own lateness (send minus due) is known beside what
  the receivers heard;
- naive: a process of its own running the loop people write first: python-rtmidi's JACK
  output, messages built with mido, each row's 16 note-offs and note-ons, `time.sleep(step)`;
- tui (with --tui): the app (`tracker SONG` in tmux) loops the pattern (F6) while the grid
  scrolls (PageDown/PageUp/Down/Up, 20 keys a second).

Two receivers hear each player:

- `jack_midi_dump -a` (the issue's receiver) stamps each message with the frames JACK has run
  through. The dummy driver is no hardware clock: whenever a cycle wakes too late it
  re-anchors its schedule, and the frames it skipped are lost for good; on a shared VM at
  0.67 ms periods that is tens to hundreds of times a second, so its frame count runs slow
  against real time (by 1-9 % here);
- `wall`: python-rtmidi's JACK input, which RtMidi stamps with jack_get_time() (the monotonic
  clock, µs) as the cycle that delivers the message runs. Same cycles, a steady clock.

Which one is a player's reference depends on the clock it times MIDI by. `tracker play` of a
song without built-in instruments opens no audio device and times MIDI by the monotonic clock:
the wall receiver is its reference. The app always opens its audio output (JACK here) and
times MIDI by that output's frame clock, so MIDI stays in step with the sound: the dump's
frames are its reference, and the wall receiver sees the dummy driver's slip as drift. (With a
sound card the two clocks agree to a few ppm.) The naive loop sleeps on the monotonic clock.

For each, note-on k of a track should arrive at t0 + k·step, t0 being the median offset of the
first beat's notes. Printed: notes received/expected, p50/p99/max of |error|, the signed
median, the drift (mean error over the last second minus the first), naive p99 / this p99, a
histogram of the signed error and the worst notes; and how far the dump's frame count fell
behind the wall clock, with jackd's count of dummy-driver x-runs. The issue's target: p99 ≤
receiver period + 1 ms, drift ≤ 1 ms, p99 at least 3x better than the naive loop.
Figures go to docs/PERFORMANCE.md. The machine is shared: compare runs made together.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pytest  # noqa: E402  (tests.jack reports a missing program with pytest.fail/skip)

from tests.jack import RATE, MidiDump, Received, jack_connect, jack_server, wait_for  # noqa: E402
from tracker.model.serialize import save_song  # noqa: E402
from tracker.model.song import NoteCell, Pattern, Song, Track, TrackKind  # noqa: E402

PERIOD = 32  # frames per JACK cycle: the receivers' resolution
BPM = 150.0
LINES_PER_BEAT = 4
STEP = 60.0 / BPM / LINES_PER_BEAT  # seconds a row: 0.1
STEP_FRAMES = STEP * RATE  # 4800
TRACKS = 16
ROWS = 64
USUAL = ("tracker: MIDI to ", "tracker: playing ")  # what tracker play always says
SPARE = 0.5  # seconds a player runs past the measured span, so its last row is surely sent
TUI_KEYS = ["PageDown", "PageDown", "Down", "Down", "Down", "PageUp", "Up", "Up", "PageUp"]
HISTOGRAM_MS = [-1.0, 0.0, 0.67, 1.33, 2.0, 5.0, 10.0, 50.0]  # bucket edges of the signed error
HISTOGRAM_LABELS = ["<-1", "-1..0", "0..0.67", "0.67..1.33", "1.33..2", "2..5", "5..10", "10..50"]
HISTOGRAM_LABELS.append("≥50")

_tracker = Path(sys.executable).with_name("tracker")
TRACKER = [str(_tracker)] if _tracker.exists() else [sys.executable, "-m", "tracker"]


def pitch(track: int, row: int) -> int:
    """Two pitches a track, alternating, so a note's end never meets the next note's start."""
    return 48 + track + 12 * (row % 2)


def grid_song(port: str) -> Song:
    """16 MIDI tracks to `port` on channels 1-16, a 64-row pattern with a note on every row."""
    tracks = [
        Track(f"Track {t + 1}", kind=TrackKind.MIDI, port=port, channel=t + 1)
        for t in range(TRACKS)
    ]
    song = Song(title="grid", bpm=BPM, lines_per_beat=LINES_PER_BEAT, swing=50.0, tracks=tracks)
    pattern = Pattern(ROWS)
    for t in range(TRACKS):
        for row in range(ROWS):
            pattern.set_note(t, row, 0, NoteCell(pitch(t, row), velocity=100))
    song.patterns[0] = pattern
    song.order = [0]
    return song


# -- the receivers --------------------------------------------------------------------------------


class WallReceiver:
    """python-rtmidi's JACK input on `NAME:input`, drained by a thread of ours. RtMidi gives
    each message the time since the previous one, from jack_get_time() in the JACK cycle that
    delivered it; summed, they are wall-clock times since the first message."""

    def __init__(self, name: str) -> None:
        import rtmidi

        self.port = f"{name}:input"
        self.midi_in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=name, queue_size_limit=1 << 15)
        self.midi_in.open_virtual_port("input")
        self.received: list[tuple[float, bytes]] = []  # seconds since the first, bytes
        # perf_counter() at the first message: each message is drained after it was stamped,
        # so the smallest drain time minus stamp is that instant, a cycle or less too late.
        self.first_at = float("inf")
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        elapsed = 0.0
        while not self._halt.is_set():
            got = self.midi_in.get_message()
            if got is None:
                self._halt.wait(0.005)
                continue
            data, delta = got
            elapsed += delta
            self.received.append((elapsed, bytes(data)))
            self.first_at = min(self.first_at, time.perf_counter() - elapsed)

    def sources(self) -> list[str]:
        """Every MIDI output port on the server."""
        return list(self.midi_in.get_ports())

    def messages(self) -> list[Received]:
        """What arrived, with its wall-clock time as frames at RATE (for the same analysis)."""
        return [Received(round(seconds * RATE), data) for seconds, data in self.received]

    def close(self) -> None:
        self._halt.set()
        self._thread.join()
        self.midi_in.close_port()
        self.midi_in.delete()


@dataclass
class Listeners:
    dump: MidiDump
    wall: WallReceiver
    connected: list[str] = field(default_factory=list)


@contextmanager
def listen(env: dict[str, str], tmp: Path, label: str) -> Iterator[Listeners]:
    """A jack_midi_dump `dump<label>` for the player to send to, a wall receiver `wall<label>`,
    and a watcher that connects every MIDI output port that appears to the wall receiver too
    (a player opens its port ~0.1 s before its first note: looked for every 5 ms, it is in
    time)."""
    receivers = Listeners(MidiDump(env, tmp, f"dump{label}"), WallReceiver(f"wall{label}"))
    known = set(receivers.wall.sources())
    halt = threading.Event()

    def watch() -> None:
        # Every look is a request to jackd: quick until the player's port is found, then slow.
        while not halt.wait(0.25 if receivers.connected else 0.005):
            for port in set(receivers.wall.sources()) - known:
                known.add(port)
                jack_connect(env, port, receivers.wall.port)
                receivers.connected.append(port)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield receivers
    finally:
        halt.set()
        watcher.join()
        time.sleep(0.2)  # the last messages reach the wall receiver's queue and are drained
        receivers.wall.close()
        receivers.dump.close()  # jack_midi_dump prints what it holds as it ends


# -- the analysis ---------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass(frozen=True, slots=True)
class Note:
    channel: int
    k: int  # grid index: rows since the first note
    error_ms: float  # received minus ideal


def grid_notes(received: list[Received], rows: int) -> list[Note]:
    """Every note-on of the first `rows` rows, placed on the grid and measured against it.

    Note-ons come in rows: a row ends where the pitches' parity flips (see `pitch`), a channel
    comes again, or half a step has passed. A row's grid index is the one of its parity nearest
    its time against the median placing of the last few rows, so a lost row shows as a gap, a
    late one as late (as long as it is less than a step late), the naive loop's drift and the
    dump's lost frames are followed, and one stall does not shift every later row.
    t0 is then the median offset of the first beat's notes.
    """
    groups: list[list[Received]] = []
    for message in (m for m in received if m.is_note_on):
        group = groups[-1] if groups else None
        if (
            group is None
            or _odd(message) != _odd(group[0])
            or any(m.channel == message.channel for m in group)
            or message.frame - group[0].frame > STEP_FRAMES / 2
        ):
            groups.append([message])
        else:
            group.append(message)
    recent: deque[float] = deque(maxlen=9)  # frame minus k·step of the last rows placed
    placed: list[tuple[int, int, int]] = []  # channel, k, frame
    for group in groups:
        at = statistics.median(m.frame for m in group)
        if recent:
            estimate = (at - statistics.median(recent)) / STEP_FRAMES
        else:
            estimate = 1.0 if _odd(group[0]) else 0.0  # a receiver may miss the first row
        k = _nearest(estimate, _odd(group[0]))
        recent.append(at - k * STEP_FRAMES)
        if k < rows:
            placed += [(m.channel, k, m.frame) for m in group]
    if not placed:
        return []
    first_beat = [f - k * STEP_FRAMES for _, k, f in placed if k < LINES_PER_BEAT]
    t0 = statistics.median(first_beat or [f - k * STEP_FRAMES for _, k, f in placed])
    return [Note(c, k, (frame - t0 - k * STEP_FRAMES) / RATE * 1000) for c, k, frame in placed]


def _odd(message: Received) -> bool:
    """Whether a note-on of ours belongs to an odd row (its pitch says)."""
    return message.data[1] >= pitch(message.channel - 1, 1)


def _nearest(estimate: float, odd: bool) -> int:
    """The row ≥ 0 nearest `estimate` whose parity is odd or even as told."""
    k = max(0, round(estimate))
    if k % 2 != odd:
        k = k - 1 if k >= 1 and estimate - (k - 1) < k + 1 - estimate else k + 1
    return k


@dataclass(frozen=True, slots=True)
class Figures:
    player: str
    receiver: str
    received: int
    expected: int
    duplicates: int
    p50: float  # of |error|, ms
    p99: float
    max: float
    signed_p50: float
    signed_min: float
    drift: float  # ms: mean error over the last second minus the first
    detrended_p99: float  # |error| about the best straight line: jitter without drift, ms
    histogram: list[int]
    worst: list[Note]
    short_rows: dict[int, int]  # row → notes missing from it


def figures(player: str, receiver: str, notes: list[Note], rows: int) -> Figures:
    per_second = round(1 / STEP)
    counts = Counter((n.channel, n.k) for n in notes)
    per_row = Counter(k for _, k in counts)
    errors = [n.error_ms for n in notes]
    absolute = [abs(e) for e in errors]
    head = [n.error_ms for n in notes if n.k < per_second]
    tail = [n.error_ms for n in notes if n.k >= rows - per_second]
    slope, intercept = statistics.linear_regression([n.k for n in notes], errors)
    detrended = [abs(n.error_ms - (slope * n.k + intercept)) for n in notes]
    edges = [float("-inf"), *HISTOGRAM_MS, float("inf")]
    histogram = [sum(lo <= e < hi for e in errors) for lo, hi in itertools.pairwise(edges)]
    return Figures(
        player=player,
        receiver=receiver,
        received=len(counts),
        expected=rows * TRACKS,
        duplicates=sum(c - 1 for c in counts.values()),
        p50=percentile(absolute, 50),
        p99=percentile(absolute, 99),
        max=max(absolute),
        signed_p50=percentile(errors, 50),
        signed_min=min(errors),
        drift=statistics.fmean(tail) - statistics.fmean(head) if head and tail else float("nan"),
        detrended_p99=percentile(detrended, 99),
        histogram=histogram,
        worst=sorted(notes, key=lambda n: -abs(n.error_ms))[:5],
        short_rows={k: TRACKS - n for k in range(rows) if (n := per_row[k]) < TRACKS},
    )


# -- the players ----------------------------------------------------------------------------------


def play_ours(env: dict[str, str], tmp: Path, seconds: float, to: Listeners) -> str:
    """`tracker play` to the dump (the watcher adds the wall receiver)."""
    song = tmp / "ours.song"
    save_song(grid_song(to.dump.port), song)
    command = [*TRACKER, "play", str(song), "--midi-api", "jack"]
    command += ["--duration", f"{seconds + SPARE:g}", "--loop"]
    player = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    if player.returncode != 0:
        sys.exit(f"tracker play failed ({player.returncode}): {player.stderr}")
    said = [line for line in player.stderr.splitlines() if not line.startswith(USUAL)]
    return shlex.join(command) + "".join(f"\n  it said: {line}" for line in said)


def play_probed(env: dict[str, str], tmp: Path, seconds: float, to: Listeners) -> str:
    """What `tracker play` does, in a child process that also keeps MidiOut.late_ns (each
    message's send time minus its due time): how much of the lateness is our sender's own."""
    song = tmp / "probed.song"
    save_song(grid_song(to.dump.port), song)
    late_file = tmp / "late.json"
    command = [sys.executable, __file__, "--probe-song", str(song), "--seconds", f"{seconds:g}"]
    command += ["--late-file", str(late_file)]
    subprocess.run(command, env=env, check=True, timeout=seconds + 60)
    late = [ns / 1e6 for ns in json.loads(late_file.read_text())]
    return (
        shlex.join(command) + f"\n  its sender's own lateness (send minus due) over {len(late)}"
        f" messages: p50 {percentile(late, 50):.3f} ms, p99 {percentile(late, 99):.3f} ms,"
        f" max {max(late):.3f} ms; {sum(x > 1 for x in late)} sent > 1 ms late,"
        f" {sum(x > 5 for x in late)} > 5 ms"
    )


def probed_player(song_path: Path, seconds: float, late_file: Path) -> None:
    """`tracker play SONG --midi-api jack --loop`, run by its own entry point in this process,
    with the sender's lateness kept: the one change is MidiOut.late_ns set as it is made."""
    from tracker.cli import main
    from tracker.live.midi_out import MidiOut

    late: list[int] = []
    made = MidiOut.__init__

    def keeping_lateness(self: MidiOut, *args: Any, **kwargs: Any) -> None:
        made(self, *args, **kwargs)
        self.late_ns = late

    MidiOut.__init__ = keeping_lateness  # type: ignore[method-assign]
    duration = f"{seconds + SPARE:g}"
    code = main(["play", str(song_path), "--midi-api", "jack", "--loop", "--duration", duration])
    late_file.write_text(json.dumps(late))
    if code:
        raise SystemExit(code)


def play_naive(env: dict[str, str], tmp: Path, seconds: float, to: Listeners) -> str:
    """The naive loop in a process of its own, as ours is."""
    command = [sys.executable, __file__, "--naive-to", to.dump.port, "--seconds", f"{seconds:g}"]
    subprocess.run(command, env=env, check=True, timeout=seconds + 60)
    return shlex.join(command)


def naive_loop(port: str, seconds: float) -> None:
    """The loop people write first: send a row, sleep a step, repeat. Sleeps accumulate."""
    import mido
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="naive")
    out.open_port(out.get_ports().index(port), "out")
    time.sleep(0.5)  # the bench connects its wall receiver before the first note
    sounding: list[int] = []
    for row in range(round((seconds + SPARE) / STEP)):
        for t, note in enumerate(sounding):
            out.send_message(mido.Message("note_off", channel=t, note=note).bytes())
        sounding = [pitch(t, row) for t in range(TRACKS)]
        for t, note in enumerate(sounding):
            out.send_message(mido.Message("note_on", channel=t, note=note, velocity=100).bytes())
        time.sleep(STEP)
    for t, note in enumerate(sounding):
        out.send_message(mido.Message("note_off", channel=t, note=note).bytes())
    time.sleep(0.2)  # the last messages leave before the port closes
    out.close_port()
    out.delete()


def play_tui(env: dict[str, str], tmp: Path, seconds: float, to: Listeners) -> str:
    """The app in tmux loops the pattern (F6) while the grid scrolls; then stops and quits.
    Waits up to 15 s (scrolling) for the first note; without one, reports none."""
    from tests.tmux import TmuxPane

    song = tmp / "tui.song"
    save_song(grid_song(to.dump.port), song)
    command = ["env", f"JACK_DEFAULT_SERVER={env['JACK_DEFAULT_SERVER']}"]
    command += [*TRACKER, str(song), "--autosave", "0"]
    pane = TmuxPane(command, cwd=tmp, width=200, height=50)
    keys = itertools.cycle(TUI_KEYS)

    def scroll_for(limit: float, until: Callable[[], bool] = lambda: False) -> bool:
        started = time.monotonic()
        while time.monotonic() - started < limit:
            pane.send(next(keys))
            time.sleep(0.05)
            if until():
                return True
        return False

    try:
        pane.wait_for("Track 16", timeout=60)
        pane.wait_for("Xruns", timeout=60)  # the transport bar: the engine is up
        for _ in range(3):
            pane.send("F6")
            if wait_for(lambda: "LOOP" in pane.screen(), 5):
                break
        bar = next((line for line in pane.screen().splitlines() if "BPM" in line), "")
        if scroll_for(15, lambda: any(m.is_note_on for m in to.dump.messages())):
            scroll_for(seconds + SPARE)
        pane.send("F8")
        time.sleep(0.5)
        pane.send("C-q")
        time.sleep(1.0)
    finally:
        pane.close()
    return (
        shlex.join(command)
        + "  (in tmux: F6, then 20 scroll keys/s)"
        + f"\n  its transport bar while looping: {' '.join(bar.split())}"
    )


PLAYERS = {"ours": play_ours, "probed": play_probed, "naive": play_naive, "tui": play_tui}


# -- the report -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JackAccount:
    """What jackd logged during one run: cycles the dummy driver woke too late for (each one
    re-anchors its schedule: frames lost), and clients not finished within their cycle."""

    driver_xruns: int
    late_clients: Counter[str]

    @classmethod
    def read(cls, log: Path, since: int) -> JackAccount:
        text = log.read_text(errors="replace")[since:] if log.exists() else ""
        late = Counter(re.findall(r"client = (\S+) was not finished", text))
        return cls(text.count("JackTimedDriver::Process XRun"), late)

    def __str__(self) -> str:
        clients = ", ".join(f"{name} {n}" for name, n in self.late_clients.most_common())
        return f"{self.driver_xruns} dummy-driver x-runs; clients late: {clients or 'none'}"


def heard_by_one(dump: list[Note], wall: list[Note], rows: int) -> tuple[int, int, int]:
    """Notes only the dump heard, only the wall receiver heard, and neither heard. A note one
    receiver missed was lost by that receiver (its JACK client late for a cycle); a note both
    missed was lost before them (the sender, or its JACK client late)."""
    heard_dump = {(n.channel, n.k) for n in dump}
    heard_wall = {(n.channel, n.k) for n in wall}
    # Each receiver counts rows from the first note it heard: line them up.
    shift = max(range(-3, 4), key=lambda s: len(heard_dump & {(c, k + s) for c, k in heard_wall}))
    heard_wall = {(c, k + shift) for c, k in heard_wall if 0 <= k + shift < rows}
    neither = rows * TRACKS - len(heard_dump | heard_wall)
    return len(heard_dump - heard_wall), len(heard_wall - heard_dump), neither


def print_table(results: list[Figures], seconds: float) -> None:
    print(
        f"| player | receiver | notes received/expected | p50 ms | p99 ms | max ms |"
        f" signed p50 ms | drift ms/{seconds:g} s | naive p99 / this p99 |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        naive = next((n for n in results if n.player == "naive" and n.receiver == r.receiver), None)
        ratio = f"{naive.p99 / r.p99:.1f}" if naive and r is not naive and r.p99 else ""
        extra = f" (+{r.duplicates} twice)" if r.duplicates else ""
        drift = "n/a" if math.isnan(r.drift) else f"{r.drift:+.3f}"
        print(
            f"| {r.player} | {r.receiver} | {r.received}/{r.expected}{extra} | {r.p50:.3f} |"
            f" {r.p99:.3f} | {r.max:.3f} | {r.signed_p50:+.3f} | {drift} | {ratio} |"
        )
    if any(r.duplicates for r in results):
        print("(twice: a note more than a step late is placed on a row that has its note)")
    print()
    for r in results:
        spread = ", ".join(
            f"{label}: {n}" for label, n in zip(HISTOGRAM_LABELS, r.histogram, strict=True) if n
        )
        worst = ", ".join(f"{n.error_ms:+.2f} (ch {n.channel} row {n.k})" for n in r.worst)
        print(f"{r.player}/{r.receiver}: signed error ms {spread}")
        print(
            f"  earliest {r.signed_min:+.3f} ms; p99 about a straight line (drift removed)"
            f" {r.detrended_p99:.3f} ms; worst: {worst}"
        )
        if r.short_rows:
            short = ", ".join(f"row {k} ({n})" for k, n in list(r.short_rows.items())[:10])
            print(f"  rows with notes missing (how many): {short}")


def run_once(
    env: dict[str, str], tmp: Path, players: list[str], seconds: float, verbose: bool
) -> list[Figures]:
    rows = round(seconds / STEP)
    log = tmp / f"jackd-{env['JACK_DEFAULT_SERVER']}.log"
    results: list[Figures] = []
    for label in players:
        since = len(log.read_text(errors="replace")) if log.exists() else 0
        with listen(env, tmp, label) as to:
            try:
                how = PLAYERS[label](env, tmp, seconds, to)
            except AssertionError as exc:  # TmuxPane.wait_for: the app never showed its screen
                print(f"{label}: the app did not start: {exc}")
                continue
        jack = JackAccount.read(log, since)
        if verbose:
            print(f"{label}: {how}")
        load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
        dumped = grid_notes(to.dump.messages(), rows)
        walled = grid_notes(to.wall.messages(), rows)
        if not dumped and label == "tui":
            print("TUI: no MIDI received (the app does not send MIDI yet)")
            continue
        if not dumped or not walled:
            print(f"{label}: no MIDI received (dump {len(dumped)}, wall {len(walled)} notes)")
            continue
        pair = [figures(label, "dump", dumped, rows), figures(label, "wall", walled, rows)]
        results += pair
        only_dump, only_wall, neither = heard_by_one(dumped, walled, rows)
        slip = pair[1].drift - pair[0].drift  # the dump's frames lost against the wall clock
        fell = "n/a (no notes in the first or last second)" if math.isnan(slip) else f"{slip:.1f}"
        print(f"{label}: load average after it {load}; jackd logged {jack}.")
        print(
            f"  The dump's frame count fell {fell} ms behind the wall clock over the run."
            f" Note-ons heard by the dump only {only_dump}, the wall receiver only {only_wall},"
            f" neither {neither}"
            f" (wall receiver connected to {', '.join(to.connected) or 'nothing'})."
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured span of each run")
    parser.add_argument("--tui", action="store_true", help="also play it in the app, scrolling")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved runs of each player")
    parser.add_argument(
        "--probed",
        action="store_true",
        help="also run our player in a child that logs its lateness",
    )
    # the children: the naive loop, and our player with its lateness logged
    parser.add_argument("--naive-to", metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--probe-song", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--late-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive_to:
        naive_loop(args.naive_to, args.seconds)
        return
    if args.probe_song:
        probed_player(args.probe_song, args.seconds, args.late_file)
        return
    print("command:", shlex.join([Path(sys.executable).name, *sys.argv]))
    period_ms = PERIOD / RATE * 1000
    print(
        f"receiver period {period_ms:.2f} ms ({PERIOD} frames at {RATE} Hz); target: p99"
        f" ≤ {period_ms + 1:.2f} ms, drift ≤ 1 ms, p99 ≥ 3x better than naive"
    )
    players = ["ours", *(["probed"] if args.probed else []), "naive"]
    players += ["tui"] if args.tui else []
    try:
        with tempfile.TemporaryDirectory() as tmp_name, jack_server(Path(tmp_name), PERIOD) as env:
            os.environ["JACK_DEFAULT_SERVER"] = env["JACK_DEFAULT_SERVER"]  # for rtmidi here
            for run in range(args.repeat):
                if args.repeat > 1:
                    print(f"\nrun {run + 1} of {args.repeat}")
                results = run_once(env, Path(tmp_name), players, args.seconds, run == 0)
                print()
                print_table(results, args.seconds)
    except (pytest.fail.Exception, pytest.skip.Exception) as exc:
        sys.exit(f"cannot run: {exc}")


if __name__ == "__main__":
    main()
