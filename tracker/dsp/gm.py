"""General MIDI fallback: which built-in preset plays a GM program or the drum channel.

Imported songs (and tracks with no instrument) name GM programs, not presets; this maps each GM
family of eight programs onto the closest preset we ship.
"""

from __future__ import annotations

DRUM_CHANNEL = 10  # 1-based, as in Track.channel
DRUMS = "drums"

# One preset per GM family of eight programs (0-7 pianos, 8-15 chromatic percussion, …).
FAMILIES = (
    "keys",  # 0-7 pianos
    "bell",  # 8-15 chromatic percussion
    "organ",  # 16-23 organs
    "pluck",  # 24-31 guitars
    "bass",  # 32-39 basses
    "strings",  # 40-47 strings
    "pad",  # 48-55 ensemble and choir
    "brass",  # 56-63 brass
    "lead",  # 64-71 reeds
    "lead",  # 72-79 pipes
    "lead",  # 80-87 synth lead
    "pad",  # 88-95 synth pad
    "pad",  # 96-103 synth effects
    "pluck",  # 104-111 ethnic
    "pluck",  # 112-119 percussive
    "pad",  # 120-127 sound effects
)


def preset_for_program(program: int) -> str:
    """The preset that stands in for a GM program (0-127; out-of-range values are clamped)."""
    return FAMILIES[min(max(program, 0), 127) // 8]


def preset_for_track(channel: int, program: int) -> str:
    """The preset for a program on a MIDI channel (1-16): channel 10 always plays the drums."""
    if channel == DRUM_CHANNEL:
        return DRUMS
    return preset_for_program(program)


# The other way, for sending a song's built-in tracks to a GM synth (`tracker play --midi-out`):
# a typical program of each preset's family.
PROGRAM_FOR_PRESET = {
    "keys": 0,  # acoustic grand piano
    "bell": 8,  # celesta
    "organ": 16,  # drawbar organ
    "pluck": 24,  # nylon guitar
    "bass": 33,  # fingered bass
    "strings": 48,  # string ensemble
    "pad": 89,  # warm pad
    "brass": 61,  # brass section
    "lead": 80,  # square lead
}


def program_for_preset(preset: str) -> int | None:
    """The GM program that stands in for a built-in preset; None for drums or unknown ones."""
    return PROGRAM_FOR_PRESET.get(preset)
