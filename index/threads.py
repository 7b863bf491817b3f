"""One BLAS thread per process.

The engine's matrix products are small (a question's vector against at most a few hundred
thousand rows), memory-bound, and run from several answering threads at once. OpenBLAS's
own threads, which spin for a while after each product, then only take the cores from
the encoder's OpenMP threads and from the other answers: at 10,000 passages a hybrid
answer took 57 ms at the median and 147 at p95 with two BLAS threads, 27 and 34 with one
(``BENCHMARKS.md``). The limit applies to the whole process, once.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_limited = False


def limit_blas_threads() -> None:
    """Make every BLAS library loaded in this process use one thread (idempotent)."""
    global _limited
    with _lock:
        if _limited:
            return
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
        _limited = True
