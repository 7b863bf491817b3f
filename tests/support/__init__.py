"""Test machinery shared by the test suite and the benchmarks (not part of the product)."""
