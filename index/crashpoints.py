"""Named points where a test can kill the reindex, the way SQLite's crash tests do.

``NEWSBOT_CRASH_AT=<name>`` makes the process that reaches the point ``<name>`` kill itself
with SIGKILL: no clean-up, no ``finally``, exactly like ``kill -9`` or a power cut. The
reindex child inherits the environment, so a point works in whichever process reaches it
(parsing and writing happen in the child, activation in the parent). Without the variable,
``crash_point`` does nothing.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "NEWSBOT_CRASH_AT"

# In the order a reindex reaches them; `scripts/crash_reindex.py` kills at each.
CRASH_POINTS = (
    "after_parse",  # child: the articles are parsed, nothing is written yet
    "mid_write",  # child: some passage chunks of the new build are committed, not all
    "before_activation",  # parent: the new build is complete, the old one still active
    "after_activation",  # parent: the switch is committed, the old build not yet removed
)
# After the build is active, the encoder's own child stores vectors batch by batch.
ENCODE_CRASH_POINTS = ("mid_encode",)  # some vectors are committed, not all


def crash_point(name: str) -> None:
    """Die here with SIGKILL when ``NEWSBOT_CRASH_AT`` names this point (tests only)."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
