"""`detect --force` on an image whose stored faces have people: a face on an old face's box keeps
its label, the new faces get people (helpers from test_detect.py)."""
from __future__ import annotations

import json
import shutil
import subprocess

from test_detect import DATA, FACESCOPE, detect, env, stored
from test_detect import pytestmark  # noqa: F401  (the same skips)


def test_force_keeps_labels_of_overlapping_faces_and_labels_the_new_ones(prefix, tmp_path):
    shutil.copy(DATA / "faces" / "group-6-faces.jpg", tmp_path / "group.jpg")
    # Stored before: one face (labelled 7) on one of the six, and a box where nobody is (9).
    wrong = {
        "pk": "", "filename": "group.jpg", "channels": 3, "height": 886, "width": 1280, "portrait": 0,
        "faces": [{"pk": "", "bbox": {"pk": "", "x1": 1110, "y1": 277, "x2": 1223, "y2": 390}, "probability": 50,
                   "label": 7, "rotation": None, "descriptors": None},
                  {"pk": "", "bbox": {"pk": "", "x1": 5, "y1": 5, "x2": 40, "y2": 40}, "probability": 40,
                   "label": 9, "rotation": None, "descriptors": None}],
    }
    done = subprocess.run([FACESCOPE or "facescope", "import", "-"], input=json.dumps(wrong) + "\n",
                          capture_output=True, text=True, timeout=60, env=env(prefix))
    assert done.returncode == 0, done.stderr
    done = detect(prefix, str(tmp_path / "group.jpg"), "--images-dir", str(tmp_path), "--force")
    assert done.returncode == 0, done.stderr
    assert "5 new faces given a person" in done.stderr
    [document] = stored(prefix)
    labels = [face["label"] for face in document["faces"]]
    # Six faces: the one on the old box still 7, the five new ones people of their own, numbered
    # after the largest label left (the empty box went with its face and its label).
    assert len(labels) == 6 and labels.count(7) == 1
    assert None not in labels and len(set(labels)) == 6
    assert all(label > 7 for label in labels if label != 7)


def test_people_and_similar_write_the_probability_as_show_does(prefix, tmp_path):
    shutil.copy(DATA / "faces" / "group-6-faces.jpg", tmp_path / "group.jpg")
    done = detect(prefix, str(tmp_path / "group.jpg"), "--images-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr

    def facescope(*args: str) -> str:
        run = subprocess.run([FACESCOPE or "facescope", *args], capture_output=True, text=True, timeout=60,
                             env=env(prefix))
        assert run.returncode == 0, run.stderr
        return run.stdout

    [document] = stored(prefix)
    percent = {face["label"]: f"{face['probability']}%" for face in document["faces"]}
    people = [json.loads(line) for line in facescope("people", "--json").splitlines()]
    assert len(people) == 6 and all(isinstance(p["example_probability"], int) for p in people)
    table = facescope("people").splitlines()
    assert table[0].split() == ["LABEL", "FACES", "NAME", "PROB", "EXAMPLE"]
    for p in people:
        row = next(line.split() for line in table[1:] if line.split()[0] == str(p["label"]))
        assert row[3] == percent[p["label"]] == f"{p['example_probability']}%"
    similar = [json.loads(line) for line in facescope("similar", "group.jpg", "--face", "1", "--json").splitlines()]
    rows = facescope("similar", "group.jpg", "--face", "1").splitlines()
    assert rows[0].split()[:3] == ["DISTANCE", "FACE", "PROB"]
    assert [line.split()[2] for line in rows[1:]] == [f"{s['probability']}%" for s in similar]
    assert all(f"probability {percent[f['label']]}" in facescope("show", "group.jpg") for f in document["faces"])
