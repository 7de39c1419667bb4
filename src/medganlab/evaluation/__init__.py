"""Measuring generators: a reference finding classifier, its features, the Fréchet distance.

These are the course's *reference* tools: benchmarks use them, and notebook tests compare
students' own implementations against them. Notebooks build their graded versions themselves.
"""
