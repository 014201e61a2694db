"""Synthetic-library benchmark: N photos of two faces each with known identities, through the
facescope binary against the real Redis Stack under a key prefix of its own (removed afterwards).

Times import, export (median of three runs), list, people, a person's photos, the browser's people view (in tmux, from
the key to the list on screen), cluster --rebuild and an incremental cluster of 1,000 new faces, with each command's peak RSS (/usr/bin/time), Redis memory per
document, and the rebuild's B-cubed precision/recall/F against the known identities and the
photos with two faces under one label. Each command starts once Redis has no background save
running. Prints a markdown table.

usage: bench_library.py N [--facescope PATH] [--redis-url URL] [--keep]
       bench_library.py --drop PREFIX   (removes a library --keep left)
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import redis

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(n: int, kind: int) -> str:
    """A ULID-shaped key: a fixed time part, then the kind and the counter in base 32."""
    tail = ""
    value = n * 8 + kind
    for _ in range(16):
        tail = CROCKFORD[value % 32] + tail
        value //= 32
    return "01JBENCH00" + tail


REGIONS = [("chin", 0, 17), ("eyebrows", 17, 27), ("nose", 27, 36), ("eyes", 36, 48),
           ("mouth", 48, 61), ("lips", 61, 68), ("pupil", 68, 76), ("ears", 76, 80)]


def landmarks(x: int, y: int) -> dict:
    return {name: {str(i): {"x": x + i % 40, "y": y + i // 2} for i in range(a, b)} for name, a, b in REGIONS}


def generate(path: str, docs: int, start: int, identities: np.ndarray, rng, truth: dict, labelled: bool):
    """Writes `docs` documents (numbered from `start`) of two faces of different identities."""
    dim = identities.shape[1]
    sigma = 0.35 / np.sqrt(2 * dim)
    with open(path, "w") as out:
        for d in range(start, start + docs):
            a, b = rng.choice(len(identities), size=2, replace=False)
            faces = []
            for k, ident in enumerate((a, b)):
                vec = identities[ident] + rng.normal(0, sigma, dim)
                fpk = ulid(d * 2 + k, 1)
                truth[fpk] = (int(ident), d)
                faces.append({
                    "pk": fpk, "bbox": {"pk": ulid(d * 2 + k, 2), "x1": 10 + 100 * k, "y1": 20,
                                          "x2": 90 + 100 * k, "y2": 110},
                    "probability": 97, "label": None, "rotation": 0,
                    "descriptors": landmarks(10 + 100 * k, 20),
                    "embedding": [round(float(v), 6) for v in vec],
                })
            out.write(json.dumps({"pk": ulid(d, 0), "filename": f"bench/{d // 1000:04d}/IMG_{d:07d}.jpg",
                                  "faces": faces, "channels": 3, "height": 886, "width": 1280,
                                  "portrait": 0}) + "\n")


QUIET_REDIS = None


def settled(r) -> None:
    """Waits until Redis has no background save or rewrite running (the default `save 60 1000`
    forks an RDB save after a large import, which takes a core for as long as it writes): each
    command is timed against a server doing only its work."""
    while True:
        info = r.info("persistence")
        if not info.get("rdb_bgsave_in_progress") and not info.get("aof_rewrite_in_progress"):
            return
        time.sleep(0.2)


def timed(cmd: list[str], env: dict, stdin=None) -> tuple[float, int, str]:
    """Seconds, peak RSS in MB, stdout of one command (fails loudly)."""
    if QUIET_REDIS is not None:
        settled(QUIET_REDIS)
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        t0 = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd], env=env, stdin=stdin,
                              capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
        peak = int(open(rss.name).read().strip().splitlines()[-1]) // 1024
    return seconds, peak, done.stdout


def browser_people_view(facescope: str, redis_url: str, prefix: str) -> tuple[float, int, int]:
    """Seconds from pressing p in the browser (in tmux) to the people list on screen, the
    browser's resident memory then (MB), and how many people it lists."""
    from bench_tui import Events, Tmux
    with tempfile.TemporaryDirectory() as folder:
        timings = os.path.join(folder, "timings.log")
        env = {"TERM": "tmux-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "SWIFT_BACKTRACE": "interactive=no", "FACESCOPE_TUI_TIMINGS": timings}
        command = "exec env " + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items()) + " " + " ".join(
            shlex.quote(a) for a in [facescope, "--redis-url", redis_url, "--key-prefix", prefix,
                                     "--images-dir", folder, "--no-triton"])
        tmux = Tmux()
        try:
            tmux.start("people", command, 120, 40)
            events = Events(Path(timings))
            events.wait(lambda name, _: name == "first_full_screen", timeout=120)
            pid = int(tmux("display-message", "-p", "-t", "people", "#{pane_pid}").strip())
            sent = time.time() * 1000
            tmux("send-keys", "-t", "people", "p")
            _, values = events.wait(lambda name, _: name == "people_shown", timeout=300)
            seconds = (values["wall_ms"] - sent) / 1000
            with open(f"/proc/{pid}/status") as status:
                rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) // 1024
            return seconds, rss, int(values["people"])
        finally:
            tmux.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("docs", type=int, nargs="?")
    ap.add_argument("--keep", action="store_true",
                    help="leave the library in Redis afterwards (its key prefix is printed)")
    ap.add_argument("--drop", metavar="PREFIX", help="remove a library --keep left, and nothing else")
    ap.add_argument("--facescope", default=os.environ.get("FACESCOPE_BIN", ".build-release/release/facescope"))
    ap.add_argument("--redis-url", default="redis://127.0.0.1:16379/0")
    ap.add_argument("--new-faces", type=int, default=1000)
    args = ap.parse_args()
    if args.drop:
        drop(redis.Redis.from_url(args.redis_url), args.drop)
        return
    if args.docs is None:
        ap.error("the number of documents is needed")
    n = args.docs
    prefix = f":bench-library-{os.getpid()}.Model:"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_OM_URL", "FACESCOPE_KEY_PREFIX")}
    env.update(REDIS_OM_URL=args.redis_url, FACESCOPE_KEY_PREFIX=prefix)
    base = [args.facescope]
    r = redis.Redis.from_url(args.redis_url)
    global QUIET_REDIS
    QUIET_REDIS = r
    rng = np.random.default_rng(1)
    identities = rng.normal(0, 1 / np.sqrt(256), (max(2, n // 10), 128))
    truth: dict = {}
    rows = []
    tmp = tempfile.mkdtemp(prefix="bench-library-")
    try:
        t0 = time.perf_counter()
        library = os.path.join(tmp, "library.jsonl")
        generate(library, n, 0, identities, rng, truth, False)
        gen_s = time.perf_counter() - t0
        before = r.info("memory")["used_memory"]
        with open(library) as f:
            s, m, _ = timed([*base, "import", "-"], env, stdin=f)
        rows.append(("import", s, m, f"{n / s:,.0f} docs/s", ">= 5,000 docs/s, < 300 MB"))
        after = r.info("memory")["used_memory"]
        # Export reads and changes nothing: the median of three runs (the machine is noisy).
        runs = [timed([*base, "export", "-o", os.path.join(tmp, "export.jsonl")], env) for _ in range(3)]
        s = sorted(run[0] for run in runs)[1]
        m = max(run[1] for run in runs)
        rows.append(("export (median of 3)", s, m, f"{n / s:,.0f} docs/s", ">= 20,000 docs/s, < 300 MB"))
        s, m, _ = timed([*base, "list"], env)
        rows.append(("list (all)", s, m, "", ""))
        s, m, out = timed([*base, "cluster", "--rebuild"], env)
        rows.append(("cluster --rebuild", s, m, out.strip().splitlines()[-1][:60] if out.strip() else "",
                     "< 5 min, < 1.5 GB"))
        # B-cubed and photos with two faces under one label, from an export.
        s_exp, _, _ = timed([*base, "export", "-o", os.path.join(tmp, "after.jsonl")], env)
        labels, idents, photos = [], [], {}
        together = 0
        for line in open(os.path.join(tmp, "after.jsonl")):
            doc = json.loads(line)
            seen = set()
            for face in doc.get("faces") or []:
                ident, _ = truth[face["pk"]]
                label = face.get("label")
                labels.append(-1 if label is None else label)
                idents.append(ident)
                if label is not None and label in seen:
                    together += 1
                seen.add(label)
        labels = np.array(labels)
        idents = np.array(idents)
        pair = {}
        for l, t in zip(labels, idents):
            pair[(l, t)] = pair.get((l, t), 0) + 1
        csize = {l: c for l, c in zip(*np.unique(labels, return_counts=True))}
        isize = {t: c for t, c in zip(*np.unique(idents, return_counts=True))}
        p = np.mean([pair[(l, t)] / csize[l] for l, t in zip(labels, idents)])
        rc = np.mean([pair[(l, t)] / isize[t] for l, t in zip(labels, idents)])
        f = 2 * p * rc / (p + rc)
        s, m, out = timed([*base, "people", "list"], env)
        rows.append(("people list", s, m, f"{len(out.splitlines())} lines", "< 1 s"))
        s, m, count = browser_people_view(args.facescope, args.redis_url, prefix)
        rows.append(("browser: p to the people view shown", s, m, f"{count:,} people (RSS then)", ""))
        top = int(np.bincount(labels[labels >= 0]).argmax())
        s, m, _ = timed([*base, "people", "show", str(top)], env)
        rows.append((f"a person's photos ({int((labels == top).sum())})", s, m, "", ""))
        extra = os.path.join(tmp, "new.jsonl")
        generate(extra, args.new_faces // 2, n, identities, rng, truth, False)
        with open(extra) as fh:
            timed([*base, "import", "-"], env, stdin=fh)
        s, m, out = timed([*base, "cluster"], env)
        rows.append((f"cluster ({args.new_faces} new faces)", s, m, out.strip()[:60], "< 20 s"))
        print(f"\nSynthetic library: {n:,} photos, {2 * n:,} faces, {max(2, n // 10):,} identities "
              f"(generated in {gen_s:.0f} s); Redis memory {(after - before) / n:,.0f} B/document\n")
        print("| step | seconds | peak RSS MB | figure | goal |")
        print("|---|---:|---:|---|---|")
        for name, s, m, fig, goal in rows:
            print(f"| {name} | {s:.2f} | {m} | {fig} | {goal} |")
        print(f"\nRebuild B-cubed: precision {p:.4f}, recall {rc:.4f}, F {f:.4f} (goal >= 0.95); "
              f"photos with two faces under one label: {together}")
    finally:
        if args.keep:
            print(f"\nThe library is kept under the key prefix {prefix} "
                  f"(remove it: scripts/bench_library.py --drop '{prefix}')")
        else:
            drop(r, prefix)
        subprocess.run(["rm", "-rf", tmp])


def drop(r, prefix: str):
    """Removes a benchmark library: its documents, face records and indexes."""
    if not prefix.startswith(":bench-library-"):
        sys.exit(f"not a benchmark library's prefix: {prefix}")
    for pattern in (f"{prefix}*", f"facescope:{prefix}*"):
        unlink_matching(r, pattern)
    for index in r.execute_command("FT._LIST"):
        name = index.decode() if isinstance(index, bytes) else index
        if prefix in name:
            r.execute_command("FT.DROPINDEX", name)


def unlink_matching(r, pattern: str, batch: int = 5000):
    """Removes every key matching a SCAN pattern, `batch` keys an UNLINK."""
    keys = []
    for key in r.scan_iter(match=pattern, count=batch):
        keys.append(key)
        if len(keys) >= batch:
            r.unlink(*keys)
            keys = []
    if keys:
        r.unlink(*keys)


if __name__ == "__main__":
    main()
