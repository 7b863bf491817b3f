"""The terminal session (``python -m bot shell``), run as a user would: stdin piped, or a
real pseudo-terminal for line editing, history and Ctrl-C. Every wait is bounded."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.records import Snapshot
from index.store import IndexStore
from tests.bot.test_cli import assert_no_traceback, run
from tests.botcli import Run, bot_environment
from tests.conftest import REPO

MEETING = "Wer nahm an dem Treffen teil?"
COMMIT = "What did the US commit to?"
PTY_TIMEOUT = 120.0  # a start takes a second or two; ceilings far above that
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|[\x01\x02]")


@pytest.fixture
async def own_database(tmp_path: Path, seed_snapshot: Snapshot) -> Path:
    """A database holding the seed index, in a data directory of this test's own."""
    database = tmp_path / "data" / "newsbot.sqlite3"
    async with await IndexStore.open(database) as storage:
        await storage.save_snapshot(seed_snapshot)
    return database


def shell(database: Path, stdin: str, **env: str) -> Run:
    result = run(database, "shell", stdin=stdin, **env)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    return result


# --- piped stdin ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [":help", "help", "Hilfe"])
def test_help_lists_the_commands_and_is_no_question(own_database: Path, typed: str) -> None:
    out = shell(own_database, f"{typed}\n:quit\n").stdout
    for command in (":more", ":help", ":quit"):
        assert command in out
    assert "The articles don't say" not in out and "Understood as" not in out


@pytest.mark.parametrize("command", [":frobnicate", ":q!", ":moar", ":FOO"])
def test_an_unknown_command_gets_a_one_line_hint(own_database: Path, command: str) -> None:
    out = shell(own_database, f"{command}\n:quit\n").stdout
    hints = [line for line in out.splitlines() if command in line]
    assert len(hints) == 1, out
    assert ":help" in hints[0]
    assert "The articles don't say" not in out and "Understood as" not in out


def test_more_after_a_declined_question_says_there_is_nothing_to_page(
    own_database: Path,
) -> None:
    out = shell(own_database, "Wer hat die Fußball-WM gewonnen?\n:more\n:quit\n").stdout
    assert "Dazu steht nichts in den Artikeln." in out
    assert "es gibt keine Stellen zum Weiterblättern" in out
    assert "Keine weiteren Stellen." not in out


def test_more_after_a_german_question_stays_german(own_database: Path) -> None:
    out = shell(own_database, MEETING + "\n" + ":more\n" * 8 + ":quit\n").stdout
    assert "Weitere Stellen:" in out
    assert "Keine weiteren Stellen." in out
    assert "No more passages" not in out and "More passages" not in out


def test_more_before_any_question_says_what_to_do(own_database: Path) -> None:
    out = shell(own_database, f":more\n:MORE\n:QUIT\n{COMMIT}\n").stdout
    assert out.count("Ask a question first") == 2  # a command in capitals is the same
    assert "Here is what the articles say" not in out  # :QUIT left before the question


def test_long_lines_wrap_at_word_boundaries(own_database: Path) -> None:
    out = shell(own_database, COMMIT + "\n:quit\n", COLUMNS="60").stdout
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 60, max(lines, key=len)
    quote = "Wie die Nachrichtenagentur AFP berichtet, verpflichten sich die USA darin"
    assert quote in " ".join(out.split())  # whole words, only the line breaks moved
    words = set(" ".join(lines).split())
    assert "Nachrichtenagentur" in words and "verpflichten" in words


def test_a_question_of_invisible_characters_is_not_asked(own_database: Path) -> None:
    out = shell(own_database, "\u200b\u200d\n:quit\n").stdout
    assert "Understood as" not in out and "don't say" not in out


# --- a real terminal --------------------------------------------------------------------------


class Terminal:
    """A program on a pseudo-terminal (its controlling terminal), as a person would run it."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, columns: int = 100):
        env = {**env, "TERM": "xterm"}
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the program
            try:
                # As in a person's terminal, Ctrl-C interrupts: a test run started in the
                # background by a shell without job control inherits SIGINT ignored.
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGQUIT, signal.SIG_DFL)
                os.chdir(cwd)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        self.output = ""
        self.status: int | None = None

    @property
    def text(self) -> str:
        return ANSI.sub("", self.output).replace("\r", "")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # the child closed the terminal
            return False
        if not data:
            return False
        self.output += data.decode("utf-8", "replace")
        return True

    def expect(self, pattern: str, after: int = 0) -> int:
        """Wait until ``pattern`` shows at or after text position ``after``; its end."""
        deadline = time.monotonic() + PTY_TIMEOUT
        while (found := re.search(pattern, self.text[after:])) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} did not show:\n{self.text}")
            if not self._read(0.2) and re.search(pattern, self.text[after:]) is None:
                raise AssertionError(f"the shell ended before {pattern!r}:\n{self.text}")
        return after + found.end()

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def ctrl_c(self) -> None:
        """Press Ctrl-C while the shell waits for a key, as a person would.

        A signal that arrives while readline is busy (printing the prompt, handling a key)
        only takes effect with the next key; so wait until the shell sleeps in select/poll
        on the terminal, as seen in ``/proc``, then press it.
        """
        deadline = time.monotonic() + PTY_TIMEOUT
        wchan = Path(f"/proc/{self.pid}/wchan")
        while not any(w in wchan.read_text() for w in ("poll_schedule_timeout", "do_select")):
            if time.monotonic() > deadline:
                raise AssertionError(f"the shell never waited for a key:\n{self.text}")
            self._read(0.05)
        self.type(b"\x03")

    def wait(self) -> int:
        """The exit status, once the shell has ended (reading what it still prints)."""
        deadline = time.monotonic() + PTY_TIMEOUT
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while self._read(0):
                    if not select.select([self.fd], [], [], 0)[0]:
                        break
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
            self._read(0.1)
        raise AssertionError(f"the shell did not end:\n{self.text}")

    def close(self) -> None:
        if self.status is None and os.waitpid(self.pid, os.WNOHANG)[0] == 0:
            os.kill(self.pid, signal.SIGKILL)  # still running after a failed test
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def shell_terminal(database: Path) -> Terminal:
    """``python -m bot shell`` on a terminal."""
    argv = [sys.executable, "-m", "bot", "shell"]
    return Terminal(argv, bot_environment(database), database.parent)


pty_on_linux = pytest.mark.skipif(
    not Path("/proc/self/wchan").exists(), reason="needs a pseudo-terminal and Linux /proc"
)


@pytest.fixture
def terminal(own_database: Path) -> Iterator[Terminal]:
    term = shell_terminal(own_database)
    yield term
    term.close()


@pty_on_linux
def test_line_editing_history_and_ctrl_c_in_a_terminal(
    terminal: Terminal, own_database: Path
) -> None:
    history = own_database.parent / "shell_history"
    assert not history.exists()  # its absence is fine
    at = terminal.expect(r"\? $")
    terminal.type(b"Wer nahm an dem Trefen teil?")
    terminal.type(b"\x1b[D" * 9 + b"f" + b"\x05")  # ← nine times, fix the typo, End
    terminal.type(b"\r")
    at = terminal.expect(r"Merz", at)
    at = terminal.expect(r"\? $", at)

    terminal.type(b"\x1b[A")  # ↑ recalls the question
    at = terminal.expect(re.escape(MEETING), at)

    terminal.ctrl_c()  # at the prompt: leave, cleanly
    assert terminal.wait() == 0
    assert "Traceback" not in terminal.text and "KeyboardInterrupt" not in terminal.text
    assert history.read_text(encoding="utf-8").splitlines()[-1] == MEETING


@pty_on_linux
def test_ctrl_c_while_the_history_cannot_be_written(own_database: Path) -> None:
    history = own_database.parent / "shell_history"
    history.mkdir()  # a directory where the file should be: unreadable, unwritable
    term = shell_terminal(own_database)
    try:
        term.expect(r"\? $")
        term.ctrl_c()
        assert term.wait() == 0
        assert "Traceback" not in term.text
    finally:
        term.close()


# --- make run ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "expected"), [(0, 0), (130, 0), (1, 2)])
def test_make_run_treats_ctrl_c_as_a_normal_end(tmp_path: Path, status: int, expected: int) -> None:
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\nexit {status}\n", encoding="utf-8")
    fake.chmod(0o755)
    result = subprocess.run(
        ["make", "run", f"PY={fake}", "-o", ".venv/.installed-stamp", "-o", "dictionary"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == expected, result.stdout + result.stderr
    assert ("Error" in result.stderr) == (expected != 0), result.stderr


@pty_on_linux
@pytest.mark.parametrize("status_on_ctrl_c", [0, 130], ids=["terminal-session", "bot"])
def test_ctrl_c_in_make_run_ends_without_an_error(tmp_path: Path, status_on_ctrl_c: int) -> None:
    """Ctrl-C goes to make, its recipe's shell and the program alike; nobody complains."""
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    fake = tmp_path / "python"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import time\n"
        "try:\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(600)\n"
        "except KeyboardInterrupt:\n"
        f"    raise SystemExit({status_on_ctrl_c})\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    make = ["make", "run", f"PY={fake}", "-o", ".venv/.installed-stamp", "-o", "dictionary"]
    term = Terminal(make, dict(os.environ), tmp_path)
    try:
        term.expect("ready")
        # The fake's SIGINT handler is in place before it prints "ready", and a time.sleep
        # interrupted at any moment raises KeyboardInterrupt: no need to wait for a read.
        term.type(b"\x03")
        term.wait()
        assert "Error" not in term.text and "Interrupt" not in term.text, term.text
    finally:
        term.close()
