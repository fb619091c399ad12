"""Views of the sandbox: the carrier's JSON API (``api``) and the operator's pages (``pages``)."""
