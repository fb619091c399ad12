"""The cluster tests run only under ``make test-cluster`` (CARRIERHUB_CLUSTER set, DATABASE_URL on
the Citus coordinator); the ordinary suite does not collect them."""

import os

collect_ignore_glob = [] if os.environ.get("CARRIERHUB_CLUSTER") else ["test_*.py"]
