"""WAV output through soundfile: the bit depths we offer, clipping for integer formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from tracker.model.errors import TrackerError

SUBTYPES = {"16": "PCM_16", "24": "PCM_24", "32f": "FLOAT"}
RATES = (44100, 48000, 96000)


class WavWriter:
    """Streams stereo float blocks into a WAV file; counts samples clipped by integer formats."""

    def __init__(self, path: Path, rate: int, bits: str) -> None:
        if bits not in SUBTYPES:
            raise TrackerError(f"bit depth must be one of {', '.join(SUBTYPES)}, not {bits!r}")
        self.path = path
        self.clipped = 0
        self._integer = bits != "32f"
        try:
            self._file = sf.SoundFile(
                path, "w", samplerate=rate, channels=2, subtype=SUBTYPES[bits], format="WAV"
            )
        except (sf.LibsndfileError, OSError) as exc:
            raise TrackerError(f"cannot write {path}: {exc}") from None

    def write(self, block: np.ndarray) -> None:
        if self._integer:
            # libsndfile wraps out-of-range floats around in integer formats; clip instead.
            over = np.abs(block) > 1.0
            if over.any():
                self.clipped += int(over.sum())
                block = np.clip(block, -1.0, 1.0)
        self._file.write(block)

    def close(self) -> None:
        self._file.close()
