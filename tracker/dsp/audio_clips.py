"""Audio clips for the mixer: WAV files read whole, as stereo float32 at the render's rate, and
the voices that play them.

A clip is read before playing starts (never in the audio thread) and kept in memory: a
5-minute stereo clip at 48 kHz is 110 MB as float32, which a frozen song of a few tracks
affords; streaming from disk would put file I/O on the real-time path.

A file at another rate is resampled linearly on loading. That is not mastering quality (a
fraction of a dB of droop near 20 kHz, some aliasing); render a song at the rate its audio was
made at to hear it untouched, as freeze does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tracker.model.errors import TrackerError

MIN_RATE, MAX_RATE = 8000, 384000
# Float files can hold any value; past +60 dBFS it is not audio, and a few voices of 1e38
# would sum to infinity in the mixer.
MAX_LEVEL = 1000.0
TOO_LOUD = "holds samples beyond +60 dB of full scale (not audio)"
HEADERLESS = "a .raw file has no header to give its sample rate and format"
MAX_SECONDS = 4 * 3600  # a clip longer than four hours is no clip (and would not fit memory)


def load_clip(path: Path, rate: int) -> np.ndarray:
    """The file's audio as (frames, 2) float32 at `rate`: mono is doubled, channels after the
    second are dropped.

    Raises:
        TrackerError: the file is missing or not audio soundfile can read; the message names it.
    """
    import soundfile as sf

    try:
        is_file = path.is_file()
    except OSError as exc:  # a name too long for the file system, say
        raise TrackerError(f"{path}: cannot read audio: {exc.strerror or exc}") from None
    if not is_file:  # libsndfile says only "System error"
        what = "is a folder, not an audio file" if path.is_dir() else "audio file not found"
        raise TrackerError(f"{path}: {what}")
    if is_headerless(path):
        raise TrackerError(f"{path}: cannot read audio: {HEADERLESS}")
    try:
        info = sf.info(str(path))
        # A file's header can claim anything: check it before memory is spent on it.
        if not MIN_RATE <= info.samplerate <= MAX_RATE:
            raise TrackerError(
                f"{path}: a sample rate of {info.samplerate} Hz is outside {MIN_RATE}..{MAX_RATE}"
            )
        if info.frames * max(rate / info.samplerate, 1.0) > MAX_SECONDS * rate:
            raise TrackerError(f"{path}: longer than {MAX_SECONDS // 3600} hours of audio")
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except FileNotFoundError:
        raise TrackerError(f"{path}: audio file not found") from None
    except MemoryError:
        raise TrackerError(f"{path}: not enough memory to load it") from None
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError, TypeError) as exc:
        raise TrackerError(f"{path}: cannot read audio: {_reason(exc)}") from None
    if not np.isfinite(data).all():
        # NaN would ride every effect's feedback for the rest of the session.
        raise TrackerError(f"{path}: holds samples that are not numbers (NaN or infinite)")
    if len(data) and float(np.abs(data).max()) > MAX_LEVEL:
        raise TrackerError(f"{path}: {TOO_LOUD}")
    if data.shape[1] == 1:
        data = np.repeat(data, 2, axis=1)
    data = np.ascontiguousarray(data[:, :2])
    if file_rate != rate and len(data) > 1:
        data = _resample(data, file_rate, rate)
    return data


def is_headerless(path: Path) -> bool:
    """Whether soundfile would take the file for headerless audio, by its name alone: it then
    asks for a rate and format where we have none (a TypeError), whatever the file holds."""
    return path.suffix.lower() == ".raw"


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _resample(data: np.ndarray, source: int, target: int) -> np.ndarray:
    frames = round(len(data) * target / source)
    positions = np.arange(frames, dtype=np.float64) * (source / target)
    index = np.arange(len(data), dtype=np.float64)
    out = np.empty((frames, 2), dtype=np.float32)
    for channel in range(2):
        out[:, channel] = np.interp(positions, index, data[:, channel])
    return out


class ClipVoices:
    """The clips one track plays, and where each is being read. At most one voice per clip: a
    clip started again (a loop back, a jump) moves its voice, as a tape head would."""

    def __init__(self, clips: list[np.ndarray]) -> None:
        self.clips = clips
        self.reading: dict[int, int] = {}  # clip number → frame read next

    def start(self, clip: int, frame: int) -> None:
        """Play clip `clip` from its frame `frame` on (nothing when that is past its end)."""
        if 0 <= clip < len(self.clips) and 0 <= frame < len(self.clips[clip]):
            self.reading[clip] = frame
        else:
            self.reading.pop(clip, None)

    def stop(self) -> None:
        self.reading.clear()

    def active(self) -> bool:
        return bool(self.reading)

    def render(self, out: np.ndarray) -> None:
        """Add the next len(out) frames of every playing clip into `out` ((frames, 2) view),
        in clip order so the sum is the same however blocks are split."""
        frames = len(out)
        for clip in sorted(self.reading):
            data = self.clips[clip]
            frame = self.reading[clip]
            count = min(frames, len(data) - frame)
            if count > 0:
                out[:count] += data[frame : frame + count]
            end = frame + frames
            if end >= len(data):
                del self.reading[clip]
            else:
                self.reading[clip] = end
