"""Crash-safety check: kill ``python -m bot reindex`` with SIGKILL, then inspect the database.

Usage::

    python scripts/crash_reindex.py [--trials 50] [--seed N] [--articles DIR] [--workdir DIR]

Preparation (once): the articles (by default the tests' copy of the seeds,
``tests/data/articles``) are indexed into a pristine database by ``python -m bot reindex``,
and three answers from it are recorded as the baseline; a second articles directory holds
the same articles plus a synthetic corpus of about 3,000 passages (more than one write
chunk), and one full reindex of it is timed (T).

Then, as SQLite's crash tests do, the reindex of the second directory is killed at each
named point of ``index.crashpoints`` (``NEWSBOT_CRASH_AT=<point>`` makes the process that
reaches it SIGKILL itself: the child after parsing and between passage chunks, the parent
just before and just after activation), and each point's expected outcome is checked: the
old build before activation, the new one after. Finally ``--trials`` kills at random
moments (stratified over [0, T], so that they cover start-up, the build in the child,
storing and activation; where they land is reported, not judged).

After every kill the database must open, pass ``PRAGMA integrity_check``, keep only one
build (ready) once it has been opened, and serve either the old build, answering exactly
like the baseline, or the complete new one.

The reindex runs without the Ding dictionary (``DICTIONARY_PATH=/nonexistent``, a
supported mode that only prints a warning), so that one run takes seconds. Everything is
written under the work directory (a temporary one by default, removed at the end).
Exit status: 0 when every trial passed, 1 when one failed, 2 when the preparation failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(REPO))

from benchmarks.synthetic import synthetic_articles, write_corpus  # noqa: E402
from index.corpus import load_articles  # noqa: E402
from index.crashpoints import CRASH_ENV, CRASH_POINTS  # noqa: E402
from index.database import StorageError  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.locks import ReindexBusyError, reindex_file_lock  # noqa: E402
from index.records import Answer  # noqa: E402
from index.store import IndexStore  # noqa: E402

QUESTIONS = (
    "Wer nahm an dem Treffen teil?",
    "Was sagte Macron über Russland?",
    "Wie viele Staaten wollen Truppen entsenden?",
)
NEW_PASSAGES = 3_000  # more than one write chunk (index/store.py _WRITE_CHUNK)
# Ceilings for a hung process, far above the usual seconds: never what a trial waits for.
TIMEOUT = 300.0  # seconds, for every subprocess
LOCK_RELEASE_TIMEOUT = 60.0  # killed processes let go of the reindex lock at once, really
DB_NAME = "newsbot.sqlite3"
DEFAULT_ARTICLES = REPO / "tests" / "data" / "articles"
# What each named point must leave active: the old build until the switch is committed.
EXPECTED = {
    "after_parse": "old",
    "mid_write": "old",
    "before_activation": "old",
    "after_activation": "new",
}

Fingerprint = tuple[bool, tuple[tuple[str, int, str], ...]]


class PreparationError(RuntimeError):
    """The pristine database or the timing run could not be made."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """What every trial starts from and is compared with."""

    workdir: Path
    pristine: Path
    old_dir: Path
    new_dir: Path
    old_build: str
    new_passages: int
    baseline: tuple[Fingerprint, ...]
    duration: float


@dataclass(frozen=True, slots=True)
class TrialResult:
    """One kill and what the database looked like afterwards."""

    number: int
    delay: float  # seconds after the start of the reindex (0 for a named point)
    fraction: float  # delay / T
    phase: str  # start, build, store, written, activation, activated, finished
    outcome: str  # old, new, or broken
    passed: bool
    reason: str
    returncode: int | None
    point: str | None = None  # the named crash point, for the deterministic trials

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        when = (
            f"at {self.point:<17}"
            if self.point
            else f"at {self.delay:6.3f} s ({self.fraction:6.1%})"
        )
        return (
            f"trial {self.number:3d}  kill {when}  phase {self.phase:<10}  "
            f"outcome {self.outcome:<6}  {verdict}  {self.reason}"
        )


# --- subprocesses ------------------------------------------------------------------------


def environment(database: Path, workdir: Path, articles_dir: Path) -> dict[str, str]:
    """The settings of every ``python -m bot`` run: all paths under the work directory,
    and every setting that matters explicit (the runs' working directory is the work
    directory, where no ``.env`` is read)."""
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "LINES", CRASH_ENV}}
    python_path = [str(REPO), *filter(None, [env.get("PYTHONPATH")])]
    env.update(
        DATABASE_PATH=str(database),
        ARTICLES_DIR=str(articles_dir),
        DICTIONARY_PATH="/nonexistent",  # skip the Ding dictionary: a reindex takes seconds
        ENCODER="none",  # the trials kill the reindex; the encoder's own crash test is apart
        CACHE_DIR=str(workdir / "cache"),
        GLOSSARY_PATH="",
        DISCORD_TOKEN="",
        BUSY_TIMEOUT_MS="5000",
        PYTHONIOENCODING="utf-8",
        PYTHONPATH=os.pathsep.join(python_path),
    )
    return env


def bot_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]


def run_bot(prep_dir: Path, database: Path, articles: Path, *args: str) -> float:
    """Run ``python -m bot ARGS`` to completion; return its wall-clock duration."""
    began = time.perf_counter()
    try:
        proc = subprocess.run(
            bot_command(*args),
            cwd=prep_dir,
            env=environment(database, prep_dir, articles),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PreparationError(f"`bot {' '.join(args)}` took longer than {TIMEOUT:.0f} s") from exc
    elapsed = time.perf_counter() - began
    if proc.returncode != 0:
        raise PreparationError(
            f"`bot {' '.join(args)}` failed with status {proc.returncode}: {proc.stderr.strip()}"
        )
    return elapsed


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def copy_database(source: Path, target: Path) -> None:
    """A fresh copy of the (checkpointed) pristine database, without WAL files."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_database(target)
    shutil.copyfile(source, target)


def checkpoint(path: Path) -> None:
    """Fold the WAL into the main file, so that copying the main file copies everything."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if path.with_name(path.name + "-wal").exists():
        path.with_name(path.name + "-wal").unlink()
    path.with_name(path.name + "-shm").unlink(missing_ok=True)


def group_commands(pgid: int) -> list[str]:
    """Command lines of the live processes in process group ``pgid`` (Linux /proc)."""
    found: list[str] = []
    proc_root = Path("/proc")
    if not proc_root.is_dir():
        return found
    for entry in proc_root.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # Fields after the command name (which may hold spaces) sit behind the last ")".
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) != pgid or fields[0] == "Z":
                continue
            found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError, IndexError):
            continue
    return found


def wait_for_lock_release(database: Path, timeout: float = LOCK_RELEASE_TIMEOUT) -> bool:
    """Wait until no process of the killed group holds the reindex lock any more."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with reindex_file_lock(database):
                return True
        except ReindexBusyError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)


# --- answers and database state ------------------------------------------------------------


def fingerprint(answer: Answer) -> Fingerprint:
    """What must not change while the old build serves: the articles, paragraphs, quotes."""
    return (
        answer.answered,
        tuple((r.article_id, r.paragraph, r.quote) for r in answer.results),
    )


async def baseline_answers(database: Path) -> tuple[str, tuple[Fingerprint, ...]]:
    async with await IndexStore.open(database) as storage:
        snapshot = await storage.load_snapshot()
    engine = Engine(snapshot)
    return snapshot.info.build_id, tuple(fingerprint(engine.answer(q)) for q in QUESTIONS)


@dataclass(frozen=True, slots=True)
class RawState:
    """The database as the kill left it, seen by plain sqlite3 before any cleanup."""

    integrity: list[str]
    active: str | None
    builds: list[tuple[str, str, int, int]]  # build_id, state, declared passages, rows


def raw_state(database: Path) -> RawState:
    with closing(sqlite3.connect(database)) as conn:
        integrity = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
        row = conn.execute("SELECT value FROM meta WHERE key = 'active_build'").fetchone()
        builds = conn.execute(
            "SELECT b.build_id, b.state, b.passages,"
            " (SELECT COUNT(*) FROM passages p WHERE p.build_id = b.build_id)"
            " FROM builds b ORDER BY b.built_at"
        ).fetchall()
    return RawState(
        integrity,
        str(row[0]) if row else None,
        [(str(b), str(s), int(n), int(c)) for b, s, n, c in builds],
    )


def integrity(database: Path) -> list[str]:
    with closing(sqlite3.connect(database)) as conn:
        return [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]


def classify(state: RawState, old_build: str, child_seen: bool, returncode: int | None) -> str:
    """Where in the reindex the kill landed, from the process group and the database."""
    if returncode == 0:
        return "finished"
    others = [b for b in state.builds if b[0] != old_build]
    if state.active is not None and state.active != old_build:
        old_left = any(b[0] == old_build for b in state.builds)
        return "activation" if old_left else "activated"
    if others:
        _, _, declared, rows = others[-1]
        return "written" if rows == declared else "store"
    return "build" if child_seen else "start"


async def check_database(database: Path, prep: Prepared) -> tuple[str, str | None]:
    """(outcome, failure reason or None) for a database after a kill."""
    try:
        storage = await IndexStore.open(database)
    except StorageError as exc:
        return "broken", f"IndexStore.open failed: {exc}"
    async with storage:
        try:
            builds = await storage.builds()
            active = await storage.active_build_id()
            snapshot = await storage.load_snapshot()
        except StorageError as exc:
            return "broken", f"cannot load the active build: {exc}"
    if [(b.build_id, b.state) for b in builds] != [(active, "ready")]:
        left = [(b.build_id, b.state) for b in builds]
        return "broken", f"after opening, builds are {left}, active {active}"
    engine = Engine(snapshot)
    if active == prep.old_build:
        answers = tuple(fingerprint(engine.answer(q)) for q in QUESTIONS)
        if answers != prep.baseline:
            changed = [
                q for q, a, b in zip(QUESTIONS, answers, prep.baseline, strict=True) if a != b
            ]
            return "old", f"old build answers differently from the baseline: {changed}"
        return "old", None
    if snapshot.info.passages != prep.new_passages or len(snapshot.passages) != prep.new_passages:
        return "broken", (
            f"active build {active} has {snapshot.info.passages} passages declared and "
            f"{len(snapshot.passages)} stored, expected {prep.new_passages}"
        )
    answer = engine.answer(QUESTIONS[0])
    if not answer.answered or not all(r.quote and r.quote in r.passage for r in answer.results):
        return "new", f"the new build does not answer {QUESTIONS[0]!r} ({answer.reason})"
    return "new", None


# --- preparation and trials ------------------------------------------------------------------


def prepare(workdir: Path, seed: int = 0, articles: Path = DEFAULT_ARTICLES) -> Prepared:
    """The pristine database, the baseline answers, the second corpus, and T."""
    workdir.mkdir(parents=True, exist_ok=True)
    old_dir = workdir / "articles-old"
    new_dir = workdir / "articles-new"
    shutil.rmtree(old_dir, ignore_errors=True)
    shutil.rmtree(new_dir, ignore_errors=True)
    shutil.copytree(articles, old_dir)
    write_corpus(synthetic_articles(NEW_PASSAGES, old_dir, seed=42 + seed), new_dir)
    articles, skipped = load_articles(new_dir)
    if skipped:
        raise PreparationError(f"the synthetic corpus has unreadable files: {skipped}")
    new_passages = sum(len(a.passages) for a in articles)

    pristine = workdir / "pristine" / DB_NAME
    pristine.parent.mkdir(parents=True, exist_ok=True)
    remove_database(pristine)
    run_bot(workdir, pristine, old_dir, "reindex", "--seeds", str(old_dir))
    checkpoint(pristine)

    reference = workdir / "baseline" / DB_NAME
    copy_database(pristine, reference)
    old_build, baseline = asyncio.run(baseline_answers(reference))
    if not all(answered for answered, _ in baseline):
        raise PreparationError("the articles' index does not answer the baseline questions")

    timing = workdir / "timing" / DB_NAME
    copy_database(pristine, timing)
    duration = run_bot(workdir, timing, old_dir, "reindex", "--seeds", str(new_dir))
    state = raw_state(timing)
    if state.active in (None, old_build) or [b[3] for b in state.builds] != [new_passages]:
        raise PreparationError(f"the timing reindex did not store the new build: {state}")
    shutil.rmtree(reference.parent)
    shutil.rmtree(timing.parent)
    return Prepared(
        workdir, pristine, old_dir, new_dir, old_build, new_passages, baseline, duration
    )


def kill_delays(trials: int, duration: float, rng: random.Random) -> list[float]:
    """Stratified: one random point in each of ``trials`` equal slices of [0, T], shuffled."""
    delays = [duration * (i + rng.random()) / trials for i in range(trials)]
    rng.shuffle(delays)
    return delays


def run_trial(
    prep: Prepared, number: int, delay: float = 0.0, point: str | None = None
) -> TrialResult:
    """One reindex of the new corpus, killed ``delay`` seconds after its start, or by
    itself at the crash point ``point``; then the database is checked."""
    trial_dir = prep.workdir / "trials" / f"{number:03d}"
    database = trial_dir / DB_NAME
    copy_database(prep.pristine, database)
    env = environment(database, prep.workdir, prep.old_dir)
    if point is not None:
        env[CRASH_ENV] = point
    with open(trial_dir / "reindex.log", "wb") as log:
        proc = subprocess.Popen(
            bot_command("reindex", "--seeds", str(prep.new_dir)),
            cwd=prep.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        pgid = proc.pid  # its own session, so its own process group
        try:
            if point is not None:  # it kills itself (or its child does) at the point
                returncode = proc.wait(timeout=TIMEOUT)
                child_seen, exited_before = True, False
            else:
                time.sleep(delay)  # the random moment of the kill
                child_seen = any(
                    "spawn_main" in c or "forkserver" in c for c in group_commands(pgid)
                )
                exited_before = proc.poll() is not None
                with contextlib.suppress(ProcessLookupError):  # gone already
                    os.killpg(pgid, signal.SIGKILL)
                returncode = proc.wait(timeout=TIMEOUT)
        finally:
            with contextlib.suppress(ProcessLookupError):  # never leave a reindex behind
                os.killpg(pgid, signal.SIGKILL)
            if proc.poll() is None:
                proc.wait(timeout=TIMEOUT)
    code = returncode if exited_before else None
    log_text = (trial_dir / "reindex.log").read_text(encoding="utf-8", errors="replace")

    def result(phase: str, outcome: str, reason: str | None) -> TrialResult:
        return TrialResult(
            number,
            delay,
            delay / prep.duration if prep.duration else 0.0,
            phase,
            outcome,
            reason is None,
            reason or "ok",
            code,
            point,
        )

    if exited_before and returncode != 0:
        return result("finished", "broken", f"reindex failed on its own: {log_text.strip()}")
    if point is not None and not killed_at_point(returncode, log_text):
        return result(
            "unknown",
            "broken",
            f"the reindex was not killed at {point} (exit status {returncode}): "
            f"{log_text.strip()[-500:]}",
        )
    if not wait_for_lock_release(database):
        return result("unknown", "broken", "the killed reindex still holds the reindex lock")
    try:
        state = raw_state(database)
    except sqlite3.Error as exc:
        return result("unknown", "broken", f"sqlite3 cannot read the database: {exc}")
    phase = classify(state, prep.old_build, child_seen, code)
    if state.integrity != ["ok"]:
        return result(phase, "broken", f"integrity_check after the kill: {state.integrity}")
    outcome, reason = asyncio.run(check_database(database, prep))
    if reason is None and (after := integrity(database)) != ["ok"]:
        reason = f"integrity_check after opening: {after}"
    if reason is None and point is not None and outcome != EXPECTED[point]:
        reason = f"a kill at {point} must leave the {EXPECTED[point]} build active"
    if reason is None:
        shutil.rmtree(trial_dir, ignore_errors=True)  # keep only failed trials to look at
    return result(phase, outcome, reason)


def killed_at_point(returncode: int, log_text: str) -> bool:
    """Whether the crash point fired: the CLI itself died of SIGKILL (parent points), or
    it reported that its reindex child did (child points)."""
    return returncode == -signal.SIGKILL or (
        returncode == 1 and f"exit code -{int(signal.SIGKILL)}" in log_text
    )


def run_named_points(
    prep: Prepared, report: Callable[[TrialResult], None] | None = None
) -> list[TrialResult]:
    """One kill at each named crash point, in the order a reindex reaches them."""
    results = []
    for number, point in enumerate(CRASH_POINTS, 1):
        results.append(run_trial(prep, number, point=point))
        if report is not None:
            report(results[-1])
    return results


def run_random_kills(
    prep: Prepared,
    trials: int,
    seed: int = 0,
    report: Callable[[TrialResult], None] | None = None,
    first_number: int = 1,
) -> list[TrialResult]:
    """``trials`` kills at random moments of the reindex (stratified over [0, T])."""
    rng = random.Random(seed)
    results: list[TrialResult] = []
    delays = kill_delays(trials, prep.duration, rng)
    for number, delay in enumerate(delays, first_number):
        results.append(run_trial(prep, number, delay))
        if report is not None:
            report(results[-1])
    return results


def run_trials(
    trials: int,
    workdir: Path,
    seed: int = 0,
    report: Callable[[TrialResult], None] | None = None,
    articles: Path = DEFAULT_ARTICLES,
) -> list[TrialResult]:
    """Prepare under ``workdir``, kill at every named point and at ``trials`` random
    moments; one result per kill."""
    if trials < 0:
        raise ValueError("trials must not be negative")
    prep = prepare(workdir, seed, articles)
    if report is not None:
        print(
            f"prepared: pristine build {prep.old_build}, new corpus "
            f"{prep.new_passages} passages, one full reindex takes T = {prep.duration:.2f} s",
            flush=True,
        )
    named = run_named_points(prep, report)
    return named + run_random_kills(prep, trials, seed, report, len(named) + 1)


def summary(results: Sequence[TrialResult]) -> str:
    passed = sum(r.passed for r in results)
    text = f"{passed}/{len(results)} trials passed"
    named = [r for r in results if r.point]
    if named:
        text += "; named points: " + ", ".join(f"{r.point} {r.outcome}" for r in named)
    randoms = [r for r in results if not r.point]
    if randoms:
        outcomes = Counter(r.outcome for r in randoms)
        phases = Counter(r.phase for r in randoms)
        order = ("start", "build", "store", "written", "activation", "activated", "finished")
        phase_text = ", ".join(
            [f"{p} {phases[p]}" for p in order if phases[p]]
            + [f"{p} {n}" for p, n in phases.items() if p not in order]
        )
        text += (
            f"; random kills: outcome old {outcomes['old']}, new {outcomes['new']}, "
            f"broken {outcomes['broken']}; phases: {phase_text}"
        )
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--trials", type=int, default=50, help="kills at random moments (default 50)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed for the kill points")
    parser.add_argument(
        "--articles",
        type=Path,
        default=DEFAULT_ARTICLES,
        help="the articles of the old index (default: the tests' copy of the seeds)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="keep everything here (default: a temporary directory, removed at the end)",
    )
    args = parser.parse_args(argv)
    if args.trials < 0:
        parser.error("--trials must not be negative")
    temporary = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="crash-reindex-")) if temporary else args.workdir
    try:
        results = run_trials(
            args.trials,
            workdir,
            args.seed,
            lambda r: print(r.line(), flush=True),
            args.articles,
        )
    except PreparationError as exc:
        print(f"error: preparation failed: {exc}", file=sys.stderr)
        return 2
    finally:
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)
    print(summary(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
