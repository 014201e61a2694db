"""Moving a face to another person and "not this person" from the browser's face detail, end to
end: photos detected through the real Triton CPU backend, `facescope cluster`, then the browser in
tmux; the store checked with `facescope show` and `facescope people`."""
from __future__ import annotations

import json
import shutil
import re

from test_browser_names import detect_and_cluster, rename
from test_people import list_part, people, person_row
from test_tui import DATA, REDIS_URL, TRITON_URL, block_glyphs, browse_args, facescope, prefix, preview_cells, tuis
from test_tui import pytestmark  # noqa: F401  (the same skips)

__all__ = ["prefix", "tuis"]

GROUP, GRACE, ASTRONAUT = "faces/group-6-faces.jpg", "faces/portrait-grace-hopper.jpg", "faces/portrait-astronaut.png"


def faces(prefix: str, photo: str) -> list[tuple]:
    done = facescope("show", photo, "--json", "--redis-url", REDIS_URL, "--key-prefix", prefix)
    assert done.returncode == 0, done.stderr
    return [(f.get("label"), f.get("label_fixed", False)) for f in json.loads(done.stdout)["faces"]]


def counts(prefix: str) -> dict[int, int]:
    return {p["label"]: p["faces"] for p in people(prefix)}


def test_move_a_face_and_not_this_person_from_the_face_detail_with_undo(prefix, tuis):
    labels = detect_and_cluster(prefix, [GROUP, GRACE, ASTRONAUT])
    grace, astronaut = labels[GRACE], labels[ASTRONAUT]
    rename(prefix, astronaut, "Sally Ride")
    rename(prefix, grace, "Sally Hopper")
    group_before = faces(prefix, GROUP)
    first = group_before[0][0]
    assert first is not None and counts(prefix)[first] == 1, group_before
    counts_before = counts(prefix)

    tui = tuis(*browse_args(prefix))
    tui.wait("group-6-faces.jpg", "the list")
    tui.keys("Enter")
    tui.wait(lambda s: "Face 1 of 6" in s and f"label {first}   box" in s, "the first face of the group photo")

    # An ambiguous start of a name and an unknown person: an error on the status line, nothing moved.
    tui.keys("v")
    tui.wait("to person (label or name):", "the move prompt")
    tui.type("sally")
    tui.keys("Enter")
    tui.wait(lambda s: "'sally' could be" in s and "Sally Hopper" in s and "Sally Ride" in s, "the ambiguity")
    tui.keys("v")
    tui.wait("to person (label or name):", "the move prompt again")
    tui.type("Nobody")
    tui.keys("Enter")
    tui.wait("no person named 'Nobody'", "the unknown person")
    assert faces(prefix, GROUP) == group_before and counts(prefix) == counts_before

    # A unique start of a name: the face moves; the face detail shows the new person.
    tui.keys("v")
    tui.wait("to person (label or name):", "the move prompt a third time")
    tui.type("sally r")
    tui.keys("Enter")
    tui.wait(lambda s: f"moved a face of {GROUP} from {first} to {astronaut}" in s
             and f"label {astronaut} · Sally Ride" in s, "the face moved, its new name in the detail")
    assert faces(prefix, GROUP)[0] == (astronaut, True)
    after_move = counts(prefix)
    assert first not in after_move and after_move[astronaut] == 2

    # The people view counts it: Sally Ride has two faces, the face's old person is gone.
    tui.keys("p")
    screen = tui.wait(person_row(astronaut, 2, "Sally Ride"), "Sally Ride with two faces")
    assert not person_row(first, 1, "-")(screen)
    tui.keys("Escape")
    tui.wait("group-6-faces.jpg", "back to the list")
    tui.keys("Enter")
    tui.wait(lambda s: "Face 1 of 6" in s and "Sally Ride" in s, "the moved face again")

    # x: not this person; the face gets a person of its own.
    tui.keys("x")
    screen = tui.wait(lambda s: re.search(r"a label of its own \((\d+)\)", s), "the face set apart")
    new = int(re.search(r"a label of its own \((\d+)\)", screen).group(1))
    assert new not in counts_before
    tui.wait(f"label {new}   box", "the new person in the detail")
    assert faces(prefix, GROUP)[0] == (new, True)
    assert counts(prefix)[new] == 1 and counts(prefix)[astronaut] == 1

    # z undoes the apart, then the move: the store is as it was.
    tui.keys("z")
    tui.wait(lambda s: "undone: gave a face" in s and f"label {astronaut} · Sally Ride" in s, "the apart undone")
    assert faces(prefix, GROUP)[0] == (astronaut, True)
    tui.keys("z")
    tui.wait(lambda s: "undone: moved a face" in s and f"label {first}   box" in s, "the move undone")
    assert faces(prefix, GROUP) == group_before
    assert counts(prefix) == counts_before
    tui.keys("p")
    tui.wait(lambda s: person_row(astronaut, 1, "Sally Ride")(s) and person_row(first, 1, "-")(s),
             "the people as before")
    assert "facescope exited" not in tui.screen()


FOOTBALL = "faces/portrait-football.jpg"


def move(prefix: str, photo: str, number: int, person: str) -> None:
    done = facescope("people", "move", "--redis-url", REDIS_URL, "--key-prefix", prefix, photo, str(number), person)
    assert done.returncode == 0, done.stderr


def grid_captions(screen: str) -> list[tuple[bool, int, int]]:
    """The grid's captions: (selected, N, M) for each "N of M", in screen order."""
    return [(mark == "▸", int(n), int(m)) for mark, n, m in re.findall(r"(?m)([▸ ]) (\d+) of (\d+)", screen)]


def test_a_persons_faces_as_a_grid_with_moves_and_undo(prefix, tuis):
    labels = detect_and_cluster(prefix, [GRACE, ASTRONAUT, FOOTBALL])
    astronaut = labels[ASTRONAUT]
    rename(prefix, astronaut, "Sally Ride")
    # Three images of one person (the other portraits moved to her).
    for photo in (GRACE, FOOTBALL):
        if faces(prefix, photo)[0][0] != astronaut:
            move(prefix, photo, 1, str(astronaut))
    assert counts(prefix)[astronaut] == 3

    tui = tuis(*browse_args(prefix))
    tui.wait("grace-hopper.jpg", "the list")
    tui.keys("p")
    tui.wait(person_row(astronaut, 3, "Sally Ride"), "Sally Ride with three faces")
    # f: her faces as a grid, one cell per face, each with a caption and a picture.
    tui.keys("f")
    screen = tui.wait(lambda s: len(grid_captions(s)) == 3 and " · 1/3 · " in s, "the grid of three faces")
    assert grid_captions(screen) == [(True, 1, 3), (False, 2, 3), (False, 3, 3)]
    assert f'faces of person {astronaut} "Sally Ride"' in screen.split("\n")[0]
    # Filenames shortened in the middle to the cell's width.
    for end in ("ronaut.png", "otball.jpg", "hopper.jpg"):
        assert end in screen, end
    tui.wait(lambda s: block_glyphs(preview_cells(tui, 0, range(1, 9))) > 100, "the face pictures")
    tui.wait(lambda s: "rendering…" not in s, "every thumbnail rendered")

    # → moves the selection; x sets the selected face apart: the grid has two faces left.
    tui.keys("Right")
    tui.wait(lambda s: grid_captions(s)[:2] == [(False, 1, 3), (True, 2, 3)] and " · 2/3 · " in s,
             "the second face")
    tui.keys("x")
    tui.wait(lambda s: "a label of its own" in s and [c[2] for c in grid_captions(s)] == [2, 2], "two faces left")
    assert counts(prefix)[astronaut] == 2
    # z: back to three.
    tui.keys("z")
    tui.wait(lambda s: "undone: gave a face" in s and [c[2] for c in grid_captions(s)] == [3, 3, 3], "three again")
    assert counts(prefix)[astronaut] == 3
    # Esc: the people again, with her three faces.
    tui.keys("Escape")
    screen = tui.wait(person_row(astronaut, 3, "Sally Ride"), "back to the people")
    assert not grid_captions(screen)
    assert "facescope exited" not in tui.screen()


def test_merge_suggestions_merge_undo_and_skip(prefix, tuis, tmp_path):
    # One identity in two people: two copies of one portrait, clustered together, then one face
    # set apart; a portrait of someone else beside them.
    for name in ("grace-a.jpg", "grace-b.jpg"):
        shutil.copy(DATA / GRACE, tmp_path / name)
    shutil.copy(DATA / ASTRONAUT, tmp_path / "astronaut.png")
    store_args = ["--redis-url", REDIS_URL, "--key-prefix", prefix]
    done = facescope("detect", str(tmp_path), "--images-dir", str(tmp_path), *store_args, "--triton-url", TRITON_URL)
    assert done.returncode == 0, done.stderr
    done = facescope("cluster", *store_args)
    assert done.returncode == 0, done.stderr
    grace = {p["example"]: p["label"] for p in people(prefix)}
    grace = grace.get("grace-a.jpg", grace.get("grace-b.jpg"))
    assert counts(prefix)[grace] == 2
    rename(prefix, grace, "Grace")
    done = facescope("people", "apart", *store_args, "grace-b.jpg", "1")
    assert done.returncode == 0, done.stderr
    split = next(label for label in counts(prefix) if label != grace and counts(prefix)[label] == 1
                 and faces(prefix, "grace-b.jpg")[0][0] == label)
    assert len(counts(prefix)) == 3

    tui = tuis(*store_args, "--images-dir", str(tmp_path), "--triton-url", TRITON_URL)
    tui.wait("grace-a.jpg", "the list")
    tui.keys("p")
    tui.wait(person_row(grace, 1, "Grace"), "the people")
    # s: the one suggested pair, the split face into Grace; the astronaut is not suggested.
    tui.keys("s")
    pair = rf"0\.0\d\d\s+person {split} \(1\) → person {grace} \"Grace\" \(1\)"
    screen = tui.wait(lambda s: re.search(pair, s) and "1 pair · 3 of 3 people compared" in s, "the suggestion")
    assert len(re.findall(r"(?m)^\s+\d\.\d{3}\s+person", list_part(screen))) == 1
    # Enter merges it (the list is asked again and is empty); z undoes the merge.
    tui.keys("Enter")
    tui.wait(lambda s: f"1 face moved from person {split} to {grace}" in s and "no two people are closer" in s,
             "the pair merged")
    assert counts(prefix)[grace] == 2 and split not in counts(prefix)
    tui.keys("z")
    tui.wait(lambda s: "undone: merged label" in s and re.search(pair, s), "the merge undone, the pair back")
    assert counts(prefix)[grace] == 1 and counts(prefix)[split] == 1
    # d skips it for the session; Esc: the people.
    tui.keys("d")
    tui.wait(lambda s: "every suggestion was skipped" in s and f"skipped person {split}" in s, "the pair skipped")
    assert counts(prefix)[split] == 1
    tui.keys("Escape")
    tui.wait(lambda s: person_row(grace, 1, "Grace")(s) and person_row(split, 1, "-")(s), "back to the people")
    assert "facescope exited" not in tui.screen()


def test_the_grid_pages_through_a_person_with_many_faces(prefix, tuis, tmp_path):
    # 130 images of person 4 (copies of one portrait), the first holding two of her faces.
    face = {"pk": "", "bbox": {"pk": "", "x1": 150, "y1": 120, "x2": 360, "y2": 380}, "probability": 90, "label": 4,
            "rotation": None, "descriptors": None}
    docs = []
    for i in range(130):
        name = f"p{i:03d}.jpg"
        shutil.copy(DATA / GRACE, tmp_path / name)
        faces_here = [face, {**face, "bbox": {**face["bbox"], "x1": 10, "x2": 140}}] if i == 0 else [face]
        docs.append(json.dumps({"pk": "", "filename": name, "channels": 3, "height": 600, "width": 512,
                                "portrait": 0, "faces": faces_here}))
    done = facescope("import", "-", "--redis-url", REDIS_URL, "--key-prefix", prefix, stdin="\n".join(docs) + "\n")
    assert done.returncode == 0, done.stderr

    tui = tuis("--redis-url", REDIS_URL, "--key-prefix", prefix, "--images-dir", str(tmp_path),
               "--triton-url", TRITON_URL)
    tui.wait("p000.jpg", "the list")
    tui.keys("p")
    tui.wait(person_row(4, 131, "-"), "the person with 131 faces")
    tui.keys("f")
    screen = tui.wait(lambda s: len(grid_captions(s)) == 18 and " · 1/130 · " in s, "the first screen of cells")
    assert grid_captions(screen)[:2] == [(True, 1, 130), (False, 2, 130)]
    assert "1 of 130  +1 here" in screen
    tui.wait(lambda s: "rendering…" not in s, "the first screen's pictures")
    # G: the last face, from the last page of the server's answer.
    tui.keys("G")
    screen = tui.wait(lambda s: (True, 130, 130) in grid_captions(s) and " · 130/130 · " in s, "the last face")
    # The last rows fill the screen: 16 cells, the last row short.
    assert [n for _, n, _ in grid_captions(screen)] == list(range(115, 131))
    tui.wait(lambda s: "rendering…" not in s, "the last screen's pictures")
    # ↑ and ←: a row up, one back.
    tui.keys("Up", "Left")
    tui.wait(lambda s: (True, 123, 130) in grid_captions(s) and " · 123/130 · " in s, "the selection moved")
    tui.keys("Escape")
    tui.wait(person_row(4, 131, "-"), "back to the people")
    assert "facescope exited" not in tui.screen()
