"""The list's width (< and >), the list-only layout (w), re-detection replacing labels, and the
probability written the same way in the browser and in `facescope show`, end to end in tmux
(helpers from test_tui.py)."""
from __future__ import annotations

import json
import re

from test_tui import REDIS_URL, browse_args, detected, facescope, prefix, store, tuis
from test_tui import pytestmark  # noqa: F401  (the same skips)

__all__ = ["detected", "prefix", "tuis"]


def separator_at(screen: str, column: int) -> bool:
    """Whether the line between list and preview is at `column` on the first list row."""
    rows = screen.split("\n")
    return len(rows) > 2 and rows[2][column:column + 1] == "│"


def test_list_width_changes_in_steps_at_80x24_and_120x40_and_list_only(prefix, detected, tuis):
    store(prefix, detected)
    tui = tuis(*browse_args(prefix))
    tui.wait(lambda s: "no-faces/starry-night.jpg" in s and separator_at(s, 48), "the list, 48 columns wide")
    tui.keys(">")
    tui.wait(lambda s: separator_at(s, 54) and "list 45% of the width" in s, "a wider list")
    tui.keys("<", "<")
    tui.wait(lambda s: separator_at(s, 42) and "list 35% of the width" in s, "a narrower list")
    # A resize keeps the share: 35% of 80 columns, within its bounds.
    tui.tmux("resize-window", "-t", "main", "-x", "80", "-y", "24")
    tui.wait(lambda s: len(s.rstrip("\n").split("\n")) == 24 and separator_at(s, 29), "the list 29 columns at 80x24")
    tui.keys(">")
    tui.wait(lambda s: separator_at(s, 34) and "list 40% of the width" in s, "the list 34 columns at 80x24")
    # w: the list alone, the whole width; the preview (its title, its line) is gone.
    tui.keys("w")
    screen = tui.wait(lambda s: "list only" in s and "│" not in s, "the list-only layout")
    assert "faces/group-6-faces.jpg" in screen
    assert "faces · boxes" not in screen
    tui.keys("w")
    tui.wait(lambda s: separator_at(s, 34) and "list and preview" in s, "list and preview again")
    tui.tmux("resize-window", "-t", "main", "-x", "120", "-y", "40")
    tui.wait(lambda s: separator_at(s, 48), "the share kept at 120x40")
    assert "facescope exited" not in tui.screen()


def test_probability_is_written_alike_in_the_face_detail_and_show(prefix, detected, tuis):
    store(prefix, detected)
    shown = facescope("show", "faces/group-6-faces.jpg", "--redis-url", REDIS_URL, "--key-prefix", prefix)
    assert shown.returncode == 0, shown.stderr
    first = re.search(r"#1\s+box \S+\s+probability (\d+%)", shown.stdout)
    assert first, shown.stdout
    doc = json.loads(facescope("show", "faces/group-6-faces.jpg", "--json", "--redis-url", REDIS_URL,
                               "--key-prefix", prefix).stdout)
    # JSON keeps the number; people read it with a percent sign.
    assert first.group(1) == f"{doc['faces'][0]['probability']}%"
    tui = tuis(*browse_args(prefix))
    tui.wait("faces/group-6-faces.jpg", "the list")
    tui.keys("Enter")
    tui.wait(lambda s: "Face 1 of 6" in s and f"probability {first.group(1)}   rotation" in s,
             "the same probability text in the face detail")


def test_replace_says_how_many_labels_it_drops_and_new_faces_get_people(prefix, tuis):
    wrong = {
        "pk": "", "filename": "faces/group-6-faces.jpg", "channels": 3, "height": 886, "width": 1280, "portrait": 0,
        "faces": [{"pk": "", "bbox": {"pk": "", "x1": 1110, "y1": 277, "x2": 1223, "y2": 390}, "probability": 50,
                   "label": 7, "rotation": None, "descriptors": None},
                  {"pk": "", "bbox": {"pk": "", "x1": 10, "y1": 10, "x2": 60, "y2": 60}, "probability": 40,
                   "label": 9, "rotation": None, "descriptors": None}],
    }
    store(prefix, [json.dumps(wrong)])
    tui = tuis(*browse_args(prefix))
    tui.wait(lambda s: re.search(r"group-6-faces\.jpg\s+2 1280x886", s), "the wrong count")
    tui.keys("r")
    tui.wait(lambda s: "Enter keep the people" in s and "dropping 2 labels" in s, "the prompt with the count")
    tui.keys("r")
    tui.wait(lambda s: "Re-detection finished" in s and "1/1 images" in s, "the run to finish", timeout=60)
    tui.wait(lambda s: re.search(r"group-6-faces\.jpg\s+6 1280x886", s), "the new count")
    tui.wait("new faces given a person", "the new faces clustered, said on the status line")
    shown = facescope("show", "faces/group-6-faces.jpg", "--json", "--redis-url", REDIS_URL, "--key-prefix", prefix)
    labels = [f["label"] for f in json.loads(shown.stdout)["faces"]]
    # Replacing dropped 7 and 9; every new face got a person of its own.
    assert len(labels) == 6 and None not in labels and len(set(labels)) == 6
