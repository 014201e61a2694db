"""The browser's status line shows the detection queue's progress while workers have work: the
real binary in tmux, real Redis Stack, a real `facescope worker` against the CPU Triton."""
from __future__ import annotations

import re

from test_tui import DATA, REDIS_URL, TRITON_URL, browse_args, detected, facescope, prefix, pytestmark, store, tuis  # noqa: F401


def test_the_status_line_shows_the_queue_while_it_has_work(prefix, detected, tuis):
    store(prefix, detected)
    tui = tuis(*browse_args(prefix))
    tui.wait(lambda s: "Redis ok" in s and "3 images" in s, "the status line")
    assert "queue" not in tui.lines()[-1]
    where = ["--redis-url", REDIS_URL, "--key-prefix", prefix, "--images-dir", str(DATA)]
    queued = facescope("enqueue", "--force", str(DATA / "faces" / "portrait-grace-hopper.jpg"),
                       str(DATA / "no-faces" / "starry-night.jpg"), *where)
    assert queued.returncode == 0, queued.stderr
    # Picked up on the next refresh (every 3 s): nothing done yet, two to do.
    tui.wait(lambda s: re.search(r"3 images · .*queue 0/2", s), "the queue on the status line")
    worked = facescope("worker", "--triton-url", TRITON_URL, *where)
    assert worked.returncode == 0, worked.stderr
    # Drained: the queue leaves the status line.
    tui.wait(lambda s: "Redis ok" in s and "queue" not in s.splitlines()[-1], "the queue gone from the status line")
