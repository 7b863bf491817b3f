"""The interactive terminal session: ``python -m bot shell`` (what ``make run`` starts
without a token).

Questions are read with the standard ``input()`` in the main thread, outside any running
event loop, so that Ctrl-C at the prompt is a plain ``KeyboardInterrupt`` (and leaves at
once), and so that ``readline`` gives line editing and a history kept in the data directory.
Every line the session prints comes from ``bot/templates/shell.j2`` or the answer templates.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from bot.questions import clean_question
from bot.render import render, render_answer
from bot.service import Question
from index.embedding import semantic_line
from index.engine import Engine
from index.records import Answer

HISTORY_FILE = "shell_history"
HISTORY_LENGTH = 1000
QUIT = frozenset({":q", ":quit", ":exit", "quit", "exit"})
HELP = frozenset({"help", "hilfe"})  # typed alone, as "quit" is: no question
_COMMAND = re.compile(r":\S*")
# The prompt, coloured in a terminal; \001 and \002 tell readline which bytes take no room.
_TERMINAL_PROMPT = "\001\033[1;36m\002?\001\033[0m\002 "


@contextlib.contextmanager
def line_editing(history: Path | None) -> Iterator[None]:
    """``readline`` line editing and history while the block runs (in a terminal only).

    The history file may be missing, unreadable or unwritable: then there is none, and
    the session goes on.
    """
    try:
        import readline
    except ImportError:  # not every Python has it
        yield
        return
    readline.set_history_length(HISTORY_LENGTH)
    if history is not None:
        with contextlib.suppress(OSError):
            readline.read_history_file(history)
    try:
        yield
    finally:
        if history is not None:
            with contextlib.suppress(OSError):
                history.parent.mkdir(parents=True, exist_ok=True)
                readline.write_history_file(history)


@dataclass
class Session:
    """One terminal session over ``engine``; ``ask`` answers a question and logs it."""

    engine: Engine
    console: Console
    k: int
    ask: Callable[[Question], Answer]
    last: str | None = None
    offset: int = 0
    german: bool = False
    answered: bool = False  # the last question was answered: :more pages on

    def say(self, what: str, **context: Any) -> None:
        self.console.print(
            render("shell.j2", "terminal", what=what, de=self.german, **context),
            highlight=False,
        )

    def show(self, answer: Answer) -> None:
        self.console.print(render_answer(answer), highlight=False)

    def run(self, history: Path | None) -> int:
        """Read and answer questions until ``:quit``, end of input or Ctrl-C; exit status."""
        self.say(
            "banner",
            info=self.engine.snapshot.info,
            semantic=semantic_line(self.engine.semantic_status()),
        )
        interactive = sys.stdin.isatty()
        prompt = _TERMINAL_PROMPT if interactive and sys.stdout.isatty() else "? "
        editing = line_editing(history) if interactive else contextlib.nullcontext()
        with editing:
            try:
                while True:
                    try:
                        line = input(prompt)
                    except EOFError:
                        self.console.print()
                        return 0
                    if not self.handle(line):
                        return 0
            except KeyboardInterrupt:  # Ctrl-C: the usual way to leave a terminal program
                self.console.print()
                return 0

    def handle(self, line: str) -> bool:
        """Act on one line; False when the session should end."""
        line = line.strip()
        if not line:
            return True
        if line.lower() in QUIT:  # commands in any case: ":MORE", ":Quit"
            return False
        if line.lower() in HELP:
            line = ":help"
        if _COMMAND.fullmatch(line.split()[0]):
            self.command(line.split()[0])
            return True
        question = clean_question(line)
        if not question:  # only invisible characters
            return True
        self.last, self.offset = question, 0
        answer = self.ask(Question(question, k=self.k))
        self.german = answer.language == "de"
        self.answered = answer.answered
        self.show(answer)
        return True

    def command(self, typed: str) -> None:
        name = typed.lower()  # ":MORE" as ":more"; a hint repeats it as typed
        if name == ":help":
            self.say("help")
        elif name == ":more":
            self.more()
        else:
            self.say("unknown", command=typed)

    def more(self) -> None:
        if self.last is None:
            self.say("ask_first")
            return
        if not self.answered:  # declined: there was no first page to go on from
            self.say("nothing_to_page")
            return
        self.offset += self.k
        answer = self.engine.answer(self.last, k=self.k, offset=self.offset)
        if not answer.results:
            self.say("no_more")
            return
        self.show(answer)
