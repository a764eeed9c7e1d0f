"""A song being edited: its file, undo history, saved state and crash recovery (file I/O here)."""
