"""Benchmarks: the load driver (loadgen.py) and the benchmark suite (`python -m bench`)."""
