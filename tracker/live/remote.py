"""The transport in a process of its own, so the UI's Python cannot make the audio stall.

In one process the audio callback, the engine thread and the UI share one GIL: a full garbage
collection of the UI's objects (80–110 ms) or a long edit held it past a 10.7 ms period, and
the device under-ran. Here a spawned child ("tracker-audio") runs the ordinary `Transport`
(real device or its silent clock); the parent sends commands over a pipe and a reader thread
keeps the latest status the child sends back ~30 times a second. An edit travels as a
`SongDelta`: the song without its patterns plus copies of only the edited ones, and the child
re-sequences, so neither pickling the song nor re-sequencing it runs on the UI thread.

This module stays light: the parent imports neither numba nor sounddevice (the child does).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import multiprocessing
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.live.collector import CollectorGuard
from tracker.live.status import TransportStatus
from tracker.model.copying import copy_master, copy_pattern, copy_tracks
from tracker.model.errors import TrackerError
from tracker.model.song import Song

if TYPE_CHECKING:
    from tracker.live.midi_out import MidiSetup

START_TIMEOUT = 60.0  # the child's first start compiles the synth with numba
CLOSE_TIMEOUT = 2.0
STATUS_PERIOD = 1 / 30  # how often the child reports where playback is
POLL_SECONDS = 0.02
QUIET_BEFORE_COLLECTING = 2.0  # seconds after a stop before the child catches up on garbage


# -- edits as deltas ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SongDelta:
    """A new state of a song for a receiver that holds its previous state."""

    song: Song  # everything but the patterns; `patterns` holds copies of the changed ones only
    pattern_ids: tuple[int, ...]  # every pattern id the song has, in its order
    changed: frozenset[int] | None  # None: every pattern is in `song.patterns`


def song_delta(song: Song, changed: frozenset[int] | None = None) -> SongDelta:
    """What the receiver needs to rebuild `song`: copies of the patterns in `changed` (all when
    None) and the rest of the song; shares nothing mutable with `song`."""
    if changed is None:
        wanted = list(song.patterns)
    else:
        wanted = [pid for pid in song.patterns if pid in changed]
    skeleton = dataclasses.replace(
        song,
        instruments=dict(song.instruments),
        tracks=copy_tracks(song.tracks),
        patterns={pid: copy_pattern(song.patterns[pid]) for pid in wanted},
        order=list(song.order),
        master=copy_master(song.master),
    )
    return SongDelta(skeleton, tuple(song.patterns), None if changed is None else changed)


def apply_delta(previous: Song | None, delta: SongDelta) -> Song:
    """The song `delta` describes: its changed patterns, the others taken from `previous`.

    Raises:
        ValueError: a pattern is neither in the delta nor in `previous`.
    """
    sent = delta.song.patterns
    patterns = {}
    for pid in delta.pattern_ids:
        if pid in sent:
            patterns[pid] = sent[pid]
        elif previous is not None and pid in previous.patterns:
            patterns[pid] = previous.patterns[pid]
        else:
            raise ValueError(f"pattern {pid} is neither sent nor known")
    return dataclasses.replace(delta.song, patterns=patterns)


# -- the parent's side --------------------------------------------------------------------------


class RemoteTransport:
    """The `Transport` API, with the engine and the audio output in a child process."""

    def __init__(
        self,
        song: Song,
        *,
        rate: int = 48000,
        block: int = 512,
        device: str | None = None,
        search_dirs: Sequence[Path] = (),
        song_dir: Path | None = None,
        lookahead: int | None = None,
        midi: MidiSetup | None = None,
    ) -> None:
        """Start the audio process on a copy of `song` and wait until it plays (up to a minute
        the first time: numba compiles the synth). `lookahead` None: the Transport's default.

        Raises:
            TrackerError: the child's own error (a device matching no single name, a bad
                instrument), or the child died or did not start in time.
        """
        self.rate = rate
        self.block = block
        self._order = list(song.order)
        self._seq = 0  # the last command sent
        self._command_seq = 0  # the last play or stop
        self._requested = False
        self._send_lock = threading.Lock()
        self._closed = False
        self._dead = ""  # why the child stopped, when it did so unexpectedly
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        kwargs = {
            "rate": rate,
            "block": block,
            "device": device,
            "search_dirs": tuple(search_dirs),
            "song_dir": song_dir,
            "lookahead": lookahead,
            "midi": midi,
            "midi_required": False,
        }
        self._process = context.Process(
            target=serve,
            args=(child_conn, song_delta(song).song, kwargs),
            name="tracker-audio",
            daemon=True,
        )
        with _real_stderr():
            self._process.start()
        child_conn.close()  # the child's end lives in the child now: EOF when it exits
        self._latest: tuple[int, TransportStatus] = (0, self._await_ready())
        self._reader = threading.Thread(target=self._read, name="tracker-audio-status", daemon=True)
        self._reader.start()
        atexit.register(self.close)

    def _await_ready(self) -> TransportStatus:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if self._conn.poll(0.1):
                    message = self._conn.recv()
                    if message[0] == "ready":
                        return message[1]
                    self._abandon()
                    raise TrackerError(message[1])
            except (EOFError, OSError):
                pass  # the child is gone: said below
            if not self._process.is_alive():
                self._abandon()
                code = self._process.exitcode
                raise TrackerError(f"the audio engine exited before it started (code {code})")
        self._abandon()
        raise TrackerError(f"the audio engine did not start within {START_TIMEOUT:.0f} s")

    def _abandon(self) -> None:
        self._closed = True
        self._process.join(CLOSE_TIMEOUT)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()

    def _read(self) -> None:
        """The reader thread: keep the child's latest status (one assignment each)."""
        try:
            while True:
                message = self._conn.recv()
                if message[0] == "status":
                    self._latest = (message[1], message[2])
                elif message[0] == "fatal":
                    self._dead = message[1]
        except (EOFError, OSError):
            pass
        if not self._closed and not self._dead:
            self._process.join(CLOSE_TIMEOUT)
            self._dead = f"exit code {self._process.exitcode}"

    def _send(self, *command: Any) -> int:
        """Send a command; its sequence number (0: not sent, the child is gone)."""
        with self._send_lock:
            if self._closed or self._dead:
                return 0
            self._seq += 1
            try:
                self._conn.send((command[0], self._seq, *command[1:]))
            except (OSError, ValueError) as exc:  # a broken pipe, a closed connection
                self._dead = self._dead or f"lost the audio process ({exc})"
                return 0
            return self._seq

    # -- playing ------------------------------------------------------------------------------

    def play(self, order_index: int = 0, row: int = 0, *, loop: bool = False) -> None:
        """Start (or restart) at an order position and row; loop=True loops that one pattern.

        Raises:
            TrackerError: the order list is empty.
        """
        if not self._order:
            raise TrackerError("nothing to play: the order list is empty")
        seq = self._send("play", order_index, row, loop)
        if seq:
            self._requested, self._command_seq = True, seq

    def stop(self) -> None:
        """Stop; every sounding voice gets its note-off and rings out its release."""
        seq = self._send("stop")
        self._requested = False
        if seq:
            self._command_seq = seq

    def panic(self) -> None:
        """End every MIDI note sent, now (note-offs, all notes off, all sound off)."""
        self._send("panic")

    def audition(
        self,
        track: int,
        pitch: int,
        velocity: int = 100,
        instrument: int | None = None,
        seconds: float = 0.3,
    ) -> None:
        """Sound one note of `track` now (a note just typed), whether or not the song plays."""
        self._send("audition", track, pitch, velocity, instrument, seconds)

    @property
    def playing(self) -> bool:
        """What play()/stop() asked until the child has seen it; then what the child says
        (False by itself once the song and its tail have ended)."""
        seq, status = self._latest
        if self._dead or self._closed:
            return False
        if seq < self._command_seq:
            return self._requested
        return status.playing

    def update(self, song: Song, changed: frozenset[int] | None = None) -> None:
        """A new state of the song after an edit. Only the patterns in `changed` (all when None)
        are copied and sent; the child rebuilds the song and re-sequences it.

        An edit the child refuses (an undefined instrument, a bad preset) shows in
        status().audio until an edit is accepted; nothing is raised here.
        """
        self._order = list(song.order)
        self._send("update", song_delta(song, changed))

    # -- status -------------------------------------------------------------------------------

    def status(self) -> TransportStatus:
        """The child's latest report (never blocks)."""
        status = self._latest[1]
        playing = self.playing
        if self._dead:
            return dataclasses.replace(
                status,
                playing=False,
                voices=0,
                audio=f"audio engine stopped: {self._dead}",
                audio_ok=False,
            )
        if playing != status.playing:
            return dataclasses.replace(status, playing=playing)
        return status

    @property
    def process(self) -> multiprocessing.process.BaseProcess:
        """The child process (tests look at it)."""
        return self._process

    def close(self) -> None:
        """Stop the child (asking first, then terminating it). Safe to call twice."""
        atexit.unregister(self.close)
        with self._send_lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(("close", self._seq + 1))
        self._process.join(CLOSE_TIMEOUT)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(CLOSE_TIMEOUT)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self._conn.close()

    def __enter__(self) -> RemoteTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the child's side ---------------------------------------------------------------------------


@contextlib.contextmanager
def _real_stderr() -> Iterator[None]:
    """Starting a spawn child passes sys.stderr's file descriptor to it. A Textual app replaces
    sys.stderr with a capture whose fileno() is -1, and the start fails ("bad value(s) in
    fds_to_keep"): hand the real one over for the start."""
    try:
        usable = sys.stderr is not None and sys.stderr.fileno() >= 0
    except (OSError, ValueError, AttributeError):
        usable = False
    if usable or sys.__stderr__ is None:
        yield
        return
    replaced, sys.stderr = sys.stderr, sys.__stderr__
    try:
        yield
    finally:
        sys.stderr = replaced


def _ask_for_priority() -> None:
    """Ask the kernel to run this process before the UI when both want a core.

    The audio callback runs at JACK's real-time priority but needs this process's GIL, which
    the engine thread may hold; if the scheduler parks the engine thread behind the UI's
    busy Python, the callback waits with it (priority inversion). A lower nice value keeps
    the engine thread on a core. Needs the privilege to lower it (root, or CAP_SYS_NICE);
    without it nothing changes.
    """
    import os

    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, 0, -10)


def _quiet_on_a_terminal() -> None:
    """On a terminal the parent's screen is a TUI: what libjack, PortAudio or ALSA print on
    stderr would scribble over it. Send the child's output to a log file instead."""
    import os

    if not os.isatty(2):
        return
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    log = Path(state) / "tracker" / "audio.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError:
        fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def serve(conn: Connection, song: Song, options: dict[str, Any]) -> None:
    """The child process: build the Transport, then run commands and report status."""
    import signal

    # Ctrl+C belongs to the parent: it decides when the audio stops (and sends "close").
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _quiet_on_a_terminal()
    _ask_for_priority()
    try:
        from tracker.live.collector import settle
        from tracker.live.transport import LOOKAHEAD, Transport

        if options["lookahead"] is None:
            options = {**options, "lookahead": LOOKAHEAD}
        transport = Transport(song, **options)
    except TrackerError as exc:
        conn.send(("failed", str(exc)))
        return
    except Exception as exc:  # a bug or a broken install: say it in one line, never hang
        conn.send(("failed", f"the audio engine failed to start: {exc!r}"))
        return
    # What exists now lives as long as the process: full collections need not walk it.
    settle()
    try:
        conn.send(("ready", transport.status()))
        _Server(conn, transport, song).run()
    except (EOFError, OSError):
        pass  # the parent is gone
    except Exception as exc:
        with contextlib.suppress(OSError):
            conn.send(("fatal", f"{exc!r}"))
    finally:
        transport.close()


class _Server:
    """The child's command loop (one thread: the Transport is used from here only)."""

    def __init__(self, conn: Connection, transport: Any, song: Song) -> None:
        self.conn = conn
        self.transport = transport
        self.song = song  # the parent's latest state, rebuilt from deltas
        # Patterns changed since the transport last accepted an update (None: all of them).
        self.stale: frozenset[int] | None = frozenset()
        self.error = ""  # why the last update was refused
        self.seq = 0
        # Every edit re-sequences here and leaves garbage; a full collection would hold this
        # process's GIL while the audio callback waits for it. None while playing; after a
        # stop, the moment a collection becomes harmless.
        self.collector = CollectorGuard()
        self.quiet_since: float | None = None

    def run(self) -> None:
        due = time.monotonic()
        while True:
            answered = False
            if self.conn.poll(min(max(due - time.monotonic(), 0.0), POLL_SECONDS)):
                while True:
                    message = self.conn.recv()
                    if message[0] == "close":
                        return
                    self.seq = message[1]
                    self.dispatch(message[0], message[2:])
                    answered = True
                    if not self.conn.poll(0):
                        break
            now = time.monotonic()
            if answered or now >= due:
                status = self.status()
                self.conn.send(("status", self.seq, status))
                due = now + STATUS_PERIOD
                self.guard_collections(status.playing, now)

    def guard_collections(self, playing: bool, now: float) -> None:
        if playing:
            self.collector.playing()
            self.quiet_since = None
        elif self.collector.suspended:
            if self.quiet_since is None:
                self.quiet_since = now
            elif now - self.quiet_since > QUIET_BEFORE_COLLECTING:  # the release tail is over
                self.collector.stopped()

    def dispatch(self, name: str, args: tuple[Any, ...]) -> None:
        transport = self.transport
        try:
            if name == "play":
                order_index, row, loop = args
                transport.play(order_index, row, loop=loop)
            elif name == "stop":
                transport.stop()
            elif name == "panic":
                transport.panic()
            elif name == "audition":
                track, pitch, velocity, instrument, seconds = args
                transport.audition(track, pitch, velocity, instrument, seconds)
            elif name == "update":
                self.update(args[0])
        except TrackerError as exc:
            self.error = str(exc)

    def update(self, delta: SongDelta) -> None:
        self.song = apply_delta(self.song, delta)
        if delta.changed is None or self.stale is None:
            self.stale = None
        else:
            self.stale = self.stale | delta.changed
        # Raises before the transport takes anything: the stale patterns are sent again.
        self.transport.update(self.song, self.stale)
        self.stale = frozenset()
        self.error = ""

    def status(self) -> TransportStatus:
        status = self.transport.status()
        if self.error:
            return dataclasses.replace(status, audio=f"{status.audio} · {self.error}")
        return status
