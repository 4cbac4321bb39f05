"""Benchmarks: commands that print measured tables (see docs/benchmarks.md)."""
