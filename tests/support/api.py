"""The HTTP API under test (tests/api): the admin token its app is created with."""

from __future__ import annotations

ADMIN_TOKEN = "test-admin-token-0123456789"
