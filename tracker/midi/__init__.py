"""MIDI: ports and clock (mido + rtmidi, imported lazily at the edge) and MIDI file import/export.

`import_file.import_midi` reads a Standard MIDI File into a Song with exact timing;
`export_file.export_midi` writes a Song as a type 1 file through the sequencer.
"""
