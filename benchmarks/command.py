"""What the benchmark commands share with ``python -m bot``: the settings read from the
environment and ``.env``, the console, and any error reported in one line (as ``bot.cli``'s
``main`` does for the product's commands)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from rich.console import Console

from bot.settings import Settings, SettingsProblem, load_settings
from bot.startup import CliError
from index.database import StorageError

Handler = Callable[[argparse.Namespace, Settings, Console], Coroutine[Any, Any, int]]


def run_command(handler: Handler, args: argparse.Namespace) -> int:
    """Run ``handler`` with the settings and a console; returns the exit status."""
    # Wrap at word boundaries for a terminal (or a width given in COLUMNS); piped output
    # keeps one line per paragraph, for other programs to read.
    wrap = sys.stdout.isatty() or "COLUMNS" in os.environ
    console = Console(stderr=False, soft_wrap=not wrap)
    errors = Console(stderr=True, soft_wrap=True)
    try:
        settings = load_settings()
    except SettingsProblem as exc:
        errors.print(f"error: {exc}", highlight=False, markup=False)
        return 2
    try:
        return asyncio.run(handler(args, settings, console))
    except CliError as exc:
        errors.print(f"error: {exc}", highlight=False, markup=False)
        return exc.code
    except StorageError as exc:  # any database trouble not reported above: still one line
        errors.print(f"error: {exc}", highlight=False, markup=False)
        return 1
    except KeyboardInterrupt:
        return 130
