"""Benchmarks and load scenarios: ``python -m loadtests.run`` (wrk) and ``locustfile.py`` (Locust)."""
