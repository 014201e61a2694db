"""The browser marks stored images whose files are gone (the real binary in tmux, real Redis
Stack): the list row and the preview's title, for files that existed when they were detected."""
from __future__ import annotations

import json
import re
import shutil

from test_tui import DATA, REDIS_URL, TRITON_URL, facescope, prefix, store, tuis  # noqa: F401
from test_tui import pytestmark  # noqa: F401  (the same skips)


def test_a_stored_image_whose_file_is_gone_is_marked_in_the_list_and_the_title(prefix, tuis, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for name in ("kept.jpg", "removed.jpg"):
        shutil.copy(DATA / "no-faces" / "baboon.jpg", images / name)
    done = facescope("detect", str(images), "--images-dir", str(images), "--redis-url", REDIS_URL,
                     "--key-prefix", prefix, "--triton-url", TRITON_URL)
    assert done.returncode == 0, done.stderr
    (images / "removed.jpg").unlink()
    # Many more documents than rows on screen, whose files never existed: only the rows shown
    # are checked, so the list comes up as fast as ever.
    store(prefix, [json.dumps({"pk": "", "filename": f"zz/{i:04}.jpg", "faces": [], "channels": 3,
                               "height": 10, "width": 20, "portrait": 0}) for i in range(300)])

    tui = tuis("--redis-url", REDIS_URL, "--key-prefix", prefix, "--images-dir", str(images),
               "--triton-url", TRITON_URL)
    screen = tui.wait(lambda s: re.search(r"✗ removed\.jpg", s) is not None, "the mark on the missing file's row")
    kept_row = next(line for line in screen.split("\n") if "kept.jpg" in line)
    assert "✗" not in kept_row and "file missing" not in screen.split("\n")[1]
    # The highlighted row is kept.jpg (first); the next is the missing one: its title says so.
    tui.keys("j")
    tui.wait(lambda s: "removed.jpg" in s.split("\n")[1] and "file missing" in s.split("\n")[1],
             "'file missing' in the preview's title")
    # Scrolling on: rows that come into view are checked too.
    tui.keys("G")
    tui.wait(lambda s: re.search(r"✗ zz/0299\.jpg", s) is not None, "the mark on the last row")
    assert "facescope exited" not in tui.screen()
