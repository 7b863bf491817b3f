"""A thread's earlier questions, carried into the current one as weaker concepts."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from index.concepts import Concept
from index.config import EngineConfig
from index.query import QueryBuilder


def carried_concepts(
    builder: QueryBuilder, own: Sequence[Concept], context: Sequence[str], config: EngineConfig
) -> tuple[Concept, ...]:
    """Concepts of earlier questions, weaker the older they are, minus repeats.

    A question that names its own subject ("And Germany?") replaces the earlier
    subject: then the earlier questions' names are not carried, only what was asked.
    """
    seen = {c.terms for c in own if c.terms}
    new_subject = any(c.entity for c in own)
    carried: list[Concept] = []
    for age, earlier in enumerate(reversed(context[-config.context_turns :])):
        weight = config.context_weight / (age + 1)
        for c in builder.build(earlier).concepts:
            if new_subject and c.entity:
                continue
            if c.terms and c.terms not in seen:
                seen.add(c.terms)
                carried.append(
                    dataclasses.replace(
                        c,
                        weight=c.weight * weight,
                        kind="context",
                        entity=False,
                        note=f"from “{earlier[:60]}”",
                    )
                )
    return tuple(carried)
