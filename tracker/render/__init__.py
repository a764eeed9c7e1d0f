"""Offline rendering: the sequencer and the block renderer, no wall clock, to WAV files."""
