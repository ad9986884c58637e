"""Benchmarks (not tests): interaction latency in a real browser, cold start, memory, compute speed."""
