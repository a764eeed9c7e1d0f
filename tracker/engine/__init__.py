"""Song → events at integer ticks (sequencer), ticks ↔ frames and seconds (tempo map). Pure."""
