"""Built-in instruments, voices and the block mixer. Imports the model only, no audio device."""
