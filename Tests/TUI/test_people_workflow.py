"""Undo in the people view end to end: photos detected through the real Triton CPU backend,
`facescope cluster`, then the browser in tmux: a merge and a rename undone with z, the status
line saying what was undone, and the store back as it was (faces' labels and both names)."""
from __future__ import annotations

import json

from test_browser_names import detect_and_cluster
from test_people import list_part, people, person_row
from test_tui import REDIS_URL, browse_args, facescope, prefix, tuis
from test_tui import pytestmark  # noqa: F401  (the same skips)

__all__ = ["prefix", "tuis"]

PHOTOS = ["faces/portrait-grace-hopper.jpg", "faces/portrait-astronaut.png"]


def labels(prefix: str) -> dict[str, list]:
    found = {}
    for photo in PHOTOS:
        done = facescope("show", photo, "--json", "--redis-url", REDIS_URL, "--key-prefix", prefix)
        assert done.returncode == 0, done.stderr
        found[photo] = [(f["label"], f.get("label_fixed", False)) for f in json.loads(done.stdout)["faces"]]
    return found


def test_undo_merge_and_rename(prefix, tuis):
    detect_and_cluster(prefix, PHOTOS)
    before = people(prefix)
    assert len(before) == 2, before
    label_of = {p["example"]: p["label"] for p in before}
    grace, astronaut = label_of[PHOTOS[0]], label_of[PHOTOS[1]]
    stored_before = labels(prefix)

    tui = tuis(*browse_args(prefix))
    tui.wait("grace-hopper.jpg", "the list")
    tui.keys("p")
    tui.wait(lambda s: person_row(grace, 1, "-")(s) and person_row(astronaut, 1, "-")(s), "the people")
    # Nothing done yet: z says so.
    tui.keys("z")
    tui.wait("nothing to undo", "nothing to undo")
    # Name the astronaut, then merge Grace into her.
    tui.keys(*["j"] * [p["label"] for p in before].index(astronaut))
    tui.wait(f"person {astronaut} · 1 face", "the astronaut selected")
    tui.keys("e")
    tui.wait(f"Name for person {astronaut}:", "the rename prompt")
    tui.type("Sally Ride")
    tui.keys("Enter")
    tui.wait(person_row(astronaut, 1, "Sally Ride"), "the new name")
    tui.keys("g", *["j"] * [p["label"] for p in before].index(grace))
    tui.wait(f"person {grace} · 1 face", "Grace selected")
    tui.keys("M")
    tui.wait(f"Merge person {grace} into label:", "the merge prompt")
    tui.type(str(astronaut))
    tui.keys("Enter")
    tui.wait(lambda s: f'into person {astronaut} "Sally Ride"?' in s and "y merge" in s, "the confirmation")
    tui.keys("y")
    tui.wait(person_row(astronaut, 2, "Sally Ride"), "the merged person")
    assert [p["label"] for p in people(prefix)] == [astronaut]

    # z: the merge is undone; both people are back with their faces and names.
    tui.keys("z")
    screen = tui.wait(lambda s: "undone: merged label" in s and person_row(grace, 1, "-")(s)
                      and person_row(astronaut, 1, "Sally Ride")(s), "the merge undone")
    assert f"merged label {grace} into {astronaut} (1 face)" in screen
    assert labels(prefix) == stored_before
    # z again: the rename is undone.
    tui.keys("z")
    tui.wait(lambda s: "undone: named label" in s and person_row(astronaut, 1, "-")(list_part(s)), "the rename undone")
    assert all(p["name"] is None for p in people(prefix))
    tui.keys("z")
    tui.wait("nothing to undo", "nothing left to undo")
