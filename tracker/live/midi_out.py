"""MIDI out in real time: the engine hands over events with their frames; a sender of our
own sends each one when its frame is heard.

The engine renders ~85 ms ahead, so every message is known well before it is due. MidiOut (in
the engine's process) turns a frame into a time with the output's FrameClock and passes it to
the sender process (tracker.live.midi_sender) every few ms. There MidiPorts' sender thread
sleeps until shortly before each time, then spins the rest (ARCHITECTURE rule 5: targets are
absolute, sleeps never accumulate). A sleeping thread wakes ~0.1 ms late on Linux (less at
real-time priority) and a spin is exact, so the wait ends with a spin.

MidiPorts also keeps, per port, the notes it has sent and not ended, so every stop, quit,
signal, lost port, panic key, or the engine's process dying, can end them
(messages.panic_bytes).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tracker.audio.clock import FrameClock
from tracker.midi import messages
from tracker.midi.ports import MidiUnavailable, OutputPort, PortLister, match_port, open_output
from tracker.midi.ports import open_virtual_output as _open_virtual
from tracker.model.events import Event, NoteOff, NoteOn
from tracker.model.song import Song, TrackKind

SPIN_NS = 1_000_000  # the last part of every wait is a busy wait
# At real-time priority a sleep wakes within ~0.1 ms, and a long spin there would hold the CPU
# from everything below it.
SPIN_REAL_TIME_NS = 200_000
SENDER_PRIORITY = 4  # SCHED_FIFO, below JACK's own threads (jackd 10, its clients' 5)
POLL_NS = 4_000_000  # new work arrives ≥ 80 ms ahead, so looking every 4 ms is plenty
WATCH_SECONDS = 0.5  # how often lost ports are looked for
FRESH_LISTER_LOOKS = 8  # while one is lost, a new listing client every 4 s
FLUSH_SECONDS = 0.1  # a few JACK cycles at the longest usual periods (1024 frames: 21 ms)


@dataclass(frozen=True, slots=True)
class Route:
    port: str  # the name asked for: exact or a unique part of a port's name
    channel: int  # 1-16


@dataclass(slots=True)
class MidiSetup:
    """Where MIDI goes: routes per track index, clock ports with their offsets (ms; positive
    sends later, negative earlier, for gear that lags), and names to open as virtual ports."""

    api: str
    routes: dict[int, Route] = field(default_factory=dict)
    clock_out: dict[str, float] = field(default_factory=dict)
    virtual: frozenset[str] = frozenset()


def song_routes(song: Song, every_track_to: str | None = None) -> dict[int, Route]:
    """MIDI tracks with a port, each on its channel; `every_track_to` sends every track there."""
    routes = {}
    for index, track in enumerate(song.tracks):
        if every_track_to is not None:
            routes[index] = Route(every_track_to, track.channel)
        elif track.kind is TrackKind.MIDI and track.port and track.plays_notes:
            routes[index] = Route(track.port, track.channel)  # a frozen one plays its audio
    return routes


@dataclass(slots=True)
class _Port:
    """One destination: its open port (None while lost), its offset, what sounds there."""

    name: str  # the resolved name (a virtual port: our own name for it)
    virtual: bool
    offset_ns: int = 0
    port: OutputPort | None = None
    held: Counter[tuple[int, int]] = field(default_factory=Counter)  # (channel, pitch) → count
    channels: set[int] = field(default_factory=set)
    lost: bool = False


Item = tuple[int, int, str, list[list[int]]]  # due ns, order, port name, messages


class MidiPorts:
    """Owns the ports and the sender thread, in the process that sends (tracker.live.
    midi_sender's). Its main thread hands over messages with their due times (perf_counter
    ns) through `enqueue`, `realtime` and `notes_off`, and ports that went or came back
    through `lost` and `back`; any thread may call `panic` and `close`."""

    def __init__(
        self,
        setup: MidiSetup,
        on_warning: Callable[[str], None] | None = None,
        *,
        real_time: bool = False,
    ) -> None:
        """Open every port the setup names.

        Raises:
            MidiUnavailable: the API cannot start, or a port matches no port (or several);
                the message lists the ports there are.
        """
        self.setup = setup
        self.on_warning = on_warning
        messages.load()  # here, not on the sender thread when it first ends notes
        self._ports: dict[str, _Port] = {}  # by the name asked for
        self._named: dict[str, _Port] = {}  # the same, by the resolved name
        lister = PortLister(setup.api)
        try:
            available = lister.outputs()
            for route in setup.routes.values():
                self._open(route.port, available)
            self._clock_ports = [
                self._open(name, available, offset) for name, offset in setup.clock_out.items()
            ]
        except MidiUnavailable:
            self._close_ports()
            raise
        finally:
            lister.close()
        self._inbox: deque[tuple[int, str, list[int]]] = deque()  # due ns, port name, bytes
        self._handover: deque[tuple[str, OutputPort | None]] = deque()  # lost/back → sender
        self._panic = threading.Event()
        self._halt = threading.Event()
        self._heap: list[Item] = []
        self._order = itertools.count()
        self.sent = 0
        self.late_ns: list[int] | None = None  # send time minus due time, when a bench asks
        self._real_time = real_time
        self._spin_ns = SPIN_NS
        self._sender = threading.Thread(target=self._run, name="tracker-midi-out", daemon=True)
        self._sender.start()

    def _open(self, wanted: str, available: list[str], offset_ms: float = 0.0) -> _Port:
        known = self._ports.get(wanted)
        if known is None:
            if wanted in self.setup.virtual:
                known = _Port(wanted, True, port=_open_virtual(self.setup.api, wanted))
            else:
                name = match_port(wanted, available)
                known = self._named.get(name)  # two names asked for, one port
                if known is None:
                    known = _Port(name, False, port=open_output(self.setup.api, name))
            self._ports[wanted] = self._named[known.name] = known
        if offset_ms:
            known.offset_ns = round(offset_ms * 1e6)
        return known

    def port_names(self) -> list[str]:
        return sorted(self._named)

    # -- the hand-over --------------------------------------------------------------------------

    def enqueue(self, due_ns: int, wanted: str, data: list[int]) -> None:
        """Bytes for the port asked for as `wanted` (a route's port), due at `due_ns`."""
        self._inbox.append((due_ns, self._ports[wanted].name, data))

    def realtime(self, due_ns: int, data: list[int]) -> None:
        """A clock message (clock, start, stop, continue, song position) to every clock port."""
        for port in self._clock_ports:
            self._inbox.append((due_ns, port.name, data))

    def notes_off(self, due_ns: int) -> None:
        """All notes off on every channel each port has used, at `due_ns` (a stop)."""
        for port in self._unique_ports():
            self._inbox.append((due_ns, port.name, []))

    def panic(self) -> None:
        """End every note we sent, on every port, now (the sender thread does it)."""
        self._panic.set()

    def lost(self, name: str) -> None:
        """The port `name` (as port_names gives it) has gone: send nothing there."""
        self._handover.append((name, None))

    def back(self, name: str) -> bool:
        """The port `name` has come back: open it again. False if it could not be."""
        try:
            fresh = open_output(self.setup.api, name)
        except Exception:  # gone again, or rtmidi's own errors (ValueError, OSError kinds)
            return False
        self._handover.append((name, fresh))
        return True

    # -- the sender thread ----------------------------------------------------------------------

    def _run(self) -> None:
        if self._real_time:
            take_real_time_priority()
        if _real_time_now():  # taken here, or inherited from the thread that started us
            self._spin_ns = SPIN_REAL_TIME_NS
        heap = self._heap
        while not self._halt.is_set():
            self._take_work()
            now = time.perf_counter_ns()
            while heap and heap[0][0] <= now:
                due, _, name, batch = heapq.heappop(heap)
                port = self._named[name]
                late = self.late_ns
                for data in batch:
                    self._send(port, data)
                    if late is not None:
                        late.append(time.perf_counter_ns() - due)
            if heap and heap[0][0] - now <= POLL_NS:
                _wait_until(heap[0][0], self._halt, self._spin_ns)
            else:
                self._halt.wait(POLL_NS / 1e9)

    def _take_work(self) -> None:
        while self._handover:
            name, port = self._handover.popleft()
            self._swap(name, port)
        if self._panic.is_set():
            self._panic.clear()
            self._heap.clear()
            self._inbox.clear()
            for port in self._unique_ports():
                self._silence(port, sound_off=True)
        # Messages come in the order they are due: those due together at one port go in one
        # batch, so the sender thread finds the port and pops the heap once a row, not once a
        # message (a row of the 64-track load is 128 messages).
        inbox, heap, order = self._inbox, self._heap, self._order
        last: Item | None = None
        while inbox:
            due, name, data = inbox.popleft()
            due += self._named[name].offset_ns
            if last is not None and last[0] == due and last[2] == name:
                last[3].append(data)
            else:
                last = (due, next(order), name, [data])
                heapq.heappush(heap, last)

    def _unique_ports(self) -> list[_Port]:
        return list(self._named.values())

    def _send(self, port: _Port, data: list[int]) -> None:
        if not data:  # notes_off's marker: the channels are known only on this thread
            for message in messages.panic_bytes([], port.channels, sound_off=False):
                self._send(port, message)
            return
        status = data[0] & 0xF0
        if status in (0x80, 0x90) and len(data) == 3:
            key = ((data[0] & 0x0F) + 1, data[1])
            if status == 0x90 and data[2] > 0:
                port.held[key] += 1
            elif port.held[key] > 0:
                port.held[key] -= 1
            else:
                return  # a note-off for a note this port never got: it could end another
        if data[0] < 0xF0:
            port.channels.add((data[0] & 0x0F) + 1)
        if port.port is None or port.lost:
            return
        try:
            port.port.send(data)
            self.sent += 1
        except Exception as exc:  # rtmidi raises its own errors for a vanished ALSA port
            self._lose(port, f"MIDI port {port.name!r} failed: {exc}")

    def _silence(self, port: _Port, *, sound_off: bool) -> None:
        held = [key for key, count in port.held.items() for _ in range(count)]
        port.held.clear()
        if port.port is None or port.lost:
            return
        for data in messages.panic_bytes(held, port.channels, sound_off=sound_off):
            try:
                port.port.send(data)
            except Exception:
                return

    def _swap(self, name: str, new: OutputPort | None) -> None:
        port = self._named[name]
        old, port.port = port.port, new
        if new is None:
            port.lost = True
            port.held.clear()  # the synth went with the port; nothing there to end now
        else:
            port.lost = False
            # A synth that stayed powered may still hold notes from before: end them first.
            for data in messages.panic_bytes([], port.channels, sound_off=True):
                new.send(data)
        if old is not None and old is not new:
            old.close()

    def _lose(self, port: _Port, warning: str) -> None:
        port.lost = True
        self._warn(warning)

    def _warn(self, text: str) -> None:
        if self.on_warning is not None:
            self.on_warning(text)

    # -- closing --------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the threads, then end every note we sent (note-offs, all notes off, all sound
        off on every channel used). Safe to call twice."""
        if self._halt.is_set():
            return
        self._halt.set()
        self._sender.join()
        while self._handover:
            self._swap(*self._handover.popleft())
        for port in self._unique_ports():
            self._silence(port, sound_off=True)
        # python-rtmidi's JACK port queues what it is given for the next JACK cycle; closing it
        # at once would drop those last note-offs.
        time.sleep(FLUSH_SECONDS)
        self._close_ports()

    def _close_ports(self) -> None:
        for port in self._named.values():
            if port.port is not None:
                port.port.close()
                port.port = None


def _wait_until(target_ns: int, halt: threading.Event, spin_ns: int = SPIN_NS) -> None:
    """Sleep until `spin_ns` before `target_ns`, then spin: a sleep alone wakes late by the
    scheduler's whim, a spin alone burns a core."""
    remaining = target_ns - time.perf_counter_ns()
    if remaining > spin_ns and halt.wait((remaining - spin_ns) / 1e9):
        return
    while time.perf_counter_ns() < target_ns:
        pass


def take_real_time_priority(priority: int = SENDER_PRIORITY) -> bool:
    """Put the calling thread at SCHED_FIFO `priority`, where the system allows it."""
    if not hasattr(os, "sched_setscheduler"):
        return False
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except OSError:  # no rtprio for this user: a normal thread, with the longer spin
        return False
    return True


def _real_time_now() -> bool:
    """Whether the calling thread runs at a real-time policy (then a long spin would hold
    its CPU from everything below it)."""
    if not hasattr(os, "sched_getscheduler"):
        return False
    return os.sched_getscheduler(0) in (os.SCHED_FIFO, os.SCHED_RR)


def silence_all(outputs: Iterable[MidiOut]) -> None:
    for output in outputs:
        output.panic()


NOTE_EVENTS = (NoteOn, NoteOff)


class MidiOut:
    """MIDI out for the engine: the ports and the sender live in a process of their own
    (tracker.live.midi_sender), so the sender's wake-ups share no interpreter lock with the
    engine and run at real-time priority where the system allows. The engine thread calls
    `event`, `start_programs`, `realtime` and `notes_off` with frames; they are turned into
    due times here, by the output's clock, and handed over a pipe every few milliseconds
    (the engine renders ~85 ms ahead). Any thread may call `panic`, `warnings` and `close`.
    If this process dies, the sender sees its pipe close and ends every note itself."""

    def __init__(
        self,
        setup: MidiSetup,
        clock: FrameClock | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        """Start the sender and open every port the setup names.

        Raises:
            MidiUnavailable: the API cannot start, or a port matches no port (or several);
                the message lists the ports there are.
        """
        from tracker.live import midi_sender

        self.setup = setup
        self.clock = clock if clock is not None else FrameClock(48000)
        self.on_warning = on_warning
        self.warnings: deque[str] = deque(maxlen=32)
        self.tracks = frozenset(setup.routes)
        self.muted: frozenset[int] = frozenset()
        self.sent = 0
        self._late_ns: list[int] | None = None
        self._outbox: deque[list[object]] = deque()  # engine → courier, in order
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._halt = threading.Event()
        self._closed = threading.Event()
        self._result: dict[str, object] = {}
        # Built here, not on the engine thread at the first note: importing mido takes
        # 50-75 ms, most of the engine's lead.
        messages.load()
        # The watcher's client joins the JACK graph now, before the song starts: a client
        # coming or going can make the server's cycles late.
        self._lister = _lister_or_none(setup.api)
        try:
            self._child = midi_sender.start(setup)  # MidiUnavailable with the child's words
        except BaseException:  # that, or anything else: leave no JACK client behind
            if self._lister is not None:
                self._lister.close()
            raise
        self._names: list[str] = list(self._child.ready["ports"])
        self._lost: set[str] = set()  # ports gone, by their names in _names
        self._courier = threading.Thread(target=self._carry, name="tracker-midi-courier",
                                         daemon=True)  # fmt: skip
        self._reader = threading.Thread(target=self._read, name="tracker-midi-reader",
                                        daemon=True)  # fmt: skip
        self._watcher = threading.Thread(target=self._watch, name="tracker-midi-watch",
                                         daemon=True)  # fmt: skip
        self._courier.start()
        self._reader.start()
        self._watcher.start()

    @property
    def clock_wanted(self) -> bool:
        return bool(self.setup.clock_out)

    def port_names(self) -> list[str]:
        return sorted(self._names)

    @property
    def late_ns(self) -> list[int] | None:
        """Send time minus due time of every message, kept when a bench sets a list here
        (filled in when the sender closes)."""
        return self._late_ns

    @late_ns.setter
    def late_ns(self, value: list[int] | None) -> None:
        self._late_ns = value
        if value is not None:
            self._outbox.append(["late"])

    # -- the engine's side ----------------------------------------------------------------------

    def event(self, frame: int, event: Event) -> None:
        """A song event of a routed track, heard at `frame`."""
        route = self.setup.routes.get(getattr(event, "track", -1))
        if route is None or (isinstance(event, NoteOn) and event.track in self.muted):
            return
        data = messages.event_bytes(event, route.channel)
        if data is not None:
            self._outbox.append(["e", self.clock.ns_at(frame), route.port, data])

    def start_programs(self, frame: int, song: Song) -> None:
        """Bank and program of every routed track that sets them, as playing starts."""
        due = self.clock.ns_at(frame)
        for track, route in self.setup.routes.items():
            if track < len(song.tracks):
                spec = song.tracks[track]
                for data in messages.program_bytes(route.channel, spec.program, spec.bank):
                    self._outbox.append(["e", due, route.port, data])

    def realtime(self, frame: int, data: list[int]) -> None:
        """A clock message (clock, start, stop, continue, song position) to every clock port."""
        if self.setup.clock_out:
            self._outbox.append(["rt", self.clock.ns_at(frame), data])

    def notes_off(self, frame: int) -> None:
        """All notes off on every channel each port has used, at `frame` (a stop)."""
        self._outbox.append(["off", self.clock.ns_at(frame)])

    def panic(self) -> None:
        """End every note we sent, on every port, now."""
        self._outbox.append(["panic"])
        self._wake.set()

    # -- the courier and the reader -------------------------------------------------------------

    def _carry(self) -> None:
        while not self._halt.is_set():
            self._wake.wait(COURIER_SECONDS)
            self._wake.clear()
            self._flush()

    def _flush(self) -> None:
        batch = []
        while self._outbox:
            batch.append(self._outbox.popleft())
        if batch:
            self._write({"m": batch})

    def _write(self, message: dict[str, object]) -> None:
        # The sender gone (a broken or closed pipe): the reader says so.
        with self._write_lock, contextlib.suppress(OSError, ValueError):
            self._child.send(message)

    def _read(self) -> None:
        for message in self._child.replies():
            if "warning" in message:
                self._warn(str(message["warning"]))
            elif "lost" in message:  # it came back but could not be opened: look again
                self._lost.add(str(message["lost"]))
            elif "closed" in message:
                self._result = dict(message["closed"])  # type: ignore[arg-type]
                self._closed.set()
        if not self._closed.is_set():
            self._warn("the MIDI sender stopped")
            self._closed.set()

    def _warn(self, text: str) -> None:
        self.warnings.append(text)
        if self.on_warning is not None:
            self.on_warning(text)

    # -- the port watcher -----------------------------------------------------------------------

    def _watch(self) -> None:
        """Look for ports that go and come back, and tell the sender. It runs here, not in the
        sender's process: python-rtmidi lists ports holding the interpreter lock while the
        server answers, and the sender would wait that long."""
        watched = [name for name in self._names if name not in self.setup.virtual]
        lister, self._lister = self._lister, None
        looks = 0
        try:
            while not self._halt.wait(WATCH_SECONDS):
                looks += 1
                if lister is not None and self._lost and looks % FRESH_LISTER_LOOKS == 0:
                    # A client of a server that died and came back lists nothing, without
                    # an error: while a port is missing, look now and then with a new one.
                    lister.close()
                    lister = None
                try:
                    lister = lister or PortLister(self.setup.api)
                    available = set(lister.outputs())
                except Exception:  # the server went away: a new client when it is back
                    if lister is not None:
                        with contextlib.suppress(Exception):
                            lister.close()
                    lister = None
                    continue
                for name in watched:
                    if name not in available and name not in self._lost:
                        self._lost.add(name)
                        self._outbox.append(["lost", name])
                        self._warn(f"MIDI port {name!r} lost; other tracks keep playing")
                    elif name in available and name in self._lost:
                        self._lost.discard(name)
                        self._outbox.append(["back", name])  # the sender says when it is open
        finally:
            if lister is not None:
                lister.close()

    # -- closing --------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop sending, then end every note we sent (note-offs, all notes off, all sound off
        on every channel used), and wait for the sender to finish. Safe to call twice."""
        if self._halt.is_set():
            return
        self._halt.set()
        self._wake.set()
        self._courier.join()
        self._watcher.join()
        self._flush()
        self._write({"close": True})
        self._closed.wait(CLOSE_SECONDS)
        self._child.stop()
        self._reader.join(timeout=CLOSE_SECONDS)
        self.sent = int(self._result.get("sent", 0))  # type: ignore[call-overload]
        if self._late_ns is not None:
            self._late_ns.extend(self._result.get("late", []))  # type: ignore[arg-type]


def _lister_or_none(api: str) -> PortLister | None:
    try:
        return PortLister(api)
    except Exception:  # the sender says what is wrong; the watcher tries again later
        return None


COURIER_SECONDS = 0.002  # hand-over period: a small part of the engine's ~85 ms lead
CLOSE_SECONDS = 5.0
