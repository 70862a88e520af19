"""The demo: a deterministic district with its boundaries, register, network, sites and workers.

Generators only, for the README, the benchmarks and the tests; the product never imports them.
"""
