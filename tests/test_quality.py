"""The dev set must hold the quality bar of the answer-engine issue."""

from __future__ import annotations

import pytest

from index.engine import Engine
from index.evaluation import evaluate, load_questions
from tests.conftest import DEV_SET


def test_dev_set_quality_bar(seed_engine: Engine) -> None:
    if not DEV_SET.is_file():
        pytest.fail(f"dev set not found at {DEV_SET}; ../shared must sit beside the checkout")
    report = evaluate(seed_engine, load_questions(DEV_SET))
    summary = report.summary()
    assert report.hit_at_1 >= 0.90, summary
    assert report.hit_at_3 == 1.0, summary
    assert report.correct_abstentions == len(report.unanswerable) == 2, summary
    assert report.false_abstentions == 0, summary
