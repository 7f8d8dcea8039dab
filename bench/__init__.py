"""Benchmarks: measurement tools run by hand (``python -m bench.<name>``), never by the tests.

They time real processes over real HTTP, so their figures depend on the machine; the tests
stay free of timed assertions and these tools only report.
"""
