"""CAMARA-style capability views served from the site root (see ``capability_urls``)."""
