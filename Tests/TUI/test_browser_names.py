"""Names, the people filter and the browser's small conveniences end to end: the real binary in
tmux against the real Redis Stack and Triton CPU backend (helpers from test_tui.py)."""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import time

from test_tui import DATA, REDIS_URL, TRITON_URL, browse_args, facescope, prefix, sgr_cells, store, tuis
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
    shown = tui.wait(lambda s: re.search(rf"(?m)^\s+{grace}\s+1\s+Grace Hopper", s) and len(people_rows(s)) == 2,
                     "the people")
    # From the first row down to hers, each key waited for (a key pressed before the screen
    # caught up would be counted twice).
    tui.keys("g")
    tui.wait(lambda s: "1/2" in s.split("\n")[-2], "the first person highlighted")
    for row in range([label for label, _, _ in people_rows(shown)].index(grace)):
        tui.keys("j")
        tui.wait(lambda s, n=row + 2: f"{n}/2" in s.split("\n")[-2], "the next person")
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


def people_rows(screen: str) -> list[tuple[int, int, str]]:
    return [(int(a), int(b), c.strip()) for a, b, c in
            re.findall(r"(?m)^\s+(\d+)\s+(\d+)\s+(\S[^\n]*?)\s*$", "\n".join(l[:48] for l in screen.split("\n")[2:-2]))]


def test_people_filter_types_names_with_command_letters(prefix, tuis):
    labels = detect_and_cluster(prefix, ["faces/group-6-faces.jpg", GRACE, ASTRONAUT])
    rename(prefix, labels[ASTRONAUT], "Ann")
    rename(prefix, labels[GRACE], "Grace Hopper")

    tui = tuis(*browse_args(prefix))
    tui.wait("faces/portrait-astronaut", "the list")
    tui.keys("p")
    tui.wait(lambda s: len(people_rows(s)) == 8, "the eight people")
    # "/Ann": n, a (and e, M...) are typed into the filter, not run.
    tui.keys("/")
    tui.wait("of 8 people", "the filter prompt")
    tui.type("Ann")
    screen = tui.wait(lambda s: people_rows(s) == [(labels[ASTRONAUT], 1, "Ann")] and "1 of 8 people" in s,
                      "only Ann")
    assert "no such key" not in screen and "Name for person" not in screen
    # The status line counts the people view's own rows.
    assert re.search(r"8 people · 1 shown · 1/1", screen.split("\n")[-2]), screen.split("\n")[-2]
    tui.keys("Enter")
    tui.wait(lambda s: "of 8 people" not in s and 'name "Ann"' in s.split("\n")[0], "the filter kept")
    tui.keys("Enter")
    tui.wait(lambda s: f'person {labels[ASTRONAUT]} "Ann"' in s.split("\n")[0], "Ann's images")
    tui.keys("Escape")
    tui.wait(lambda s: people_rows(s) == [(labels[ASTRONAUT], 1, "Ann")], "the filtered people again")
    tui.keys("Escape")  # clears the name
    tui.wait(lambda s: len(people_rows(s)) == 8, "everyone again")
    # u: the unnamed only; 1: nobody has two faces; 1 again steps on (5, 10, 25), then everyone.
    tui.keys("u")
    tui.wait(lambda s: len(people_rows(s)) == 6 and all(n == "-" for _, _, n in people_rows(s)), "the unnamed")
    tui.keys("1")
    tui.wait(lambda s: "nobody matches the filter" in s and "2+ faces (1)" in s, "nobody with two faces")
    tui.keys("u", "1")
    tui.wait(lambda s: "5+ faces (1)" in s, "at least five faces")
    tui.keys("1", "1", "1")
    tui.wait(lambda s: len(people_rows(s)) == 8, "everyone again")
    # The names were left alone.
    done = facescope("people", "--json", "--redis-url", REDIS_URL, "--key-prefix", prefix)
    names = {p["label"]: p["name"] for p in map(json.loads, done.stdout.splitlines())}
    assert names[labels[ASTRONAUT]] == "Ann" and names[labels[GRACE]] == "Grace Hopper"
    assert sum(1 for n in names.values() if n) == 2
    # The help, generated from the keymap, lists the keys.
    tui.keys("?")
    tui.wait("Keys (from the keymap)", "the help")
    seen = ""
    for _ in range(80):
        seen += tui.screen()
        if "Filtering people" in seen:
            break
        tui.keys("j")
    for text in ("Filtering people", "filter the people by name", "unnamed people only",
                 "at least 2, 5, 10, 25 faces"):
        assert text in seen, text
    tui.keys("Escape")
    assert "facescope exited" not in tui.screen()


def test_short_names_open_copy_and_short_searches_at_80x24(prefix, tuis, tmp_path):
    names = ["examples/people/family/john1.jpeg", "examples/people/family/john2.jpeg",
             "photos/2019/summer-holidays-in-the-mountains/IMG_0001.jpg",
             "photos/2020/summer-holidays-in-the-mountains/IMG_0001.jpg"]
    store(prefix, [json.dumps({"pk": "", "filename": n, "faces": [], "channels": 3, "height": 10, "width": 20,
                               "portrait": 0}) for n in names])
    opened = tmp_path / "opened.txt"
    opener = tmp_path / "opener.sh"
    # Writes its argument where the test reads it, then fails, as a broken viewer would.
    opener.write_text(f'#!/bin/sh\nprintf %s "$1" > {shlex.quote(str(opened))}\nexit 3\n')
    opener.chmod(0o755)
    tui = tuis(*browse_args(prefix), width=80, height=24, env={"FACESCOPE_OPENER": str(opener)})
    tui.tmux("set-option", "-g", "set-clipboard", "on")
    screen = tui.wait("examples/…", "the list")
    rows = [line[2:].split("  ")[0].strip() for line in screen.split("\n")[2:6]]
    # Shortened in the middle: the first folder and the file's own name; four different rows.
    assert any(r.startswith("examples/…") and r.endswith("john1.jpeg") for r in rows), rows
    assert len(set(rows)) == 4 and all("…" in r for r in rows if r.startswith("photos")), rows
    assert all(len(r) < 40 for r in rows), rows

    # o: the viewer gets the image's path; its failure shows on the status line.
    tui.keys("o")
    path = str(DATA / names[0])
    deadline = time.monotonic() + 15
    while not (opened.exists() and opened.read_text() == path):
        assert time.monotonic() < deadline, f"the opener never got {path}"
        time.sleep(0.05)
    tui.wait("failed with status 3", "the viewer's failure")

    # y: the path goes to the terminal as OSC 52, which tmux puts in its paste buffer.
    tui.keys("y")
    tui.wait("copied the path", "the copy notice")
    deadline = time.monotonic() + 15
    while True:
        done = subprocess.run(["tmux", "-L", tui.socket, "show-buffer"], capture_output=True, text=True, timeout=10)
        if done.returncode == 0 and done.stdout == path:
            break
        assert time.monotonic() < deadline, f"no clipboard: {done.stdout!r} {done.stderr!r}"
        time.sleep(0.05)

    # One character is too short to search: said so, not "no match".
    tui.keys("/", "c")
    screen = tui.wait("type 2+ characters", "the hint")
    assert "no match" not in screen
    tui.keys("BSpace", "p", "h")
    tui.wait(lambda s: "photos/" in s and "2 matching" in s.split("\n")[-2], "a real search")

    # Leaving the search keeps the image highlighted, in its place among every image (4th of 4);
    # so does changing the order.
    tui.keys("Enter", "n")
    tui.wait(lambda s: "2 matching · 2/2" in s, "the second match")
    tui.keys("Escape")
    tui.wait(lambda s: "4 images · 4/4 ·" in s and "matching" not in s, "the same image among every image")
    tui.keys("S")
    tui.wait(lambda s: "4 images · 1/4 ·" in s and "sorted by filename ↓" in s, "the same image, reversed")
    tui.keys("S", "s")
    tui.wait(lambda s: "4 images · 4/4 ·" in s and "sorted by face count ↑" in s, "the same image, by faces")
    assert "facescope exited" not in tui.screen()
