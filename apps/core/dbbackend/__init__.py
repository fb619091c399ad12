"""PostgreSQL backend that writes a transaction's audit events with one INSERT at its commit."""
