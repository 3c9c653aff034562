"""Benchmarks and evaluations that print figures: `make eval` (NLU quality and latency)."""
