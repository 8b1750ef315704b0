"""Helpers the test folders share (not fixtures: each folder's conftest keeps its own)."""
