"""People are named everywhere on the command line: commands take a label or a name (a unique
start of one), and unknown people or a merge of a person into themselves are errors."""
from __future__ import annotations

import json
import os

import pytest

from test_cli import FACESCOPE, REDIS_URL, doc, run, store

pytestmark = pytest.mark.skipif(
    not (REDIS_URL and FACESCOPE) and os.environ.get("FACESCOPE_REQUIRE_SERVICES") != "1",
    reason="needs scripts/test.sh (FACESCOPE_TEST_REDIS_URL, FACESCOPE_BIN)",
)


def fs(prefix: str, *args: str):
    return run(*args, "--redis-url", REDIS_URL, "--key-prefix", prefix)


def labelled(name: str, *labels: int) -> dict:
    d = doc(name, faces=len(labels))
    d["faces"] = [dict(d["faces"][0], label=label, bbox=dict(d["faces"][0]["bbox"], x1=10 * i, x2=10 * i + 5))
                  for i, label in enumerate(labels)]
    return d


def test_people_by_label_or_name(prefix):
    store(prefix, [labelled("a.jpg", 1, 2), labelled("b.jpg", 1), labelled("c.jpg", 3)])
    assert fs(prefix, "people", "rename", "1", "Barack Obama").returncode == 0
    assert fs(prefix, "people", "rename", "2", "Joe Biden").returncode == 0
    assert fs(prefix, "people", "rename", "3", "Joan Baez").returncode == 0
    # A name, a unique start of one, case and accents ignored.
    shown = fs(prefix, "people", "show", "Barack Obama", "--json")
    assert shown.returncode == 0, shown.stderr
    assert sorted(json.loads(l)["filename"] for l in shown.stdout.splitlines()) == ["a.jpg", "b.jpg"]
    assert fs(prefix, "people", "show", "joe").returncode == 0
    ambiguous = fs(prefix, "people", "show", "jo")
    assert ambiguous.returncode == 1 and "could be" in ambiguous.stderr and "Joan Baez (3)" in ambiguous.stderr
    # Unknown people and self-merges are errors, and change nothing.
    unknown = fs(prefix, "people", "rename", "999", "X")
    assert unknown.returncode == 1 and "no person with label 999" in unknown.stderr
    assert fs(prefix, "people", "show", "Nobody At All").returncode == 1
    same = fs(prefix, "people", "merge", "Barack", "1")
    assert same.returncode == 1 and "same person" in same.stderr
    # Names in show's face lines.
    show = fs(prefix, "show", "a.jpg")
    assert "label 1 (Barack Obama)" in show.stdout and "label 2 (Joe Biden)" in show.stdout
    merged = fs(prefix, "people", "merge", "Joan", "Joe Biden")
    assert merged.returncode == 0, merged.stderr
    assert "label 3 (Joe Biden)" not in fs(prefix, "show", "c.jpg").stdout
    assert "label 2 (Joe Biden)" in fs(prefix, "show", "c.jpg").stdout


def test_people_list_filters_by_face_count_and_names(prefix):
    store(prefix, [labelled("a.jpg", 1, 2), labelled("b.jpg", 1, 3), labelled("c.jpg", 1), labelled("d.jpg", 2)])
    assert fs(prefix, "people", "rename", "2", "Joe Biden").returncode == 0

    def listed(*flags: str) -> list[tuple[int, int]]:
        done = fs(prefix, "people", "list", "--json", *flags)
        assert done.returncode == 0, done.stderr
        return [(p["label"], p["faces"]) for p in map(json.loads, done.stdout.splitlines())]

    assert listed() == [(1, 3), (2, 2), (3, 1)]
    assert listed("--min-faces", "2") == [(1, 3), (2, 2)]
    assert listed("--min-faces", "3") == [(1, 3)]
    assert listed("--unnamed") == [(1, 3), (3, 1)]
    assert listed("--unnamed", "--min-faces", "2") == [(1, 3)]
    bad = fs(prefix, "people", "list", "--min-faces", "0")
    assert bad.returncode == 2 and "--min-faces must be 1 or more" in bad.stderr
