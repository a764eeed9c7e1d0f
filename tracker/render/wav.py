"""WAV output through soundfile: the bit depths we offer, clipping for integer formats."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import numpy as np
import soundfile as sf

from tracker.atomic import write_failure
from tracker.model.errors import TrackerError

SUBTYPES = {"16": "PCM_16", "24": "PCM_24", "32f": "FLOAT"}
RATES = (44100, 48000, 96000)


class WavWriter:
    """Streams stereo float blocks into a WAV file; counts samples clipped by integer formats."""

    def __init__(self, path: Path, rate: int, bits: str, target: Path | None = None) -> None:
        """Write into `path`; errors name `target`, the file the user asked for (`path` may be
        a temporary file that becomes it)."""
        if bits not in SUBTYPES:
            raise TrackerError(f"bit depth must be one of {', '.join(SUBTYPES)}, not {bits!r}")
        self.path = path
        self.target = target or path
        self.clipped = 0
        self._integer = bits != "32f"
        try:
            self._file = sf.SoundFile(
                path, "w", samplerate=rate, channels=2, subtype=SUBTYPES[bits], format="WAV"
            )
        except (sf.LibsndfileError, OSError) as exc:
            raise self._error(exc) from None

    def _error(self, exc: Exception) -> TrackerError:
        reason = write_failure(exc) or str(exc)
        return TrackerError(f"cannot write {self.target}: {reason}")

    def write(self, block: np.ndarray) -> None:
        if self._integer:
            # libsndfile wraps out-of-range floats around in integer formats; clip instead.
            over = np.abs(block) > 1.0
            if over.any():
                self.clipped += int(over.sum())
                block = np.clip(block, -1.0, 1.0)
        try:
            self._file.write(block)
        except (sf.LibsndfileError, OSError) as exc:  # a full disk, a file-size limit
            raise self._error(exc) from None

    def close(self) -> None:
        try:
            self._file.close()
        except (sf.LibsndfileError, OSError) as exc:
            raise self._error(exc) from None


class BackgroundWriter:
    """Writes blocks to several WavWriters on a thread of its own, so disk and format
    conversion (libsndfile releases the GIL) overlap with rendering the next blocks.

    Blocks are copied on the way in: the renderer reuses its buffers.
    """

    QUEUE_BLOCKS = 16  # bounded: a slow disk makes the renderer wait instead of memory grow

    def __init__(self, writers: list[WavWriter]) -> None:
        self.writers = writers
        self._queue: queue.Queue[list[np.ndarray] | None] = queue.Queue(self.QUEUE_BLOCKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="wav-writer", daemon=True)
        self._thread.start()

    def write(self, blocks: list[np.ndarray]) -> None:
        """Queue one block for each writer (in the writers' order)."""
        if self._error is not None:
            raise self._error
        self._queue.put([block.copy() for block in blocks])

    def close(self) -> None:
        """Flush everything, close the files, and raise what the writing thread met."""
        self._queue.put(None)
        self._thread.join()
        for writer in self.writers:
            writer.close()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (blocks := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain, so the renderer never blocks on a full queue
            try:
                for writer, block in zip(self.writers, blocks, strict=True):
                    writer.write(block)
            except BaseException as exc:  # re-raised in the rendering thread
                self._error = exc
