"""The terminal browser's benchmark: the real binary in tmux over 100,000 documents in Redis.

Measures, from the browser's own timing log (FACESCOPE_TUI_TIMINGS) and the clock of this
script:
  launch     process start (tmux new-session) to the first full screen: list and preview drawn
  search     a keystroke in the search line to the list showing the new results
  preview    a 12-megapixel JPEG previewed at 120x40 cells (request to picture on screen)
  memory     resident memory while scrolling page by page through all 100,000 rows
Run by scripts/bench-tui.sh, which builds the release binary and starts Redis.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data").resolve()
# The six faces the CPU backend finds in the group photo (x1, y1, x2, y2).
GROUP_FACES = [(1110, 277, 1223, 390), (731, 362, 841, 475), (55, 277, 168, 390), (460, 300, 573, 413),
               (877, 81, 988, 194), (251, 153, 364, 266)]
CITIES = ["paris", "prague", "lisbon", "oslo", "rome", "vienna", "berlin", "madrid", "dublin", "porto",
          "athens", "krakow", "riga", "tallinn", "vilnius", "zagreb", "sofia", "bergen", "malmo", "turku"]


def landmarks(box, scale=1.0):
    """68 plausible points inside a box, in the stored `descriptors` layout."""
    x1, y1, x2, y2 = (v * scale for v in box)
    regions = {"chin": range(0, 17), "eyebrows": range(17, 27), "nose": range(27, 36), "eyes": range(36, 48),
               "mouth": range(48, 61), "lips": range(61, 68)}
    out = {}
    for name, indices in regions.items():
        out[name] = {str(i): {"x": round(x1 + (x2 - x1) * ((i * 37) % 100) / 100),
                              "y": round(y1 + (y2 - y1) * ((i * 53) % 100) / 100)} for i in indices}
    return out


def face(box, scale=1.0, with_landmarks=True):
    x1, y1, x2, y2 = (round(v * scale) for v in box)
    return {"pk": "", "bbox": {"pk": "", "x1": x1, "y1": y1, "x2": x2, "y2": y2}, "probability": 95,
            "label": None, "rotation": 0, "descriptors": landmarks(box, scale) if with_landmarks else None}


def doc(filename, width, height, faces):
    return {"pk": "", "filename": filename, "faces": faces, "channels": 3, "height": height, "width": width,
            "portrait": 1 if height > width else 0}


def make_images(folder: Path, python_pil) -> None:
    """The photos the preview opens: the group photo, and two 12-megapixel JPEGs made from it."""
    folder.joinpath("aaa").mkdir(parents=True, exist_ok=True)
    target = folder / "aaa" / "0-group.jpg"
    if not target.exists():
        target.write_bytes((DATA / "faces" / "group-6-faces.jpg").read_bytes())
    for name in ("big-a.jpg", "big-b.jpg"):
        path = folder / "aaa" / name
        if path.exists():
            continue
        flip = "True" if name == "big-b.jpg" else "False"
        subprocess.run([python_pil, "-c", f"""
from PIL import Image, ImageOps
im = Image.open({str(DATA / 'faces' / 'group-6-faces.jpg')!r}).convert('RGB').resize((4160, 2880), Image.LANCZOS)
if {flip}: im = ImageOps.autocontrast(im)
im.save({str(path)!r}, quality=92)
"""], check=True)


def seed(facescope: str, redis_url: str, prefix: str, count: int, folder: Path) -> None:
    scale = 4160 / 1280
    head = [
        doc("aaa/0-group.jpg", 1280, 886, [face(b) for b in GROUP_FACES]),
        doc("aaa/big-a.jpg", 4160, 2880, [face(b, scale) for b in GROUP_FACES]),
        doc("aaa/big-b.jpg", 4160, 2880, [face(b, scale) for b in GROUP_FACES]),
    ]
    rng = random.Random(7)
    lines = [json.dumps(d) for d in head]
    for i in range(count - len(head)):
        city = CITIES[i % len(CITIES)]
        n = rng.choice([0, 0, 1, 1, 1, 2, 2, 3, 4, 6])
        # Boxes only for the bulk: 100,000 documents with landmarks would be a gigabyte in Redis.
        faces = [face((100 * k, 100, 100 * k + 80, 180), with_landmarks=False) for k in range(n)]
        lines.append(json.dumps(doc(f"bench/{city}/{2010 + i % 14}/IMG_{i:06d}.jpg", 4000, 3000, faces)))
    done = subprocess.run([facescope, "import", "-", "--redis-url", redis_url, "--key-prefix", prefix],
                          input="\n".join(lines) + "\n", text=True, capture_output=True)
    if done.returncode != 0:
        sys.exit(f"import failed: {done.stderr}")


def stored_count(facescope: str, redis_url: str, prefix: str) -> int:
    done = subprocess.run([facescope, "doctor", "--json", "--redis-url", redis_url, "--key-prefix", prefix],
                          text=True, capture_output=True)
    for check in json.loads(done.stdout or "[]"):
        if check["check"] == "facescope index" and check["ok"]:
            return int(check["detail"].rsplit(": ", 1)[1].split()[0])
    return 0


class Events:
    """Reads the browser's timing log as it grows."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0

    def new(self) -> list[tuple[str, dict]]:
        if not self.path.exists():
            return []
        with self.path.open() as f:
            f.seek(self.offset)
            text = f.read()
        cut = text.rfind("\n") + 1
        self.offset += len(text[:cut].encode())
        out = []
        for line in text[:cut].splitlines():
            name, *fields = line.split()
            out.append((name, {k: float(v) for k, v in (f.split("=") for f in fields)}))
        return out

    def wait(self, predicate, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, values in self.new():
                if predicate(name, values):
                    return name, values
            time.sleep(0.002)
        raise TimeoutError("timed out waiting for a timing event")


class Tmux:
    def __init__(self):
        self.socket = f"fs-bench-{uuid.uuid4().hex[:8]}"
        self("-f", "/dev/null", "new-session", "-d", "-s", "idle", "-x", "80", "-y", "24", "cat")

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True).stdout

    def start(self, name: str, command: str, width: int, height: int) -> None:
        self("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), command)

    def kill(self) -> None:
        path = self("display-message", "-p", "#{socket_path}").strip()
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        if path:
            Path(path).unlink(missing_ok=True)


def browser_command(args, timings: Path) -> str:
    env = {"TERM": "tmux-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "SWIFT_BACKTRACE": "interactive=no",
           "FACESCOPE_TUI_TIMINGS": str(timings)}
    return "exec env " + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items()) + " " + " ".join(
        shlex.quote(a) for a in [args.bin, "--redis-url", args.redis_url, "--key-prefix", args.prefix,
                                 "--images-dir", str(args.images), "--no-triton"])


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--prefix", default="benchtui:utils.Model:")
    parser.add_argument("--images", type=Path, default=ROOT / ".services" / "bench-tui")
    parser.add_argument("--pil-python", default=str(ROOT / ".services" / "venv" / "bin" / "python"))
    parser.add_argument("--launches", type=int, default=7)
    args = parser.parse_args()

    make_images(args.images, args.pil_python)
    have = stored_count(args.bin, args.redis_url, args.prefix)
    if have != args.count:
        if have:
            sys.exit(f"{args.prefix} holds {have} documents, not {args.count}: delete them or pick another --prefix")
        started = time.monotonic()
        seed(args.bin, args.redis_url, args.prefix, args.count, args.images)
        print(f"seeded {args.count} documents in {time.monotonic() - started:.1f} s", file=sys.stderr)

    tmux = Tmux()
    results: dict[str, list[float]] = {}
    notes: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    try:
        # 1. Launch to the first full screen.
        launch = []
        for i in range(args.launches):
            log = workdir / f"launch{i}.log"
            events = Events(log)
            t0 = time.time() * 1000
            tmux.start(f"l{i}", browser_command(args, log), 120, 40)
            _, values = events.wait(lambda n, v: n == "first_full_screen")
            launch.append(values["wall_ms"] - t0)
            tmux("send-keys", "-t", f"l{i}", "q")
        results["launch to first full screen (ms)"] = launch

        # 2. Search keystrokes.
        log = workdir / "search.log"
        events = Events(log)
        tmux.start("search", browser_command(args, log), 120, 40)
        events.wait(lambda n, v: n == "first_full_screen")
        tmux("send-keys", "-t", "search", "/")
        internal, external = [], []
        keys = list("paris") + ["BSpace"] * 4 + list("rague 2019") + ["BSpace"] * 5 + list(" img_0123")
        for key in keys:
            t0 = time.time() * 1000
            if key == "BSpace":
                tmux("send-keys", "-t", "search", key)
            else:
                tmux("send-keys", "-t", "search", "-l", key)
            _, values = events.wait(lambda n, v: n == "search_list_updated")
            internal.append(values["ms"])
            external.append(values["wall_ms"] - t0)
        results["search keystroke to list, in the browser (ms)"] = internal
        results["search keystroke to list, from send-keys (ms)"] = external
        tmux("send-keys", "-t", "search", "Escape", "q")

        # 3. Preview of a 12-megapixel JPEG at 120x40 cells (zoomed preview on a 120x45 screen).
        log = workdir / "preview.log"
        events = Events(log)
        tmux.start("preview", browser_command(args, log), 120, 45)
        events.wait(lambda n, v: n == "first_full_screen")
        tmux("send-keys", "-t", "preview", "z")
        events.wait(lambda n, v: n == "preview_painted")
        painted, decoded, rendered = [], [], []
        # Rows 1 and 2 are the two 12-megapixel photos: go to one, then back and forth.
        for key in ["j"] + ["j", "k"] * 6:
            tmux("send-keys", "-t", "preview", key)
            seen = {}
            while "preview_painted" not in seen:
                name, values = events.wait(lambda n, v: n in ("preview_painted", "preview_decoded", "preview_rendered"))
                seen[name] = values
            decoded.append(seen.get("preview_decoded", {}).get("ms", float("nan")))
            rendered.append(seen.get("preview_rendered", {}).get("ms", float("nan")))
            painted.append(seen["preview_painted"]["ms"])
        results["12 MP preview, request to painted (ms)"] = painted
        results["  of which decode at reduced scale (ms)"] = [d for d in decoded if d == d]
        results["  of which decode + boxes + chafa (ms)"] = [r for r in rendered if r == r]
        tmux("send-keys", "-t", "preview", "q")

        # 4. Memory while scrolling through every row, a page (PgDn x3) at a time.
        log = workdir / "scroll.log"
        events = Events(log)
        tmux.start("scroll", browser_command(args, log), 120, 40)
        events.wait(lambda n, v: n == "first_full_screen")
        pid = int(tmux("display-message", "-p", "-t", "scroll", "#{pane_pid}").strip())

        def rss_mb() -> float:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
            return 0.0

        samples = [rss_mb()]
        started = time.monotonic()
        cursor = 0
        steps = 0
        while cursor < args.count - 1:
            tmux("send-keys", "-t", "scroll", "-N", "3", "NPage")
            target = min(args.count - 1, cursor + 3 * 36)
            _, values = events.wait(lambda n, v: n == "paint" and v["cursor"] >= target and v["missing"] == 0)
            cursor = int(values["cursor"])
            steps += 1
            if steps % 100 == 0:
                samples.append(rss_mb())
        samples.append(rss_mb())
        notes.append(f"scrolled {args.count} rows in {steps} steps, {time.monotonic() - started:.1f} s")
        results["resident memory while scrolling (MB)"] = samples
        tmux("send-keys", "-t", "scroll", "q")
    finally:
        tmux.kill()

    print(f"\nTUI benchmark: {args.count} documents, release build, tmux 120x40, symbols\n")
    print(f"| {'measure':<48} | {'n':>3} | {'median':>8} | {'p95':>8} | {'max':>8} |")
    print(f"|{'-' * 50}|{'-' * 5}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for name, values in results.items():
        if not values:
            continue
        print(f"| {name:<48} | {len(values):>3} | {statistics.median(values):>8.1f} | "
              f"{percentile(values, 95):>8.1f} | {max(values):>8.1f} |")
    memory = results.get("resident memory while scrolling (MB)", [])
    if memory:
        print(f"\nresident memory samples (MB, every 100 steps): {' '.join(f'{m:.0f}' for m in memory)}")
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
