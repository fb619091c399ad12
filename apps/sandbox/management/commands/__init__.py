"""``sandbox_serve``: prepare the sandbox database and serve it."""
