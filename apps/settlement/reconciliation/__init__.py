"""Reconciliation of the providers' daily bills (T+1) with the platform's payments and book."""
