"""Names, the people filter and the browser's small conveniences end to end: the real binary in
tmux against the real Redis Stack and Triton CPU backend (helpers from test_tui.py)."""
from __future__ import annotations

import json
import re

from test_tui import DATA, REDIS_URL, TRITON_URL, browse_args, facescope, prefix, sgr_cells, tuis
from test_tui import pytestmark  # noqa: F401  (the same skips)

__all__ = ["prefix", "tuis"]

GRACE, ASTRONAUT = "faces/portrait-grace-hopper.jpg", "faces/portrait-astronaut.png"
BOX_COLOUR = 46


def detect_and_cluster(prefix: str, photos: list[str]) -> dict[str, int]:
    """Detects `photos` through Triton, clusters them; the label of each one-face photo."""
    done = facescope(
        "detect", *[str(DATA / p) for p in photos], "--images-dir", str(DATA), "--redis-url", REDIS_URL,
        "--key-prefix", prefix, "--triton-url", TRITON_URL,
    )
    assert done.returncode == 0, done.stderr
    done = facescope("cluster", "--redis-url", REDIS_URL, "--key-prefix", prefix)
    assert done.returncode == 0, done.stderr
    done = facescope("people", "--json", "--redis-url", REDIS_URL, "--key-prefix", prefix)
    assert done.returncode == 0, done.stderr
    return {p["example"]: p["label"] for p in map(json.loads, done.stdout.splitlines())}


def rename(prefix: str, label: int, name: str) -> None:
    done = facescope("people", "rename", "--redis-url", REDIS_URL, "--key-prefix", prefix, str(label), name)
    assert done.returncode == 0, done.stderr


def tag_text(tui, first_column: int = 49) -> str:
    """The text written in the box colour over the preview (the name tags), row by row."""
    rows = []
    for line in tui.screen(colours=True).split("\n")[1:-2]:
        rows.append("".join(ch for column, ch, fg, bg in sgr_cells(line)
                            if column >= first_column and bg == BOX_COLOUR and ch.isalnum()))
    return "\n".join(rows)


def test_names_on_boxes_and_in_the_face_detail(prefix, tuis):
    labels = detect_and_cluster(prefix, [GRACE, ASTRONAUT])
    grace = labels[GRACE]
    rename(prefix, grace, "Grace Hopper")

    tui = tuis(*browse_args(prefix))
    tui.wait("faces/portrait-astronaut", "the list")
    tui.keys("j")
    # The name on her box in the preview, in the box colour.
    tui.wait(lambda s: "Grace" in tag_text(tui), "Grace's name on her box")
    tui.keys("Enter")
    tui.wait(f"label {grace} · Grace Hopper", "the name beside the label in the face detail")
    tui.wait(lambda s: "GraceHopper" in tag_text(tui), "the whole name on the enlarged box")

    # Renamed in the browser: the face detail and the box follow.
    tui.keys("p")
    tui.wait(re.compile(rf"(?m)^\s+{grace}\s+1\s+Grace Hopper").search, "the people")
    for _ in range(5):
        if re.search(rf"person {grace} ", tui.screen()):
            break
        tui.keys("j")
    tui.wait(f"person {grace} ", "Grace highlighted")
    tui.keys("e")
    tui.wait(f"Name for person {grace}:", "the rename prompt")
    tui.keys("C-u")
    tui.type("Amazing Grace")
    tui.keys("Enter")
    tui.wait(re.compile(rf"(?m)^\s+{grace}\s+1\s+Amazing Grace").search, "the new name in the people")
    tui.keys("Escape")
    tui.wait(lambda s: "portrait-grace-hopper" in s and "people" not in s.split("\n")[0], "the images")
    tui.wait(lambda s: "Amazing" in tag_text(tui), "the new name on the box")
    tui.keys("Enter")
    tui.wait(f"label {grace} · Amazing Grace", "the new name in the face detail")
    assert "facescope exited" not in tui.screen()
