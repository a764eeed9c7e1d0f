"""Atomic file replacement: write a temporary file beside the target, fsync, rename.

A reader (or a crash) sees either the old file or the new one, never half of either. A process
killed mid-write (SIGKILL, power loss) leaves its hidden temporary file behind; the name holds
the writer's process id, so the next write of the same file (and the next opening of a song)
can tell a dead writer's leftovers from a live writer's work and remove only those. A killed
render can leave gigabytes: they go when that WAV is written again.
"""

from __future__ import annotations

import contextlib
import glob
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tracker.model.errors import TrackerError

TMP_NAME_BYTES = 200  # of the target's name, in the temporary file's
TMP_SUFFIX = ".tmp"
PID_MAX = 4_194_304  # Linux's highest process id (pid_max's ceiling)


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` atomically.

    On any exception the temporary file is removed and `target` is left as it was; an OSError
    (read-only folder, full disk, missing folder), or libsndfile's error for one, becomes a
    one-line TrackerError naming `target`.
    """
    target = Path(target)
    # The temporary name `.<name>.<pid>.<random>.tmp` adds up to 22 bytes to the target's: cut
    # it so that a name near the 255-byte limit (80 CJK characters are 240) can still be saved.
    stem = os.fsencode(target.name)[:TMP_NAME_BYTES].decode("utf-8", "ignore")
    prefix = f".{stem}.{os.getpid()}."
    remove_stale_temps(target)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=TMP_SUFFIX, dir=target.parent)
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        reason = write_failure(exc)
        if reason is not None:
            raise TrackerError(f"cannot write {target}: {reason}") from exc
        raise
    _fsync_dir(target.parent)


def remove_stale_temps(target: str | Path) -> list[Path]:
    """Remove the temporary files that writers of `target` (or of files named after it, as
    `<song>.recovery` is) left when they were killed: those whose process is gone. Returns
    what it removed; a file it cannot remove stays (it only takes space).

    A process id says nothing across machines or PID namespaces: a song saved (or a WAV
    rendered) at the same moment by another machine over a shared folder, or from a
    container, could lose its temporary file; that write then fails in one line, and since
    every write runs this first, a long render elsewhere would lose its output."""
    target = Path(target)
    stem = os.fsencode(target.name)[:TMP_NAME_BYTES].decode("utf-8", "ignore")
    removed = []
    with contextlib.suppress(OSError):
        for path in target.parent.glob(f".{glob.escape(stem)}.*{TMP_SUFFIX}"):
            if _writer_is_gone(path.name) and path.is_file() and not path.is_symlink():
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed.append(path)
    return removed


def _writer_is_gone(name: str) -> bool:
    """Whether the name is `….<pid>.<random>.tmp` and no process `pid` runs (another's is
    left alone: it may be saving right now)."""
    parts = name[: -len(TMP_SUFFIX)].split(".")
    field = parts[-2] if len(parts) >= 4 else ""
    if not (field.isascii() and field.isdigit()) or not 0 < int(field) <= PID_MAX:
        return False  # not one of ours (or from before names held the process id)
    pid = int(field)
    if pid == os.getpid() or os.name != "posix":  # (on Windows os.kill would end it)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):
        return False  # it exists, owned by someone else
    return False


def _mode_for(target: Path) -> int:
    """The replaced file's permissions, or a new file's (mkstemp's 0600 would hide a render
    or a song from everyone but its owner)."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _cannot_write(target: Path, exc: OSError) -> TrackerError:
    return TrackerError(f"cannot write {target}: {exc.strerror or exc}")


SF_ERR_SYSTEM = 2  # libsndfile's code for "the operating system refused"


def write_failure(exc: BaseException) -> str | None:
    """Why writing failed, in a few words, if `exc` is an I/O failure; None for anything else
    (a bug, Ctrl+C), which goes on as it is.

    libsndfile reports a full disk or a file-size limit not as OSError but as its own
    LibsndfileError, "System error.": a WAV writer (a recorded take, the shipped samples)
    must still fail in one line naming the file.
    """
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    soundfile = sys.modules.get("soundfile")
    if soundfile is not None and isinstance(exc, soundfile.LibsndfileError):
        if exc.code == SF_ERR_SYSTEM:
            return "the system refused the write (is the disk full?)"
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def write_bytes_atomic(target: str | Path, data: bytes) -> None:
    """Replace `target` with `data` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
