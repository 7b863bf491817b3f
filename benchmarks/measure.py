"""What the benchmark commands measure alike: a percentile of samples, and the memory of this
process as Linux reports it; and how the small ones report their figures."""

from __future__ import annotations

import json
import resource
from collections.abc import Mapping, Sequence
from pathlib import Path


def report(figures: Mapping[str, object], json_path: Path | None) -> None:
    """Print ``figures`` a line each and, with ``json_path``, write them there too."""
    width = max(map(len, figures), default=0) + 2
    for name, value in figures.items():
        print(f"{name:{width}}{value}")
    if json_path is not None:
        json_path.write_text(json.dumps(dict(figures), indent=2) + "\n", encoding="utf-8")


def percentile(ordered: Sequence[float], q: float) -> float:
    """The sample at quantile ``q`` (0 to 1) of ``ordered`` (sorted); 0.0 without samples."""
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] if ordered else 0.0


def _status_mb(key: str) -> float | None:
    """A figure of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in MB; None where there is
    none (not Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_mb() -> float:
    """Current resident set size of this process (VmRSS); 0.0 where it cannot be read."""
    return _status_mb("VmRSS") or 0.0


def peak_rss_mb() -> float:
    """This process's peak RSS. ``VmHWM`` starts afresh at exec, unlike ``ru_maxrss``,
    which a child spawned by a big parent inherits."""
    peak = _status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
