"""Drive the real program in a tmux pane: send keys, read the screen."""

from __future__ import annotations

import shlex
import subprocess
import time
import uuid
from pathlib import Path

from tests.conftest import require_program


class TmuxPane:
    """One detached tmux server (its own socket) with one pane running `command`."""

    def __init__(self, command: list[str], cwd: Path, width: int = 160, height: int = 48) -> None:
        self.tmux = require_program("tmux")
        self.socket = f"tracker-test-{uuid.uuid4().hex[:8]}"
        self._run(
            "new-session", "-d", "-x", str(width), "-y", str(height), "-c", str(cwd),
            # The pane stays after the program exits, so its last screen can still be read.
            shlex.join(command) + "; echo EXITED $?; sleep 60",
        )  # fmt: skip

    def _run(self, *args: str) -> str:
        result = subprocess.run(
            [self.tmux, "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return result.stdout

    def send(self, *keys: str) -> None:
        """tmux key names: "C-s", "Enter", "F2", or literal text."""
        self._run("send-keys", "-t", "0", *keys)

    def type(self, text: str) -> None:
        self._run("send-keys", "-t", "0", "-l", text)

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", "0")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """The screen once it shows `text`; fails with the last screen after `timeout`."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared on screen; last screen:\n{screen}")

    def pid(self) -> int:
        """The pid of the program in the pane (the shell's child)."""
        shell = int(self._run("display-message", "-p", "-t", "0", "#{pane_pid}").strip())
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == shell:  # fields: state, ppid, …
                return int(stat.parent.name)
        raise AssertionError(f"no program runs under the pane's shell {shell}")

    def close(self) -> None:
        self._run("kill-server")
