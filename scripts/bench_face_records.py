#!/usr/bin/env python3
"""Redis memory per 2-face document with landmarks and descriptors inside the document (the
layout before face records) and with face records beside it, and KNN latency of the face record
index, FLAT against HNSW. Prints tables; uses key prefixes of its own and removes them.

usage: bench_face_records.py [DOCS] [KNN_FACES]   (defaults 20000 and 200000)
"""
import json, os, random, statistics, struct, sys, time
import redis

URL = os.environ.get("FACESCOPE_TEST_REDIS_URL", "redis://127.0.0.1:16379/0")
r = redis.Redis.from_url(URL)
DOCS = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
KNN_FACES = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
REGIONS = [("chin", 0, 16), ("eyebrows", 17, 26), ("nose", 27, 35), ("eyes", 36, 47), ("mouth", 48, 60),
           ("lips", 61, 67), ("pupil", 68, 75), ("ears", 76, 79)]
rnd = random.Random(7)


def ulid():
    return "".join(rnd.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(26))


def descriptors():
    return {name: {str(i): {"x": rnd.randint(0, 4000), "y": rnd.randint(0, 3000)} for i in range(a, b + 1)}
            for name, a, b in REGIONS}


def compact(d):
    return ";".join(name + ":" + " ".join(f"{k},{p['x']},{p['y']}" for k, p in pts.items()) for name, pts in d.items())


def vec():
    return [rnd.uniform(-0.3, 0.3) for _ in range(128)]


def used():
    return r.info("memory")["used_memory"]


def wait_indexed(index, n):
    deadline = time.time() + 600
    while time.time() < deadline:
        info = r.execute_command("FT.INFO", index)
        d = dict(zip(info[::2], info[1::2]))
        if int(d[b"num_docs"]) >= n and d[b"indexing"] in (0, b"0"):
            return
        time.sleep(0.2)
    raise SystemExit(f"{index} did not index {n} keys")


def own_json_index(prefix, vector):
    args = ["FT.CREATE", "facescope:" + prefix + "index", "ON", "JSON", "PREFIX", "1", prefix, "SCHEMA",
            "$.filename", "AS", "filename", "TAG", "SORTABLE", "$.faces[*].label", "AS", "label", "NUMERIC"]
    if vector:
        args += ["$.faces[*].embedding", "AS", "embedding", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32", "DIM", "128",
                 "DISTANCE_METRIC", "L2"]
    r.execute_command(*args)
    r.execute_command("FT.CREATE", prefix + "index", "ON", "JSON", "PREFIX", "1", prefix, "SCHEMA", "$.pk", "AS",
                      "pk", "TAG", "$.filename", "AS", "filename", "TAG", "$.faces[*].pk", "AS", "faces_pk", "TAG")


def face_index(prefix, algorithm):
    r.execute_command("FT.CREATE", "facescope:" + prefix + "faces", "ON", "HASH", "PREFIX", "1",
                      "facescope:" + prefix + "face:", "SCHEMA", "label", "NUMERIC", "SORTABLE", "doc", "TAG",
                      "fixed", "TAG", "probability", "NUMERIC", "SORTABLE", "embedding", "VECTOR", algorithm, "6",
                      "TYPE", "FLOAT32", "DIM", "128", "DISTANCE_METRIC", "L2")


def drop(prefix):
    for index in ["facescope:" + prefix + "index", prefix + "index", "facescope:" + prefix + "faces"]:
        try:
            r.execute_command("FT.DROPINDEX", index, "DD")
        except redis.ResponseError:
            pass
    for pattern in [prefix + "*", "facescope:" + prefix + "*"]:
        batch = list(r.scan_iter(pattern, count=5000))
        for i in range(0, len(batch), 5000):
            r.delete(*batch[i:i + 5000])


def document(records):
    pk = ulid()
    faces = []
    for i in range(2):
        face = {"pk": ulid(), "bbox": {"pk": ulid(), "x1": 10 + i, "y1": 20, "x2": 200, "y2": 240},
                "probability": 97, "label": rnd.randint(0, 3000), "rotation": 0,
                "descriptors": descriptors(), "embedding": vec()}
        faces.append(face)
    doc = {"pk": pk, "filename": f"trips/{pk}.jpg", "faces": faces, "channels": 3, "height": 3000,
           "width": 4000, "portrait": 0, "faces_order": f"000002 trips/{pk}.jpg"}
    hashes = []
    if records:
        for face in faces:
            hashes.append((face["pk"], {"doc": pk, "label": face["label"], "fixed": 0,
                                        "probability": face["probability"],
                                        "embedding": struct.pack("<128f", *face.pop("embedding")),
                                        "landmarks": compact(face["descriptors"])}))
            face["descriptors"] = None
    return doc, hashes


def layout(records):
    prefix = f":bfr{ulid()[:8].lower()}.Model:"
    before = used()
    own_json_index(prefix, vector=not records)
    if records:
        face_index(prefix, "HNSW")
    pipe = r.pipeline(transaction=False)
    for n in range(DOCS):
        doc, hashes = document(records)
        pipe.execute_command("JSON.SET", prefix + doc["pk"], "$", json.dumps(doc, separators=(",", ":")))
        for face_pk, fields in hashes:
            pipe.hset("facescope:" + prefix + "face:" + face_pk, mapping=fields)
        if n % 500 == 499:
            pipe.execute()
    pipe.execute()
    wait_indexed("facescope:" + prefix + "index", DOCS)
    if records:
        wait_indexed("facescope:" + prefix + "faces", 2 * DOCS)
    time.sleep(1)
    per_doc = (used() - before) / DOCS
    drop(prefix)
    return per_doc


def knn(algorithm):
    prefix = f":bfk{ulid()[:8].lower()}.Model:"
    face_index(prefix, algorithm)
    start = time.time()
    pipe = r.pipeline(transaction=False)
    for n in range(KNN_FACES):
        pipe.hset(f"facescope:{prefix}face:{n}", mapping={"doc": str(n // 2), "label": n % 5000, "fixed": 0,
                                                          "probability": 90,
                                                          "embedding": struct.pack("<128f", *vec())})
        if n % 2000 == 1999:
            pipe.execute()
    pipe.execute()
    wait_indexed("facescope:" + prefix + "faces", KNN_FACES)
    load = time.time() - start
    times = []
    for _ in range(30):
        q = struct.pack("<128f", *vec())
        t = time.perf_counter()
        r.execute_command("FT.SEARCH", "facescope:" + prefix + "faces", "*=>[KNN 22 @embedding $v AS distance]",
                          "PARAMS", "2", "v", q, "SORTBY", "distance", "NOCONTENT", "LIMIT", "0", "22",
                          "DIALECT", "2")
        times.append((time.perf_counter() - t) * 1000)
    drop(prefix)
    return load, statistics.median(times)


if __name__ == "__main__":
    inside = layout(records=False)
    beside = layout(records=True)
    print(f"Redis memory per 2-face document, {DOCS} documents, all indexes included")
    print("| layout | bytes/doc | ratio |")
    print("|---|---:|---:|")
    print(f"| landmarks + embeddings in the document (FLAT vector on JSON) | {inside:,.0f} | 1.00 |")
    print(f"| descriptors null, one hash per face (HNSW face index) | {beside:,.0f} | {beside / inside:.2f} |")
    print()
    flat = knn("FLAT")
    hnsw = knn("HNSW")
    print(f"KNN 22 on the face index, {KNN_FACES} faces, median of 30 queries")
    print("| algorithm | load + index s | median ms | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| FLAT | {flat[0]:.1f} | {flat[1]:.2f} | 1.00 |")
    print(f"| HNSW | {hnsw[0]:.1f} | {hnsw[1]:.2f} | {hnsw[1] / flat[1]:.2f} |")
