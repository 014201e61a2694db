"""Shared fixtures of the command-line tests."""
from __future__ import annotations

import os
import uuid

import pytest


@pytest.fixture
def prefix():
    """A key prefix of the test's own; its documents, indexes and lookups are removed afterwards."""
    p = f"cli{uuid.uuid4().hex[:8]}:utils.Model:"
    yield p
    import redis

    r = redis.Redis.from_url(os.environ.get("FACESCOPE_TEST_REDIS_URL", ""))
    for name in (f"{p}index", f"facescope:{p}index"):
        try:
            r.execute_command("FT.DROPINDEX", name, "DD")
        except redis.ResponseError:
            pass
    # FaceScope's own keys start with facescope:{prefix}; the documents went with DROPINDEX DD.
    for key in r.scan_iter(match=f"facescope:{p}*"):
        r.delete(key)
    for key in r.scan_iter(match=f"{p}*"):
        r.delete(key)
