"""Answer-quality evaluation: hit@1, hit@3, MRR, quote@1 and abstention on a JSONL set.

Each line: ``{"id", "question", "expect_any": [German phrases], "answerable": bool,
"lang": "en"|"de"}``. A result is a hit when its passage or its quote contains one of
``expect_any``; *quote@1* asks more: the first result's quote itself holds one, since the
quote is what a reader reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from index.engine import Engine
from index.records import Answer

EVAL_DEPTH = 10


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    id: str
    question: str
    expect_any: tuple[str, ...]
    answerable: bool
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class EvalOutcome:
    question: EvalQuestion
    answer: Answer
    rank: int | None  # 1-based rank of the first hit; None when no result hits
    quote_hit: bool = False  # the first result's quote holds an expected phrase

    @property
    def abstained(self) -> bool:
        return not self.answer.answered


@dataclass
class EvalReport:
    outcomes: list[EvalOutcome] = field(default_factory=list)

    @property
    def answerable(self) -> list[EvalOutcome]:
        return [o for o in self.outcomes if o.question.answerable]

    @property
    def unanswerable(self) -> list[EvalOutcome]:
        return [o for o in self.outcomes if not o.question.answerable]

    def _share(self, hits: int, total: int) -> float:
        return hits / total if total else 0.0

    @property
    def hit_at_1(self) -> float:
        return self._share(sum(o.rank == 1 for o in self.answerable), len(self.answerable))

    @property
    def hit_at_3(self) -> float:
        hits = sum(o.rank is not None and o.rank <= 3 for o in self.answerable)
        return self._share(hits, len(self.answerable))

    @property
    def mrr(self) -> float:
        ranks = [1 / o.rank if o.rank else 0.0 for o in self.answerable]
        return sum(ranks) / len(ranks) if ranks else 0.0

    @property
    def quote_at_1(self) -> float:
        return self._share(sum(o.quote_hit for o in self.answerable), len(self.answerable))

    @property
    def false_abstentions(self) -> int:
        return sum(o.abstained for o in self.answerable)

    @property
    def correct_abstentions(self) -> int:
        return sum(o.abstained for o in self.unanswerable)

    @property
    def abstention_precision(self) -> float:
        abstained = self.false_abstentions + self.correct_abstentions
        return self._share(self.correct_abstentions, abstained) if abstained else 1.0

    @property
    def abstention_recall(self) -> float:
        return (
            self._share(self.correct_abstentions, len(self.unanswerable))
            if (self.unanswerable)
            else 1.0
        )

    @property
    def misses(self) -> list[EvalOutcome]:
        wrong = [o for o in self.answerable if o.rank != 1]
        return wrong + [o for o in self.unanswerable if not o.abstained]

    def summary(self) -> dict[str, float | int]:
        return {
            "questions": len(self.outcomes),
            "answerable": len(self.answerable),
            "unanswerable": len(self.unanswerable),
            "hit@1": round(self.hit_at_1, 4),
            "hit@3": round(self.hit_at_3, 4),
            "mrr": round(self.mrr, 4),
            "quote@1": round(self.quote_at_1, 4),
            "abstention_precision": round(self.abstention_precision, 4),
            "abstention_recall": round(self.abstention_recall, 4),
            "false_abstentions": self.false_abstentions,
            "correct_abstentions": self.correct_abstentions,
        }

    def by_language(self) -> dict[str, EvalReport]:
        """The report split by the questions' language (``lang``; "?" where unset)."""
        out: dict[str, EvalReport] = {}
        for o in self.outcomes:
            out.setdefault(o.question.lang or "?", EvalReport()).outcomes.append(o)
        return dict(sorted(out.items()))


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a JSONL question set; a malformed line raises ValueError naming the line."""
    out: list[EvalQuestion] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                EvalQuestion(
                    id=str(row.get("id", number)),
                    question=str(row["question"]),
                    expect_any=tuple(row.get("expect_any", ())),
                    answerable=bool(row.get("answerable", True)),
                    lang=row.get("lang"),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a question record ({exc})") from None
    return out


def first_hit(answer: Answer, expect_any: Iterable[str]) -> int | None:
    """Rank of the first result whose passage or quote contains an expected phrase."""
    phrases = tuple(expect_any)
    for result in answer.results:
        if any(p in result.passage or p in result.quote for p in phrases):
            return result.rank
    return None


# (question, ranking, abstain) → the answer given: see ``evaluate``.
AskedBefore = dict[tuple[str, str, bool], Answer]


def evaluate(
    engine: Engine,
    questions: Iterable[EvalQuestion],
    ranking: str = "hybrid",
    abstain: bool = True,
    asked: AskedBefore | None = None,
) -> EvalReport:
    """Ask every question; answerable ones are scored on the top ``EVAL_DEPTH`` results.

    ``ranking`` is the engine's ("hybrid", "lexical" or "dense"); without ``abstain``
    every question is answered (what ``scripts/calibrate.py`` fits the abstention on).
    Sets that share questions (xquad-dev's paragraph and answer files) can share
    ``asked``, a dict of the answers given so far: each question is then asked once.
    """
    report = EvalReport()
    for q in questions:
        key = (q.question, ranking, abstain)
        answer = asked.get(key) if asked is not None else None
        if answer is None:
            answer = engine.answer(q.question, k=EVAL_DEPTH, abstain=abstain, ranking=ranking)
            if asked is not None:
                asked[key] = answer
        rank = first_hit(answer, q.expect_any) if answer.answered else None
        quote_hit = bool(
            answer.answered
            and answer.results
            and any(p in answer.results[0].quote for p in q.expect_any)
        )
        report.outcomes.append(EvalOutcome(q, answer, rank, quote_hit))
    return report
