"""The terminal browser end to end: the real `facescope` binary in tmux, against the real Redis
Stack and the real Triton CPU backend that scripts/test.sh started.

Each test seeds documents under a key prefix of its own, starts the browser in a private tmux
server (120x40, TERM=tmux-256color, LANG=C.UTF-8), presses keys and polls capture-pane until the
expected screen appears; nothing sleeps a fixed time.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("FACESCOPE_TEST_REDIS_URL")
TRITON_URL = os.environ.get("FACESCOPE_TRITON_URL")
FACESCOPE = os.environ.get("FACESCOPE_BIN")
REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("FACESCOPE_SAMPLE_DATA", REPO / ".." / "shared" / "data")).resolve()

pytestmark = [
    pytest.mark.skipif(
        not (REDIS_URL and TRITON_URL and FACESCOPE) and os.environ.get("FACESCOPE_REQUIRE_SERVICES") != "1",
        reason="needs scripts/test.sh (FACESCOPE_TEST_REDIS_URL, FACESCOPE_TRITON_URL, FACESCOPE_BIN)",
    ),
    pytest.mark.skipif(
        shutil.which("tmux") is None and os.environ.get("FACESCOPE_REQUIRE_SERVICES") != "1", reason="needs tmux"
    ),
]

PHOTOS = ["faces/group-6-faces.jpg", "faces/portrait-grace-hopper.jpg", "no-faces/starry-night.jpg"]
BOX_COLOUR = 46  # FaceOverlay.boxColor, pure green, in the 256-colour palette


# MARK: - helpers


def facescope(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_OM_URL", "FACESCOPE_KEY_PREFIX")}
    return subprocess.run(
        [FACESCOPE or "facescope", *args], capture_output=True, text=True, timeout=120, env=env, input=stdin
    )


def drop_prefix(prefix: str) -> None:
    import redis

    r = redis.Redis.from_url(REDIS_URL)
    tag = prefix.split(":")[0]
    # FaceScope's and redis-om's indexes (redis-om's Migrator also makes Face and Bbox ones).
    for name in {f"{prefix}index", f"facescope:{prefix}index"} | {
        i.decode() for i in r.execute_command("FT._LIST") if i.decode().startswith(tag + ":")
    }:
        try:
            r.execute_command("FT.DROPINDEX", name, "DD")
        except redis.ResponseError:
            pass
    for key in r.scan_iter(match=f"*{prefix}*"):
        r.delete(key)


def store(prefix: str, lines: list[str]) -> None:
    done = facescope("import", "-", "--redis-url", REDIS_URL, "--key-prefix", prefix, stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr


def sgr_cells(line: str):
    """Yields (column, character, foreground, background) for one line of `capture-pane -e`."""
    fg = bg = None
    column = 0
    for m in re.finditer(r"\x1b\[([0-9;:]*)m|([^\x1b])", line):
        if m.group(1) is not None:
            params = [int(p) if p else 0 for p in re.split("[;:]", m.group(1))]
            i = 0
            while i < len(params):
                p = params[i]
                if p == 0:
                    fg = bg = None
                elif p in (38, 48) and i + 2 < len(params) and params[i + 1] == 5:
                    if p == 38:
                        fg = params[i + 2]
                    else:
                        bg = params[i + 2]
                    i += 2
                elif p == 39:
                    fg = None
                elif p == 49:
                    bg = None
                i += 1
            continue
        yield column, m.group(2), fg, bg
        column += 1


class Tui:
    """The browser running in a private tmux server."""

    def __init__(self, args: list[str], width: int = 120, height: int = 40, env: dict | None = None):
        self.socket = f"fs-tui-{uuid.uuid4().hex[:10]}"
        environment = {
            "TERM": "tmux-256color",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "SWIFT_BACKTRACE": "interactive=no",
            **(env or {}),
        }
        command = " ".join(
            ["env", "-u", "REDIS_OM_URL", "-u", "FACESCOPE_KEY_PREFIX"]
            + [shlex.quote(f"{k}={v}") for k, v in environment.items()]
            + [shlex.quote(FACESCOPE or "facescope")]
            + [shlex.quote(a) for a in args]
        )
        # Say how it ended, on the terminal it gave back, and keep the pane open to read it.
        command += '; echo "facescope exited with status $?"; read line'
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", str(width), "-y", str(height), command)

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10)
        assert done.returncode == 0, f"tmux {args[0]}: {done.stderr}"
        return done.stdout

    def screen(self, colours: bool = False) -> str:
        return self.tmux("capture-pane", "-p", "-t", "main", *(["-e"] if colours else []))

    def lines(self) -> list[str]:
        return self.screen().split("\n")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "main", *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "main", "-l", text)

    def pane(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", "main", fmt).strip()

    def wait(self, condition, what: str, timeout: float = 15.0):
        """Polls the screen until `condition(screen)` holds (a string: appears on it); returns the
        screen that satisfied it."""
        check = (lambda s: condition in s) if isinstance(condition, str) else condition
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if check(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{text}")
            time.sleep(0.05)

    def close(self) -> None:
        path = subprocess.run(["tmux", "-L", self.socket, "display-message", "-p", "#{socket_path}"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)
        # tmux leaves the socket file behind.
        if path:
            Path(path).unlink(missing_ok=True)


def preview_cells(tui: Tui, first_column: int, rows: range):
    """The picture cells of the preview area: (character, foreground, background)."""
    lines = tui.screen(colours=True).split("\n")
    for y in rows:
        if y >= len(lines):
            continue
        for column, ch, fg, bg in sgr_cells(lines[y]):
            if column >= first_column:
                yield ch, fg, bg


def block_glyphs(cells) -> int:
    return sum(1 for ch, _, _ in cells if "\u2580" <= ch <= "\u259f" or "\u2500" <= ch <= "\u257f")


def box_cells(cells) -> int:
    return sum(1 for _, fg, bg in cells if BOX_COLOUR in (fg, bg))


def free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


class Proxy:
    """A TCP proxy to a real server that the test can take away and bring back."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.port = free_port()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def start(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        if self.listener:
            # shutdown wakes the thread blocked in accept(); close alone would leave it listening.
            try:
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.sockets = []


# MARK: - fixtures


@pytest.fixture(scope="module")
def detected() -> list[str]:
    """The sample photos detected once through the real Triton backend, as JSON lines."""
    assert DATA.is_dir(), f"sample photos not found at {DATA}"
    prefix = f"tuiseed{uuid.uuid4().hex[:8]}:utils.Model:"
    try:
        done = facescope(
            "detect", *[str(DATA / p) for p in PHOTOS], "--images-dir", str(DATA), "--redis-url", REDIS_URL,
            "--key-prefix", prefix, "--triton-url", TRITON_URL,
        )
        assert done.returncode == 0, done.stderr
        out = facescope("export", "--redis-url", REDIS_URL, "--key-prefix", prefix)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert len(lines) == len(PHOTOS)
        return lines
    finally:
        drop_prefix(prefix)


@pytest.fixture
def prefix():
    p = f"tui{uuid.uuid4().hex[:8]}:utils.Model:"
    yield p
    drop_prefix(p)


@pytest.fixture
def tuis():
    started: list[Tui] = []

    def start(*args: str, **kwargs) -> Tui:
        tui = Tui(list(args), **kwargs)
        started.append(tui)
        return tui

    yield start
    for tui in started:
        tui.close()


def browse_args(prefix: str, redis_url: str | None = None, triton_url: str | None = None) -> list[str]:
    return [
        "--redis-url", redis_url or REDIS_URL, "--key-prefix", prefix, "--images-dir", str(DATA),
        "--triton-url", triton_url or TRITON_URL,
    ]


def row_of(screen: str, filename: str) -> str:
    for line in screen.split("\n"):
        if filename in line:
            return line
    return ""


# MARK: - tests


def test_list_preview_with_boxes_detail_help_and_quit(prefix, detected, tuis):
    store(prefix, detected)
    tui = tuis(*browse_args(prefix))
    # The list: filename, face count, size, in filename order; the status line.
    rows = [r"faces/group-6-faces\.jpg\s+6 1280x886", r"faces/\S*grace-hopper\.jpg\s+1 512x600",
            r"no-faces/starry-night\.jpg\s+0 752x600", r"Redis ok · Triton ok · 3 images"]
    screen = tui.wait(lambda s: all(re.search(r, s) for r in rows), "the list and the status line")
    assert screen.index("group-6") < screen.index("grace-hopper") < screen.index("starry-night")

    # The preview: chafa's block symbols, with the face boxes' green drawn into the picture.
    area = range(2, 37)
    tui.wait(lambda s: block_glyphs(preview_cells(tui, 49, area)) > 500, "the picture")
    with_boxes = box_cells(list(preview_cells(tui, 49, area)))
    assert with_boxes > 30, f"only {with_boxes} cells in the box colour"
    tui.keys("b")
    tui.wait("boxes off", "boxes toggled off")
    tui.wait(lambda s: box_cells(list(preview_cells(tui, 49, area))) < with_boxes / 4, "the boxes to go")
    tui.keys("b")
    tui.wait(lambda s: box_cells(list(preview_cells(tui, 49, area))) > 30, "the boxes to come back")

    # Face detail: probability, rotation, label and the landmark regions.
    tui.keys("Enter")
    tui.wait(
        lambda s: "Face 1 of 6" in s and "chin 17" in s and re.search(r"probability \d+%\s+rotation -?\d+°\s+label \d+", s)
        and "landmarks: 68 points" in s, "the face-detail view with probability, rotation, label and regions")
    tui.keys("n")
    tui.wait("Face 2 of 6", "the next face")
    tui.keys("Escape")
    tui.wait(lambda s: "Face 2 of 6" not in s and "Enter zooms on faces" in s, "the list view again")

    # Multi-select: Space, select all, clear.
    tui.keys("Space", "Space")
    tui.wait("2 selected", "two images selected")
    tui.keys("a")
    tui.wait("3 selected", "everything selected")
    tui.keys("x")
    tui.wait(lambda s: "selected" not in s.split("\n")[-2], "the selection cleared")

    # Help, generated from the keymap.
    tui.keys("?")
    texts = ("Keys (from the keymap)", "select / unselect the image", "search filenames", "re-detect the selection",
             "q / Ctrl-C")
    tui.wait(lambda s: all(t in s for t in texts), "the help screen")
    tui.keys("Escape")
    tui.wait(lambda s: "Keys (from the keymap)" not in s, "the help to close")

    tui.keys("q")
    screen = tui.wait("facescope exited with status 0", "the browser to quit")
    # The terminal is given back: the browser's screen is gone.
    assert "Redis ok" not in screen


def test_search_as_you_type_moves_and_says_when_nothing_matches(prefix, detected, tuis):
    store(prefix, detected)
    tui = tuis(*browse_args(prefix))
    tui.wait("no-faces/starry-night.jpg", "the list")
    tui.keys("/")
    tui.type("port")
    tui.wait(lambda s: "1 match" in s and "faces/portrait-grace-hopper" in s and "group-6" not in s,
             "the search results")
    tui.keys("BSpace", "BSpace", "BSpace", "BSpace")
    tui.type("faces")
    # "faces" is a word of every filename: three results; n / N move through them.
    screen = tui.wait("3 matches", "three results")
    tui.keys("Enter", "n")
    tui.wait(lambda s: "2/3" in s.split("\n")[-2], "the second result")
    tui.keys("N", "N")
    tui.wait(lambda s: "3/3" in s.split("\n")[-2], "wrapping to the last result")
    tui.keys("/")
    tui.type(" zebra")
    tui.wait(lambda s: 'no match for "faces zebra"' in s and "group-6" not in s, "the no-match notice")
    tui.keys("Escape")
    tui.wait(lambda s: "no match" not in s and "group-6-faces.jpg" in s and "starry" in s
             and "search" not in s.split("\n")[0], "the full list")


def test_redetect_through_triton_updates_the_count_and_keeps_labels(prefix, tuis):
    # A stored document that is wrong: one face (labelled 7) where the photo has six.
    wrong = {
        "pk": "", "filename": "faces/group-6-faces.jpg", "channels": 3, "height": 886, "width": 1280, "portrait": 0,
        "faces": [{"pk": "", "bbox": {"pk": "", "x1": 1110, "y1": 277, "x2": 1223, "y2": 390}, "probability": 50,
                   "label": 7, "rotation": None, "descriptors": None}],
    }
    other = {"pk": "", "filename": "no-faces/starry-night.jpg", "faces": [], "channels": 3, "height": 600,
             "width": 752, "portrait": 0}
    store(prefix, [json.dumps(wrong), json.dumps(other)])
    tui = tuis(*browse_args(prefix))
    screen = tui.wait(lambda s: re.search(r"group-6-faces\.jpg\s+1 1280x886", s), "the wrong count")
    tui.keys("r")
    # Keeping the people is the default; replacing says what it would drop.
    tui.wait(lambda s: "Re-detect faces/group-6-faces.jpg through Triton?" in s
             and "Enter keep the people" in s and "dropping 1 label" in s, "the re-detect prompt")
    tui.keys("Enter")
    tui.wait(lambda s: "Re-detecting through Triton" in s or "Re-detection finished" in s, "the progress panel")
    tui.wait(lambda s: "Re-detection finished" in s and "1/1 images" in s and "0 failed" in s, "the run to finish",
             timeout=60)
    tui.wait(lambda s: re.search(r"group-6-faces\.jpg\s+6 1280x886", s), "the count to become right")
    tui.wait("5 new faces given a person", "the new faces clustered")
    tui.wait("6 faces · boxes on", "the preview to follow")
    tui.keys("c")
    tui.wait(lambda s: "Re-detection finished" not in s, "the panel to close")
    # The overlapping face kept its label; the new ones became people of their own (one photo's
    # faces are never one person), numbered after the largest label.
    shown = facescope("show", "faces/group-6-faces.jpg", "--json", "--redis-url", REDIS_URL, "--key-prefix", prefix)
    faces = json.loads(shown.stdout)["faces"]
    assert len(faces) == 6
    labels = [f["label"] for f in faces]
    assert None not in labels and len(set(labels)) == 6 and 7 in labels
    assert all(label > 7 for label in labels if label != 7)


def test_resize_redraws_the_layout(prefix, detected, tuis):
    store(prefix, detected)
    tui = tuis(*browse_args(prefix))
    tui.wait("no-faces/starry-night.jpg", "the list")
    tui.wait(lambda s: block_glyphs(preview_cells(tui, 49, range(2, 37))) > 500, "the picture")
    tui.tmux("resize-window", "-t", "main", "-x", "90", "-y", "30")
    # 90 columns: the list takes 36, the preview the rest; the status line is the 30th row.
    tui.wait(lambda s: len(s.rstrip("\n").split("\n")) == 30 and "Redis ok" in s.split("\n")[29]
             and s.split("\n")[2][36:37] == "│" and "group-6-f" in s.split("\n")[2],
             "the status line on the last row, the list 36 columns wide")
    tui.wait(lambda s: block_glyphs(preview_cells(tui, 37, range(2, 27))) > 200, "the picture redrawn smaller")
    tui.tmux("resize-window", "-t", "main", "-x", "60", "-y", "20")
    screen = tui.wait(lambda s: "│" not in s and "Redis ok" in s.split("\n")[19], "the list alone")
    tui.tmux("resize-window", "-t", "main", "-x", "30", "-y", "10")
    tui.wait("terminal too small", "the too-small notice")
    tui.tmux("resize-window", "-t", "main", "-x", "120", "-y", "40")
    tui.wait(lambda s: block_glyphs(preview_cells(tui, 49, range(2, 37))) > 500, "the full layout again")
    assert "facescope exited" not in tui.screen()


def test_a_filename_with_escape_sequences_is_shown_harmlessly(prefix, tuis):
    evil = "evil\x1b]0;pwned\x07\x1b[2J\x1b[31mred\r.jpg"
    docs = [{"pk": "", "filename": name, "faces": [], "channels": 3, "height": 10, "width": 20, "portrait": 0}
            for name in (evil, "zz-fine.jpg")]
    store(prefix, [json.dumps(d) for d in docs])
    tui = tuis(*browse_args(prefix))
    screen = tui.wait("zz-fine.jpg", "the list")
    # Control characters are replaced, visibly (the preview's title shows the whole name); nothing
    # cleared the screen or changed the terminal's title.
    shown = "evil\ufffd]0;pwned\ufffd\ufffd[2J\ufffd[31mred\ufffd.jpg"
    tui.wait(lambda s: shown in s and s.split("\n")[0].startswith(" FaceScope") and "Redis ok" in s.split("\n")[39],
             "the sanitized name, with header and status line in place")
    assert "\x1b" not in tui.screen(colours=False)
    assert "pwned" not in tui.pane("#{pane_title}")
    # The file does not exist: the preview says so instead of failing.
    tui.wait("cannot show this image", "the preview's explanation")
    assert "facescope exited" not in tui.screen()


def test_redis_and_triton_going_away_show_and_are_retried(prefix, detected, tuis):
    store(prefix, detected)
    parsed = urllib.parse.urlsplit(REDIS_URL)
    proxy = Proxy(parsed.hostname or "127.0.0.1", parsed.port or 6379)
    proxy.start()
    userinfo = parsed.netloc.rpartition("@")[0]
    url = urllib.parse.urlunsplit(
        parsed._replace(netloc=(userinfo + "@" if userinfo else "") + f"127.0.0.1:{proxy.port}"))
    try:
        tui = tuis(*browse_args(prefix, redis_url=url, triton_url=f"127.0.0.1:{free_port()}"))
        tui.wait("no-faces/starry-night.jpg", "the list")
        tui.wait("Triton DOWN", "Triton's absence")
        proxy.stop()
        tui.wait("Redis DOWN, retrying", "Redis's absence", timeout=20)
        tui.keys("j", "j")  # the browser still takes keys
        proxy.start()
        tui.wait(lambda s: "Redis ok" in s.split("\n")[39] and "group-6-faces.jpg" in s, "Redis back", timeout=20)
        # Re-detection with Triton away reports the error instead of crashing.
        tui.keys("r")
        tui.wait("through Triton?", "the prompt")
        tui.keys("r")
        tui.wait(lambda s: "Re-detection finished" in s and "error:" in s, "the failed run", timeout=30)
        assert "facescope exited" not in tui.screen()
    finally:
        proxy.stop()


def redis_om(prefix: str, code: str) -> None:
    """Runs code with the original system's redis-om models (Tests/Interop/utils.py), writing
    under `prefix` (`{tag}:utils.Model:`)."""
    import sys

    tag = prefix.split(":")[0]
    prelude = (
        "import sys\n"
        f"sys.path.insert(0, {str(REPO / 'Tests' / 'Interop')!r})\n"
        "import utils\n"
        "for cls in (utils.Model, utils.Face, utils.Bbox):\n"
        f"    cls._meta.global_key_prefix = {tag!r}\n"
        f"    cls._meta.index_name = f'{tag}:utils.{{cls.__name__}}:index'\n"
        "from redis_om import Migrator\n"
    )
    done = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, REDIS_OM_URL=REDIS_URL or ""))
    assert done.returncode == 0, done.stderr


def test_documents_redis_om_adds_and_deletes_while_browsing_show_after_a_reload(prefix, tuis):
    store(prefix, [json.dumps({"pk": "", "filename": f"ours-{i}.jpg", "faces": [], "channels": 3, "height": 10,
                               "width": 20, "portrait": 0}) for i in range(3)])
    tui = tuis(*browse_args(prefix))
    tui.wait("ours-2.jpg", "the list")
    redis_om(prefix, """
Migrator().run()
utils.Model(filename='added-by-python.jpg', faces=[], channels=3, height=5, width=5, portrait=0).save()
for m in utils.Model.find(utils.Model.filename == 'ours-1.jpg').all():
    utils.Model.delete(m.pk)
""")
    tui.keys("R")
    screen = tui.wait(lambda s: "added-by-python.jpg" in s and "ours-1.jpg" not in s, "the reloaded list")
    assert "3 images" in screen.split("\n")[39]


def test_a_malformed_document_does_not_take_the_browser_down(prefix, tuis):
    store(prefix, [json.dumps({"pk": "", "filename": f"fine-{i}.jpg", "faces": [], "channels": 3, "height": 10,
                               "width": 20, "portrait": 0}) for i in range(2)])
    import redis

    bad = {"pk": "01J00000000000000000000BAD", "filename": "bad.jpg", "faces": None, "channels": 3,
           "height": 1.5, "width": -7, "portrait": 0}
    redis.Redis.from_url(REDIS_URL).execute_command("JSON.SET", f"{prefix}{bad['pk']}", "$", json.dumps(bad))
    tui = tuis(*browse_args(prefix))
    screen = tui.wait(lambda s: "fine-1.jpg" in s and "Redis ok" in s.split("\n")[39], "the list with Redis ok")
    assert "DOWN" not in screen


def test_the_browser_and_the_command_line_search_the_same_way(prefix, tuis):
    names = ["examples/obama_and_biden.jpg", "examples/obama1.jpg", "IMG_000123.jpg", "pascal/2008_001009.jpg",
             "pascal/2008_002000.jpg", "family/grandpaWedding.png", "trips/Café.jpg"]
    store(prefix, [json.dumps({"pk": "", "filename": n, "faces": [], "channels": 3, "height": 10, "width": 20,
                               "portrait": 0}) for n in names])
    tui = tuis(*browse_args(prefix))
    tui.wait("trips/Café.jpg", "the list")
    for query in ("biden", "2008", "obama", "wedding", "cafe", "obma"):
        cli = facescope("search", query, "--count", "--redis-url", REDIS_URL, "--key-prefix", prefix)
        expected = int(cli.stdout.strip())
        tui.keys("/")
        tui.type(query)
        word = "match" if expected == 1 else "matches"
        tui.wait(f"{expected} {'close ' if query == 'obma' else ''}{word}", f"the count for {query!r}")
        tui.keys("Escape")
        tui.wait(lambda s: "trips/Café.jpg" in s and "IMG_000123.jpg" in s, "the whole list again")
