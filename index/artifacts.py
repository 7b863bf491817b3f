"""The format header of the binary artifacts stored with an index build, and of the caches.

An artifact (the compiled lexicon, the BM25 postings) starts with an 8-byte header: four
bytes of magic naming what it is, then its format version as a 4-byte big-endian unsigned
integer. A reader accepts only its own magic and version; anything else, an artifact
written before the formats carried a version included, is an ``ArtifactFormatError``,
which loading a build turns into "the index is stale: rebuild it" (and reading a cache
file into a miss, ``index.cache_files``). No reader guesses at an older layout.
"""

from __future__ import annotations

from dataclasses import dataclass

HEADER_SIZE = 8


class ArtifactFormatError(ValueError):
    """A stored artifact is not in the format this version reads: rebuild the index."""


@dataclass(frozen=True, slots=True)
class ArtifactFormat:
    """One kind of artifact: ``magic`` names it, ``version`` its layout (bump it whenever
    what ``to_bytes`` writes changes)."""

    name: str
    magic: bytes
    version: int

    def __post_init__(self) -> None:
        if len(self.magic) != 4:
            raise ValueError(f"the magic of {self.name} must be 4 bytes: {self.magic!r}")

    def wrap(self, payload: bytes) -> bytes:
        """``payload`` behind this format's header."""
        return self.magic + self.version.to_bytes(4, "big") + payload

    def unwrap(self, blob: bytes) -> bytes:
        """The payload of ``blob``, which must carry this format's header."""
        if len(blob) < HEADER_SIZE or blob[:4] != self.magic:
            raise ArtifactFormatError(
                f"the stored {self.name} has no {self.name} format header (written before "
                f"formats were versioned, or not a {self.name}); this version reads "
                f"format {self.version}: rebuild the index"
            )
        version = int.from_bytes(blob[4:HEADER_SIZE], "big")
        if version != self.version:
            raise ArtifactFormatError(
                f"{self.name} format {version} is not supported (this version reads "
                f"{self.version}); rebuild the index"
            )
        return blob[HEADER_SIZE:]
