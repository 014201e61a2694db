"""One face moved to another person, or given a person of its own ("not this person"), on the
command line: faces numbered as 'show' prints them; unknown people and face numbers are errors
that change nothing."""
from __future__ import annotations

import json
import os

import pytest

from test_cli import FACESCOPE, REDIS_URL, run
from test_people_names import fs, labelled
from test_cli import store

pytestmark = pytest.mark.skipif(
    not (REDIS_URL and FACESCOPE) and os.environ.get("FACESCOPE_REQUIRE_SERVICES") != "1",
    reason="needs scripts/test.sh (FACESCOPE_TEST_REDIS_URL, FACESCOPE_BIN)",
)


def faces(prefix: str, name: str) -> list[dict]:
    shown = fs(prefix, "show", name, "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout.splitlines()[0])["faces"]


def test_move_and_apart(prefix):
    store(prefix, [labelled("a.jpg", 1, 2), labelled("b.jpg", 1), labelled("c.jpg", 5)])
    assert fs(prefix, "people", "rename", "2", "Grace Hopper").returncode == 0
    moved = fs(prefix, "people", "move", "a.jpg", "1", "grace")
    assert moved.returncode == 0, moved.stderr
    assert "to 2" in moved.stdout
    after = faces(prefix, "a.jpg")
    assert [f["label"] for f in after] == [2, 2]
    assert after[0].get("label_fixed") is True and "label_fixed" not in after[1]
    apart = fs(prefix, "people", "apart", "b.jpg", "1")
    assert apart.returncode == 0, apart.stderr
    # One above the largest label in use (5).
    assert "(6)" in apart.stdout
    assert [f["label"] for f in faces(prefix, "b.jpg")] == [6]
    assert faces(prefix, "b.jpg")[0].get("label_fixed") is True


def test_errors_change_nothing(prefix):
    store(prefix, [labelled("a.jpg", 1, 2)])
    unknown = fs(prefix, "people", "move", "a.jpg", "1", "Nobody At All")
    assert unknown.returncode == 1 and "no person named 'Nobody At All'" in unknown.stderr
    too_far = fs(prefix, "people", "move", "a.jpg", "3", "2")
    assert too_far.returncode == 1 and "'a.jpg' has 2 faces: FACE_NUMBER is 1 to 2" in too_far.stderr
    zero = fs(prefix, "people", "apart", "a.jpg", "0")
    assert zero.returncode == 1 and "FACE_NUMBER is 1 to 2" in zero.stderr
    missing = fs(prefix, "people", "apart", "nothere.jpg", "1")
    assert missing.returncode == 1 and "nothere.jpg" in missing.stderr
    assert [f["label"] for f in faces(prefix, "a.jpg")] == [1, 2]
    assert all("label_fixed" not in f for f in faces(prefix, "a.jpg"))


def test_help_teaches():
    for sub, words in (("move", ["FACE_NUMBER", "label_fixed", "facescope people move"]),
                       ("apart", ["new label", "facescope people apart"])):
        shown = run("people", sub, "--help")
        assert shown.returncode == 0
        for word in words:
            assert word in shown.stdout, (sub, word)
