"""Benchmarks for DESIGN §11's budgets; run as modules (`python -m tests.bench.…`), not by pytest."""
