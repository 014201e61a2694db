"""Nearest-face search ("more like this") against the face record index as the library grows to
2,000,000 faces: FaceScope's face index schema (FLAT, L2, 128 FLOAT16 by default) under a key prefix of its
own in the real Redis Stack, filled with synthetic descriptors (faces ~0.35 apart around
identity centres ~1.0 apart, as in bench_library.py), and the two KNN queries FaceScope sends
timed at each size: any face (`similar`), labelled faces only (a new face's person), and a tag
filter of 3 cells of 64 searched ad hoc (a partitioned index, for comparison). Prints
a markdown table: median of 20 queries, and the ratio to the first size.

usage: bench_knn.py [--sizes 200000,600000,1000000,2000000] [--type FLOAT32|FLOAT16|BFLOAT16]
                   [--redis-url URL]
"""

import argparse
import statistics
import sys
import time

import numpy as np
import redis

from bench_library import unlink_matching

DIM = 128


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="200000,600000,1000000,2000000")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:16379/0")
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--type", default="FLOAT16", choices=["FLOAT32", "FLOAT16", "BFLOAT16"],
                    help="the indexed vectors' element type")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    r = redis.Redis.from_url(args.redis_url)
    prefix = f"facescope::bench-knn-{time.time_ns()}.face:"
    index = prefix + "index"
    r.execute_command(
        "FT.CREATE", index, "ON", "HASH", "PREFIX", "1", prefix, "STOPWORDS", "0", "SCHEMA",
        "label", "NUMERIC", "SORTABLE", "doc", "TAG", "fixed", "TAG", "probability", "NUMERIC", "SORTABLE",
        "cell", "TAG", "embedding", "VECTOR", "FLAT", "6", "TYPE", args.type, "DIM", str(DIM), "DISTANCE_METRIC", "L2")
    rng = np.random.default_rng(7)

    def encode(vector):
        if args.type == "FLOAT16":
            return vector.astype(np.float16).tobytes()
        if args.type == "BFLOAT16":
            return (vector.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16).tobytes()
        return vector.astype(np.float32).tobytes()

    identities = rng.normal(0, 1 / np.sqrt(256), (max(sizes) // 20, DIM)).astype(np.float32)
    sigma = 0.35 / np.sqrt(2 * DIM)
    rows = []
    loaded = 0
    before = r.info("memory")["used_memory"]
    try:
        for size in sizes:
            t0 = time.perf_counter()
            while loaded < size:
                batch = min(10_000, size - loaded)
                who = rng.integers(0, len(identities), batch)
                vectors = identities[who] + rng.normal(0, sigma, (batch, DIM)).astype(np.float32)
                pipe = r.pipeline(transaction=False)
                for i in range(batch):
                    n = loaded + i
                    # Nine faces in ten have a person.
                    pipe.hset(f"{prefix}D{n // 2}:F{n}", mapping={
                        "doc": f"D{n // 2}", "label": int(who[i]) if n % 10 else -1, "fixed": 0,
                        "probability": 90, "cell": int(who[i]) % 64, "embedding": encode(vectors[i])})
                pipe.execute()
                loaded += batch
            load_s = time.perf_counter() - t0
            # Wait for the index to catch up.
            while True:
                info = r.execute_command("FT.INFO", index)
                fields = dict(zip(info[::2], info[1::2]))
                if int(fields[b"num_docs"]) >= size and int(fields[b"indexing"]) == 0:
                    break
                time.sleep(0.2)
            timings = {"any face": [], "labelled faces": [], "3 cells of 64": []}
            for q in range(args.queries):
                who = int(rng.integers(0, len(identities)))
                probe = encode(identities[who] + rng.normal(0, sigma, DIM).astype(np.float32))
                cells = "|".join(str((who + j * 17) % 64) for j in range(3))
                for name, query, policy in (("any face", "*", ""), ("labelled faces", "@label:[0 +inf]", ""),
                                            ("3 cells of 64", f"@cell:{{{cells}}}", " HYBRID_POLICY ADHOC_BF")):
                    t = time.perf_counter()
                    reply = r.execute_command(
                        "FT.SEARCH", index, f"{query}=>[KNN 20 @embedding $vector{policy} AS distance]",
                        "PARAMS", "2", "vector", probe, "SORTBY", "distance", "RETURN", "2", "doc", "distance",
                        "LIMIT", "0", "20", "DIALECT", "2")
                    timings[name].append((time.perf_counter() - t) * 1000)
                    if reply[0] < 20:
                        sys.exit(f"KNN answered {reply[0]} faces")
            memory = (r.info("memory")["used_memory"] - before) / size
            rows.append((size, load_s, memory, {k: statistics.median(v) for k, v in timings.items()}))
            print(f"{size:,} faces loaded ({load_s:.0f} s)", file=sys.stderr)
    finally:
        r.execute_command("FT.DROPINDEX", index)
        unlink_matching(r, prefix + "*", batch=10_000)
    base = rows[0][3]
    names = list(base)
    print("\n| faces | " + " | ".join(f"KNN 20, {name} (ms) | ratio" for name in names) + " | Redis B/face |")
    print("|---:|" + "---:|---:|" * len(names) + "---:|")
    for size, _, memory, t in rows:
        print(f"| {size:,} | " + " | ".join(f"{t[name]:.1f} | {t[name] / base[name]:.2f}" for name in names)
              + f" | {memory:,.0f} |")


if __name__ == "__main__":
    main()
