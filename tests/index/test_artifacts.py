"""The binary artifacts stored with a build carry a format header; other formats are refused."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

from index.artifacts import HEADER_SIZE, ArtifactFormat, ArtifactFormatError
from index.bm25 import POSTINGS_FORMAT, BM25Index
from index.lexicon import LEXICON_FORMAT, Lexicon
from index.records import Snapshot

# (format, the snapshot's artifact as bytes, a reader of such bytes)
ARTIFACTS: dict[
    str, tuple[ArtifactFormat, Callable[[Snapshot], bytes], Callable[[bytes], object]]
] = {
    "lexicon": (LEXICON_FORMAT, lambda s: s.lexicon.to_bytes(), Lexicon.from_bytes),
    "postings": (POSTINGS_FORMAT, lambda s: s.bm25.to_bytes(), BM25Index.from_bytes),
}


def with_version(blob: bytes, version: int) -> bytes:
    return blob[:4] + version.to_bytes(4, "big") + blob[HEADER_SIZE:]


def test_the_lexicon_round_trips(seed_snapshot: Snapshot) -> None:
    blob = seed_snapshot.lexicon.to_bytes()
    assert blob.startswith(b"NBLX" + LEXICON_FORMAT.version.to_bytes(4, "big"))
    assert Lexicon.from_bytes(blob) == seed_snapshot.lexicon


def test_the_postings_round_trip(seed_snapshot: Snapshot) -> None:
    bm25 = seed_snapshot.bm25
    blob = bm25.to_bytes()
    assert blob.startswith(b"NBPS" + POSTINGS_FORMAT.version.to_bytes(4, "big"))
    again = BM25Index.from_bytes(blob, bm25.params)
    assert again.terms == bm25.terms
    for name in ("ptr", "doc_ids", "tfs", "doc_len", "idf_array"):
        np.testing.assert_array_equal(getattr(again, name), getattr(bm25, name))


@pytest.mark.parametrize("artifact", ARTIFACTS)
@pytest.mark.parametrize("other", ["older", "newer", "largest"])
def test_another_format_version_is_refused(
    artifact: str, other: str, seed_snapshot: Snapshot
) -> None:
    form, write, read = ARTIFACTS[artifact]
    version = {"older": form.version - 1, "newer": form.version + 1, "largest": 2**32 - 1}[other]
    blob = with_version(write(seed_snapshot), version)
    expected = f"{artifact} format {version} is not supported (this version reads {form.version})"
    with pytest.raises(ArtifactFormatError, match=f"^{re.escape(expected)}; rebuild the index$"):
        read(blob)


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_a_blob_from_before_versioned_formats_is_refused(
    artifact: str, seed_snapshot: Snapshot
) -> None:
    """What the previous version wrote: the same payload, no header."""
    _, write, read = ARTIFACTS[artifact]
    with pytest.raises(ArtifactFormatError, match=f"no {artifact} format header"):
        read(write(seed_snapshot)[HEADER_SIZE:])


def test_one_artifact_is_not_read_as_another(seed_snapshot: Snapshot) -> None:
    with pytest.raises(ArtifactFormatError, match="no lexicon format header"):
        Lexicon.from_bytes(seed_snapshot.bm25.to_bytes())
    with pytest.raises(ArtifactFormatError, match="no postings format header"):
        BM25Index.from_bytes(seed_snapshot.lexicon.to_bytes())


def test_the_header_is_magic_then_a_big_endian_version() -> None:
    form = ArtifactFormat("thing", b"THNG", 7)
    assert form.wrap(b"payload") == b"THNG\x00\x00\x00\x07payload"
    assert form.unwrap(form.wrap(b"payload")) == b"payload"
    assert form.unwrap(form.wrap(b"")) == b""
    with pytest.raises(ArtifactFormatError):
        form.unwrap(b"THN")
    with pytest.raises(ValueError, match="4 bytes"):
        ArtifactFormat("thing", b"TOOLONG", 1)
