"""Recording a MIDI keyboard while the song plays: each note is stamped with the song tick heard
at that moment, and passed through at once to the track's own sound (MIDI thru).

Notes are kept as they arrive (rtmidi's thread) and written into the pattern when recording
stops (model/recording.py), as one undoable edit: the song is never changed under the engine.
"""

from __future__ import annotations

from collections.abc import Callable

from tracker.midi.ports import InputPort, PortLister, match_port, open_input
from tracker.model.recording import PlayedNote

Thru = Callable[[int, int], None]  # pitch, velocity (0: note-off)


class MidiRecorder:
    """Listens on a MIDI input; `tick_now` says where the song is (Transport.tick_now)."""

    def __init__(
        self,
        api: str,
        source: str,
        tick_now: Callable[[], float],
        thru: Thru | None = None,
        channel: int | None = None,
    ) -> None:
        """`channel` (1-16) takes only that channel's notes; None takes every channel.

        Raises:
            MidiUnavailable: `source` names no single input port.
        """
        self.tick_now = tick_now
        self.thru = thru
        self.channel = channel
        self.armed = False
        self._open: dict[int, tuple[int, int]] = {}  # pitch → (start tick, velocity)
        self._done: list[PlayedNote] = []
        lister = PortLister(api)
        try:
            name = match_port(source, lister.inputs(), "MIDI input")
        finally:
            lister.close()
        self.source = name
        self._input: InputPort = open_input(api, name, self._receive, "record in")

    def _receive(self, data: list[int], time_ns: int) -> None:
        if len(data) < 3 or data[0] & 0xF0 not in (0x80, 0x90):
            return
        if self.channel is not None and (data[0] & 0x0F) + 1 != self.channel:
            return
        pitch, velocity = data[1], data[2]
        is_on = data[0] & 0xF0 == 0x90 and velocity > 0
        if self.thru is not None:
            self.thru(pitch, velocity if is_on else 0)
        if not self.armed:
            return
        tick = round(self.tick_now())
        if is_on:
            self._end(pitch, tick)  # a second note-on of a held pitch ends the first
            self._open[pitch] = (tick, velocity)
        else:
            self._end(pitch, tick)

    def _end(self, pitch: int, tick: int) -> None:
        started = self._open.pop(pitch, None)
        if started is not None:
            start, velocity = started
            self._done.append(PlayedNote(start, max(tick, start), pitch, velocity))

    def take(self) -> list[PlayedNote]:
        """The notes played since the last take; notes still held come with end None."""
        done, self._done = self._done, []
        held = [PlayedNote(s, None, p, v) for p, (s, v) in self._open.items()]
        self._open = {}
        return sorted(done + held, key=lambda note: (note.start, note.pitch))

    def close(self) -> None:
        self._input.close()
