"""Benchmarks: each prints its figures beside floors measured in the same run."""
