"""Bulk traffic distribution: enterprises send data packs to many numbers from one file."""
