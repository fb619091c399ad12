"""REST API of bulk distribution."""
