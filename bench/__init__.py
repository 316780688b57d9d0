"""Performance benchmarks: run by hand (`python -m bench.search`), never by the test suite.

Each prints a table and writes its figures to bench/results/*.json; bench/README.md quotes them.
"""
