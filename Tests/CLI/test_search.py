"""`facescope search` finds what people type: words of filenames, a person's name, one typo,
exact counts. Against the real Redis Stack."""
from __future__ import annotations

import json
import os

import pytest

from test_cli import FACESCOPE, REDIS_URL, doc, run, store

pytestmark = pytest.mark.skipif(
    not (REDIS_URL and FACESCOPE) and os.environ.get("FACESCOPE_REQUIRE_SERVICES") != "1",
    reason="needs scripts/test.sh (FACESCOPE_TEST_REDIS_URL, FACESCOPE_BIN)",
)

NAMES = ["examples/obama_and_biden.jpg", "examples/obama1.jpg", "IMG_000123.jpg", "pascal/2008_001009.jpg",
         "family/grandpaWedding.png", "trips/Café.jpg"]


def search(prefix: str, *args: str):
    return run("search", *args, "--redis-url", REDIS_URL, "--key-prefix", prefix)


def names(done) -> list[str]:
    return [json.loads(line)["filename"] for line in done.stdout.splitlines()]


def test_words_as_people_type_them(prefix):
    store(prefix, [doc(n) for n in NAMES])
    assert names(search(prefix, "biden", "--json")) == ["examples/obama_and_biden.jpg"]
    assert names(search(prefix, "000123", "--json")) == ["IMG_000123.jpg"]
    assert names(search(prefix, "2008", "--json")) == ["pascal/2008_001009.jpg"]
    assert names(search(prefix, "wedding", "--json")) == ["family/grandpaWedding.png"]
    assert names(search(prefix, "cafe", "--json")) == ["trips/Café.jpg"]
    assert search(prefix, "obama", "--count").stdout.strip() == "2"


def test_a_typo_shows_close_matches_and_says_so(prefix):
    store(prefix, [doc(n) for n in NAMES])
    done = search(prefix, "obma", "--json")
    assert done.returncode == 0, done.stderr
    assert "no exact match; showing close matches" in done.stderr
    assert sorted(names(done)) == ["examples/obama1.jpg", "examples/obama_and_biden.jpg"]
    nothing = search(prefix, "qqqqqq")
    assert nothing.returncode == 1 and "no image matches" in nothing.stdout


def test_a_persons_name_finds_their_photos(prefix):
    labelled = [dict(doc(n, faces=1)) for n in NAMES]
    labelled[2]["faces"] = [dict(labelled[2]["faces"][0], label=4)]
    store(prefix, labelled)
    renamed = run("people", "rename", "4", "Joe Biden", "--redis-url", REDIS_URL, "--key-prefix", prefix)
    assert renamed.returncode == 0, renamed.stderr
    assert sorted(names(search(prefix, "Joe Biden", "--json"))) == ["IMG_000123.jpg"]
    # "biden" is a filename word too: both.
    assert sorted(names(search(prefix, "biden", "--json"))) == ["IMG_000123.jpg", "examples/obama_and_biden.jpg"]


def test_empty_searches_are_usage_errors_and_counts_are_exact(prefix):
    store(prefix, [doc(f"DSC_{i:05d}.JPG") for i in range(300)] + [doc("other.jpg")])
    for text in ("", "  ", ".|"):
        done = search(prefix, text)
        assert done.returncode == 2, text
        assert "give a word to search for" in done.stderr
    # 300 different words start with 0: RediSearch's prefix expansion (200) would cut this short.
    assert search(prefix, "0*", "--count").stdout.strip() == "300"
    assert search(prefix, "dsc", "--count").stdout.strip() == "300"
    listed = search(prefix, "dsc")
    assert "(50 of 300)" not in listed.stdout and len(listed.stdout.splitlines()) == 301
