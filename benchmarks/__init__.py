"""Benchmarks run from outside the leadcore package (``python -m benchmarks.load``)."""
