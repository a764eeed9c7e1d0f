"""The app's speed, measured through a real pseudo-terminal the way a user's terminal sees it.

    python bench/ui.py [--keys 200] [--seconds 60] [--skip-audio]

Prints:
- cold start: process start → the first frame with the grid on screen (median of 5 runs);
- key latency on a 64-row × 16-track pattern full of notes: key written to the pty → the end of
  the screen update it caused (p50/p99/max over --keys presses of cursor moves and note entry);
- under-runs: the app playing the demo through a JACK dummy server (512 frames / 48 kHz) for
  --seconds while the grid scrolls and notes are typed (read off the transport bar, in tmux),
  with the engine in its own process (the app's default) and, for comparison, in the UI's;
  jackd's own log says whether a late client (us) or the dummy driver caused each x-run;
- voices: the same with a song that holds 64+ synth voices at once.
Figures go to docs/PERFORMANCE.md. The machine is shared: compare runs made together.
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.jack import jack_server  # noqa: E402
from tracker.model.serialize import save_song  # noqa: E402
from tracker.model.song import NoteCell, Pattern, Song, Track  # noqa: E402

PYTHON = sys.executable
COLUMNS, LINES = 200, 50


def dense_song(tracks: int = 16, rows: int = 64) -> Song:
    """16 tracks × 64 rows with a note on every row: the grid's worst case on one screen."""
    song = Song(title="dense", bpm=125.0)
    presets = ["bass", "lead", "pluck", "keys", "organ", "bell", "strings", "brass"]
    for number, name in enumerate(presets, start=1):
        song.instruments[number] = name
    pattern = Pattern(rows)
    for t in range(tracks):
        song.tracks.append(Track(f"Track {t + 1}", instrument=1 + t % len(presets)))
        for r in range(rows):
            pattern.set_note(t, r, 0, NoteCell(48 + (t * 5 + r * 7) % 36, None, 64 + r % 60))
    song.patterns[0] = pattern
    song.order = [0]
    return song


class PtyApp:
    """The app in a pseudo-terminal of COLUMNS × LINES, its output read as bytes."""

    def __init__(self, song: Path) -> None:
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:
            os.environ.update(TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(LINES))
            os.execv(PYTHON, [PYTHON, "-m", "tracker", str(song), "--autosave", "0"])
        self.pid, self.fd = pid, fd
        import fcntl
        import struct
        import termios

        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        self.output = bytearray()

    def read_until(self, needle: bytes, timeout: float = 30.0) -> float:
        """Seconds since start when `needle` first appeared in the output."""
        deadline = time.perf_counter() + timeout
        while needle not in self.output:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{needle!r} not seen")
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                self.output += os.read(self.fd, 65536)
        return time.perf_counter() - self.started

    def drain(self, quiet: float = 0.3) -> None:
        while select.select([self.fd], [], [], quiet)[0]:
            os.read(self.fd, 65536)

    def key_latency(self, key: bytes, gap: float = 0.006) -> float:
        """Write a key; return the time until the last byte of the update it caused (the burst
        of output that ends with `gap` seconds of quiet)."""
        sent = time.perf_counter()
        os.write(self.fd, key)
        last = None
        while True:
            ready, _, _ = select.select([self.fd], [], [], gap if last else 2.0)
            if not ready:
                break
            os.read(self.fd, 65536)
            last = time.perf_counter()
        if last is None:
            raise TimeoutError("no screen update after a key")
        return last - sent

    def close(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def cold_start(song: Path, runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        app = PtyApp(song)
        try:
            times.append(app.read_until(b"Track 16", timeout=60))
        finally:
            app.close()
    return times


KEYS = [b"\x1b[B"] * 8 + [b"z", b"x", b"c"] + [b"\x1b[A"] * 4 + [b"\t"]  # down, notes, up, tab


def key_latencies(song: Path, presses: int) -> list[float]:
    app = PtyApp(song)
    try:
        app.read_until(b"Track 16", timeout=60)
        app.drain(1.0)
        return [app.key_latency(KEYS[i % len(KEYS)]) for i in range(presses)]
    finally:
        app.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


EDITING_KEYS = ["Down"] * 6 + ["z", "x", "Up", "Up", "Tab", "Down", "c", "BTab"]
SCROLLING_KEYS = ["Down"] * 6 + ["Up", "Up", "Tab", "Down", "BTab"]


def under_runs(
    song: Path,
    seconds: float,
    label: str,
    keys: list[str] = EDITING_KEYS,
    engine: str = "process",
) -> None:
    """Play `song` in the app on a JACK dummy server while scrolling and typing; print the
    transport bar's under-run count and voices."""
    if not (shutil.which("jackd") and shutil.which("tmux")):
        print(f"{label}: skipped (jackd or tmux missing)")
        return
    with tempfile.TemporaryDirectory() as tmp, jack_server(Path(tmp), 512) as env:
        server = env["JACK_DEFAULT_SERVER"]
        tmux = ["tmux", "-L", f"bench-{uuid.uuid4().hex[:6]}"]
        try:
            command = f"{PYTHON} -m tracker {song} --autosave 0"
            subprocess.run(
                [
                    *tmux,
                    "new-session",
                    "-d",
                    "-x",
                    "200",
                    "-y",
                    "50",
                    "-e",
                    f"JACK_DEFAULT_SERVER={server}",
                    "-e",
                    f"TRACKER_ENGINE={'inprocess' if engine == 'inprocess' else 'process'}",
                    command,
                ],
                check=True,
            )
            screen = ""
            deadline = time.monotonic() + 60
            while "JACK" not in screen and time.monotonic() < deadline:
                time.sleep(0.2)
                screen = subprocess.run(
                    [*tmux, "capture-pane", "-p"], capture_output=True, text=True
                ).stdout
            subprocess.run([*tmux, "send-keys", "F6"])  # loop the pattern: playback never ends
            started = time.monotonic()
            i = 0
            max_voices = 0
            while time.monotonic() - started < seconds:
                subprocess.run([*tmux, "send-keys", keys[i % len(keys)]])
                i += 1
                time.sleep(0.05)
                if i % 20 == 0:
                    screen = subprocess.run(
                        [*tmux, "capture-pane", "-p"], capture_output=True, text=True
                    ).stdout
                    found = re.search(r"Voices (\d+)", screen)
                    if found:
                        max_voices = max(max_voices, int(found.group(1)))
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p"], capture_output=True, text=True
            ).stdout
            xruns = re.search(r"Xruns (\d+)", screen)
            audio = re.search(r"♪ ([^X]*)Xruns", screen)
            print(
                f"{label}: {seconds:.0f} s playing, {i} keys sent: under-runs"
                f" {xruns.group(1) if xruns else '?'}; most voices seen {max_voices};"
                f" audio: {audio.group(1).strip() if audio else '?'};"
                f" {jackd_reports(Path(tmp), server)}"
            )
        finally:
            subprocess.run([*tmux, "kill-server"], capture_output=True)


def jack_floor(seconds: float) -> None:
    """The same JACK dummy server with only `jack_rec` (a small C client) recording: the x-runs
    this machine gives any client, to read ours against."""
    if not (shutil.which("jackd") and shutil.which("jack_rec")):
        print("jack floor: skipped (jackd or jack_rec missing)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        with jack_server(Path(tmp), 512) as env:
            subprocess.run(
                ["jack_rec", "-f", str(Path(tmp) / "floor.wav"), "-d", str(int(seconds)),
                 "system:capture_1"],
                env=env, capture_output=True, timeout=seconds + 30,
            )  # fmt: skip
        said = jackd_reports(Path(tmp), env["JACK_DEFAULT_SERVER"])
    print(f"jack floor: jack_rec alone for {seconds:.0f} s: {said}")


def jackd_reports(log_dir: Path, server: str) -> str:
    """jackd's own account of its x-runs, from the log tests/jack.py's jack_server keeps in
    `log_dir`: a client that was late, or the (dummy) driver itself late."""
    log = (log_dir / f"jackd-{server}.log").read_text().lower()
    late_client = log.count("was not finished") + log.count("was not run")
    driver = log.count("process xrun")
    return f"jackd saw {late_client} late-client and {driver} driver x-run reports"


def chord_song() -> Song:
    """16 tracks, each holding a 5-note pad chord: 80 voices at once, struck again each bar."""
    song = Song(title="voices", bpm=120.0)
    song.instruments[1] = "pad"
    pattern = Pattern(16)
    for t in range(16):
        song.tracks.append(Track(f"Pad {t + 1}", instrument=1, note_columns=5, volume_db=-24.0))
        for column, interval in enumerate((0, 4, 7, 11, 14)):
            pattern.set_note(t, 0, column, NoteCell(36 + t * 2 + interval, None, 90))
    song.patterns[0] = pattern
    song.order = [0]
    return song


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--skip-audio", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dense = Path(tmp) / "dense.song"
        save_song(dense_song(), dense)
        starts = cold_start(dense)
        print(
            f"cold start to first frame: median {statistics.median(starts):.3f} s"
            f" (runs: {', '.join(f'{s:.3f}' for s in starts)})"
        )
        lat = key_latencies(dense, args.keys)
        print(
            f"key → screen updated (64 rows × 16 tracks): p50 {percentile(lat, 50) * 1000:.1f} ms,"
            f" p99 {percentile(lat, 99) * 1000:.1f} ms, max {max(lat) * 1000:.1f} ms"
            f" ({len(lat)} keys)"
        )
        if not args.skip_audio:
            demo = REPO / "patterns" / "demo.song"
            voices = Path(tmp) / "voices.song"
            save_song(chord_song(), voices)
            # The app's engine in its own process (the default) and, for comparison in the
            # same run, in the UI's process.
            jack_floor(args.seconds)
            for engine in ("process", "inprocess"):
                where = "own process" if engine == "process" else "UI's process"
                under_runs(demo, args.seconds, f"demo, engine in {where}", engine=engine)
            under_runs(voices, args.seconds, "80 pad voices, engine in own process")


if __name__ == "__main__":
    main()
