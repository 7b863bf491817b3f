"""Benchmarks and load runs: ``python -m benchmarks.bench`` (speed and memory against
rank-bm25 and SQLite FTS5) and ``python -m benchmarks.soak`` (questions through the local
Discord stand-in); their figures are the JSON files beside them. Not part of the product.
"""
