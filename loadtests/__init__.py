"""Benchmarks and load scenarios: ``python -m loadtests.run`` (pages and search with wrk),
``python -m loadtests.payments`` (purchases per second) and ``locustfile.py`` (Locust)."""
