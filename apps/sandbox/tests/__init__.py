"""Tests of the sandbox, run against a real sandbox process over HTTP."""
