"""Settings modules: ``base`` (environment-driven), ``test`` and ``sandbox``."""
