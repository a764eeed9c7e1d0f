"""tracker: a terminal tracker/sequencer with built-in instruments, MIDI and offline render."""

__version__ = "0.1.0"
