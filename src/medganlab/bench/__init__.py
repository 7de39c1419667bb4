"""Benchmarks (``make bench``): speed and quality numbers, printed and written to build/bench/."""
