"""The people view and "more like this" end to end: photos detected through the real Triton CPU
backend (which serves facerec, so faces get descriptors), `facescope cluster`, then the browser in
tmux (helpers from test_tui.py)."""
from __future__ import annotations

import json
import re

from test_tui import DATA, REDIS_URL, TRITON_URL, block_glyphs, browse_args, facescope, prefix, preview_cells, tuis
from test_tui import pytestmark  # noqa: F401  (the same skips)

__all__ = ["prefix", "tuis"]

PHOTOS = ["faces/group-6-faces.jpg", "faces/portrait-grace-hopper.jpg", "faces/portrait-astronaut.png"]
LIST_WIDTH = 48  # the list's columns on a 120-column screen


def people(prefix: str) -> list[dict]:
    done = facescope("people", "--json", "--redis-url", REDIS_URL, "--key-prefix", prefix)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def list_part(screen: str) -> str:
    return "\n".join(line[:LIST_WIDTH] for line in screen.split("\n"))


def person_row(label: int, faces: int, name: str):
    return lambda s: re.search(rf"(?m)^\s+{label}\s+{faces}\s+{re.escape(name)}\s*$", list_part(s))


def test_people_rename_merge_open_and_more_like_this(prefix, tuis):
    done = facescope(
        "detect", *[str(DATA / p) for p in PHOTOS], "--images-dir", str(DATA), "--redis-url", REDIS_URL,
        "--key-prefix", prefix, "--triton-url", TRITON_URL,
    )
    assert done.returncode == 0, done.stderr
    done = facescope("cluster", "--redis-url", REDIS_URL, "--key-prefix", prefix)
    assert done.returncode == 0, done.stderr
    before = people(prefix)
    assert len(before) == 8 and all(p["faces"] == 1 for p in before), before
    label_of = {p["example"]: p["label"] for p in before if p["example"] != PHOTOS[0]}
    grace, astronaut = label_of[PHOTOS[1]], label_of[PHOTOS[2]]

    tui = tuis(*browse_args(prefix))
    tui.wait("grace-hopper.jpg", "the list (names shortened in the middle)")
    # p: every person with a face count, no names yet; the example face in the preview.
    tui.keys("p")
    tui.wait(lambda s: "LABEL  FACES  NAME" in s and all(person_row(p["label"], 1, "-")(s) for p in before),
             "the people with their counts")
    tui.keys(*["j"] * [p["label"] for p in before].index(grace))
    tui.wait(lambda s: f"person {grace} · 1 face" in s and "faces/portrait-grace-hopper.jpg" in s, "Grace's face")
    tui.wait(lambda s: block_glyphs(preview_cells(tui, 49, range(2, 37))) > 100, "the face picture")

    # e: rename on a line prompt; the name shows in the list and in `facescope people`.
    tui.keys("e")
    tui.wait(f"Name for person {grace}:", "the rename prompt")
    tui.type("Grace Hopper")
    tui.keys("Enter")
    tui.wait(person_row(grace, 1, "Grace Hopper"), "the new name")
    assert {p["label"]: p["name"] for p in people(prefix)}[grace] == "Grace Hopper"

    # M: merge Grace into the astronaut, confirmed; the astronaut takes her name and has two faces.
    tui.keys("M")
    tui.wait(f"Merge person {grace} into label:", "the merge prompt")
    tui.type(str(astronaut))
    tui.keys("Enter")
    tui.wait(f'Merge person {grace} "Grace Hopper" (1 face) into person {astronaut}?', "the confirmation")
    tui.keys("y")
    tui.wait(person_row(astronaut, 2, "Grace Hopper"), "the merged person")
    after = {p["label"]: p for p in people(prefix)}
    assert grace not in after and after[astronaut]["faces"] == 2 and after[astronaut]["name"] == "Grace Hopper"

    # Enter: that person's images only; Esc comes back to the people.
    tui.keys("g", "Enter")
    screen = tui.wait(lambda s: f'person {astronaut} "Grace Hopper"' in s and "portrait-astronaut" in s
                      and "grace-hopper.jpg" in list_part(s), "the person's images")
    assert "group-6-faces" not in list_part(screen)
    tui.keys("Escape")
    tui.wait(person_row(astronaut, 2, "Grace Hopper"), "the people again")
    tui.keys("Enter")
    tui.wait(lambda s: "portrait-astronaut" in list_part(s), "the person's images again")

    # L on a face: the nearest faces with their distances; Enter shows one in its image.
    tui.keys("Enter")
    tui.wait("Face 1 of 1", "the face-detail view")
    tui.keys("L")
    # Waits for the whole list (a capture can catch the screen half painted), then checks it.
    screen = tui.wait(lambda s: "more like this" in s.split("\n")[0] and "DIST   FACE  IMAGE" in s
                      and len(re.findall(r"\d\.\d{3}\s+#\d+\s+faces/", list_part(s))) >= 7,
                      "the similar faces with distances")
    rows = re.findall(r"(\d\.\d{3})\s+#(\d+)\s+(faces/\S+)", list_part(screen))
    assert len(rows) == 7, rows  # every other face (8 in all); the face itself is left out
    distances = [float(d) for d, _, _ in rows]
    assert distances == sorted(distances)
    first_file = rows[0][2]
    tui.keys("Enter")
    tui.wait(lambda s: re.search(r"face \d of \d", s.split("\n")[0]) and first_file in s, "the face in its image")
    tui.keys("Escape")
    tui.wait(lambda s: "face " not in s.split("\n")[0] and "(more like this)" in s.split("\n")[0], "the image")
    tui.keys("Escape")
    tui.wait("DIST   FACE  IMAGE", "back to the similar faces")
    tui.keys("Escape")
    tui.wait("Face 1 of 1", "back to the face")
    assert "facescope exited" not in tui.screen()
