"""CAMARA's own test definitions (the ``.feature`` files beside the documents) run against the
gateway, with the sandbox as the carrier. Skips, saying why, when the documents are absent."""

from __future__ import annotations

import os

import pytest

from apps.gateway.tests.camara import documents

if not documents.available():
    pytest.skip(documents.MISSING, allow_module_level=True)

from pytest_bdd import scenarios

pytestmark = pytest.mark.django_db

# CAMARA_FEATURES narrows the run to some documents' features ("sim-swap-*.feature").
for feature in sorted(
    documents.documents_dir().glob(os.environ.get("CAMARA_FEATURES") or "*.feature")
):
    scenarios(str(feature))
