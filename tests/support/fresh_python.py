"""Run a snippet in a fresh Python process: for what a process reads once, at start or when
a native library loads (thread pools, libgomp's environment)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def run_fresh_python(code: str, env: dict[str, str]) -> str:
    """``code``'s standard output, run with the repository importable and only ``env``
    (plus PATH) in its environment; a failing snippet fails the test with its stderr."""
    run = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout
