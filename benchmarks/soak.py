"""``python -m benchmarks.soak``: N questions through the local Discord stand-in to the real bot.

A mix of ``/ask``, mentions, ``/search`` and button clicks (👍, More results), a few in
flight at a time, all on 127.0.0.1. With faults on, the gateway socket is dropped three times
and one route gets a storm of 429s mid-run. Reports throughput, p50/p95 reply time, errors,
lost replies and RSS at start and end (after a warm-up). Bounded in count and time.

Reply times are reported, never judged: a reply is lost only if it has not arrived when the
run's generous overall ceiling (``deadline_s``) passes, however slow the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks.measure import percentile, rss_mb
from bot.app import NewsBot
from bot.cli import run_command
from bot.render import render
from bot.settings import Settings
from bot.startup import CliError, open_engine
from bot.state import BotState
from index.engine import Engine
from index.records import Snapshot
from index.store import IndexStore
from tests.support.standin import CHANNEL_MESSAGES_RE, DiscordStandIn, Request, capture_errors

QUESTIONS = (
    "What did the US commit to?",
    "Wer nahm an dem Treffen teil?",
    "What is Russia's position on foreign troops?",
    "Wie reagiert der Kreml auf ausländische Truppen?",
    "What did Germany promise on air defence?",
    "Wird die Bundeswehr Soldaten schicken?",
    "What did Zelensky ask arms manufacturers to do?",
    "Where would the troops be stationed?",
    "Was hat Macron über einen Krieg gegen Russland gesagt?",
    "What did China say about the talks?",
    "Who are the US envoys?",
    "Was sagte Regierungssprecher Kornelius?",
)
WARM_UP_SHARE = 0.05


@dataclass
class SoakReport:
    questions: int
    replies: int = 0
    lost: int = 0
    errors: int = 0
    seconds: float = 0.0
    throughput_per_s: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    max_ms: float = 0.0
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    rss_growth_pct: float = 0.0
    resumes: int = 0
    rate_limited: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def soak(
    n_questions: int,
    snapshot: Snapshot,
    workdir: Path,
    *,
    faults: bool = True,
    concurrency: int = 8,
    deadline_s: float = 3600.0,
) -> SoakReport:
    """Run the soak against a fresh database holding ``snapshot``; returns the report.

    ``deadline_s`` is a ceiling for the whole run, far above its usual time (10,000
    questions take under a minute): questions without a reply by then count as lost.
    """
    report = SoakReport(questions=n_questions)
    async with (
        await IndexStore.open(workdir / "soak.sqlite3") as storage,
        DiscordStandIn(request_limit=4 * concurrency + 200) as api,
    ):
        await storage.save_snapshot(snapshot)
        engine = Engine(await storage.load_snapshot())
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_path=workdir / "soak.sqlite3",
            articles_dir=workdir,
            cache_dir=workdir / "cache",
            glossary_path=None,
            ask_cooldown_seconds=0,
            ask_channel_ids=[],
            message_content_intent=False,
            max_question_chars=500,
            dev_guild_id=api.guild.id,
            discord_token=None,
        )
        state = await BotState.on(storage.database)
        bot = NewsBot(settings, storage, state, engine, guild_ready_timeout=0.1)
        with capture_errors(("discord", "newsbot", "asyncio")) as errors:
            async with api.running(bot):
                await _drive(api, report, n_questions, faults, concurrency, deadline_s)
        report.errors += len(errors.records) + len(api.internal_errors)
        report.error_samples += [r.getMessage()[:200] for r in errors.records[:5]]
        report.error_samples += api.internal_errors[:5]
        report.resumes = api.resume_count
        report.rate_limited = api.faults_served
    return report


async def _drive(
    api: DiscordStandIn,
    report: SoakReport,
    n: int,
    faults: bool,
    concurrency: int,
    deadline_s: float,
) -> None:
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    last_answer: dict[str, Any] = {}
    fault_at = (
        {
            int(n * q): kind
            for q, kind in ((0.25, "drop"), (0.4, "storm"), (0.5, "drop"), (0.75, "drop"))
        }
        if faults
        else {}
    )
    warm_up = max(int(n * WARM_UP_SHARE), 1)
    began = time.perf_counter()

    async def one(i: int) -> None:
        question = QUESTIONS[i % len(QUESTIONS)]
        kind = (
            "ask",
            "ask",
            "ask",
            "ask",
            "mention",
            "mention",
            "search",
            "thumbs",
            "more",
            "ask",
        )[i % 10]
        if kind in {"thumbs", "more"} and not last_answer:
            kind = "ask"
        report.kinds[kind] = report.kinds.get(kind, 0) + 1
        async with gate:
            started = time.perf_counter()
            reply = await _exchange(api, kind, question, last_answer)  # however long it takes
            latencies.append((time.perf_counter() - started) * 1000)
            report.replies += 1
            if (
                kind == "ask"
                and isinstance(reply.response, dict)
                and reply.response.get("components")
            ):
                last_answer.clear()
                last_answer.update(reply.response)

    async def ask_all() -> None:
        tasks: list[asyncio.Task[None]] = []
        try:
            for i in range(n):
                if i == warm_up:
                    await asyncio.gather(*tasks)
                    tasks.clear()
                    gc.collect()
                    report.rss_start_mb = round(rss_mb(), 1)
                action = fault_at.get(i)
                if action == "drop":
                    await api.drop_connection(4000)
                elif action == "storm":
                    api.fail_next(
                        "POST",
                        r"/interactions/\d+/[^/]+/callback",
                        status=429,
                        retry_after=0.02,
                        times=25,
                    )
                tasks.append(asyncio.create_task(one(i)))
                if len(tasks) >= concurrency * 4:
                    await asyncio.gather(*tasks)
                    tasks.clear()
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()

    try:
        async with asyncio.timeout(deadline_s):
            await ask_all()
    except TimeoutError:
        pass
    report.lost = n - report.replies
    if report.lost:
        report.error_samples.append(
            f"lost: {report.lost} questions had no reply when the {deadline_s:.0f} s ceiling "
            "of the run passed"
        )
    report.seconds = round(time.perf_counter() - began, 2)
    gc.collect()
    report.rss_end_mb = round(rss_mb(), 1)
    if report.rss_start_mb:
        report.rss_growth_pct = round(100 * (report.rss_end_mb / report.rss_start_mb - 1), 2)
    ordered = sorted(latencies)
    report.p50_ms = round(percentile(ordered, 0.5), 1)
    report.p95_ms = round(percentile(ordered, 0.95), 1)
    report.max_ms = round(ordered[-1], 1) if ordered else 0.0
    report.throughput_per_s = round(report.replies / report.seconds, 1) if report.seconds else 0


async def _exchange(
    api: DiscordStandIn, kind: str, question: str, last_answer: dict[str, Any]
) -> Request:
    """Send one user action and wait for the bot's reply to it."""
    if kind in {"ask", "search"}:
        name, option = ("ask", "question") if kind == "ask" else ("search", "query")
        interaction = api.slash_command(name, {option: question})
        waiter = api.expect(lambda r: r.is_followup_for(interaction))
        await api.dispatch("INTERACTION_CREATE", interaction)
        return await waiter
    if kind == "mention":
        message = api.message_create(f"{api.bot_user.mention} {question}")

        def replied(r: Request) -> bool:
            ref = (r.json or {}).get("message_reference") if isinstance(r.json, dict) else None
            return (
                r.matched("POST", CHANNEL_MESSAGES_RE) is not None
                and isinstance(ref, dict)
                and str(ref.get("message_id")) == str(message["id"])
            )

        waiter = api.expect(replied)
        await api.dispatch("MESSAGE_CREATE", message)
        return await waiter
    custom_ids = [
        c["custom_id"]
        for row in last_answer.get("components", [])
        for c in row.get("components", [])
        if "custom_id" in c
    ]
    prefix = "nb:fb:" if kind == "thumbs" else "nb:more:"
    custom_id = next((c for c in custom_ids if c.startswith(prefix)), custom_ids[0])
    interaction = api.button_click(custom_id, dict(last_answer))
    if custom_id.startswith("nb:more:"):  # deferred, then the next page as a follow-up
        waiter = api.expect(lambda r: r.is_followup_for(interaction))
    else:
        waiter = api.expect(lambda r: r.is_callback_for(interaction))
    await api.dispatch("INTERACTION_CREATE", interaction)
    return await waiter


# --- the command -------------------------------------------------------------------------


async def soak_command(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """The soak over the index of the configured articles; exit 1 on any error or loss."""
    if not 1 <= args.questions <= 1_000_000:
        raise CliError("--questions must be between 1 and 1,000,000", 2)
    opened = await open_engine(settings)
    await opened.close()
    engine = opened.engine
    console.print(render("note.j2", "terminal", what="soak", questions=args.questions))
    with tempfile.TemporaryDirectory(prefix="newsbot-soak-") as tmp:
        report = await soak(args.questions, engine.snapshot, Path(tmp), faults=not args.no_faults)
    console.print(render("soak.j2", "terminal", r=report), highlight=False)
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2), encoding="utf-8")
    return 0 if report.errors == 0 and report.lost == 0 else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak",
        description="N questions through a local Discord stand-in to the real bot.",
    )
    parser.add_argument("--questions", type=int, default=1000, help="how many (default 1000)")
    parser.add_argument("--no-faults", action="store_true", help="no dropped sockets, no 429s")
    parser.add_argument("--json", type=Path, default=None, help="write the report to FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(soak_command, build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
