"""The original Python services writing beside FaceScope: whatever redis-om adds, deletes,
replaces or renames is what FaceScope's next read shows.

Real redis-om 0.3.5 writes (the seed's `Model`, key prefix per test), the real `facescope`
binary reads, against the Redis Stack that scripts/test.sh starts.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from test_redis_om_interop import FACESCOPE, HERE, REDIS_URL, facescope, prefixes, run_python  # noqa: F401

pytestmark = pytest.mark.skipif(
    not (REDIS_URL and FACESCOPE) and os.environ.get("FACESCOPE_REQUIRE_SERVICES") != "1",
    reason="needs scripts/test.sh (FACESCOPE_TEST_REDIS_URL, FACESCOPE_BIN)",
)

SAVE = """
Migrator().run()
for name in NAMES:
    utils.Model(filename=name, faces=[], channels=3, height=10, width=20, portrait=0).save()
"""


def listed(prefix: str, *args: str) -> list[str]:
    out = facescope(prefix, "list", "--json", *args).stdout
    return [json.loads(line)["filename"] for line in out.splitlines()]


def test_a_delete_plus_as_many_inserts_by_redis_om_is_seen_at_once(prefixes):
    tag, prefix = prefixes
    old = [f"old-{i}.jpg" for i in range(8)]
    run_python(tag, f"NAMES = {old!r}\n" + SAVE)
    # FaceScope has read (and, in older versions, cached) the library.
    assert sorted(listed(prefix)) == old
    assert facescope(prefix, "show", "old-3.jpg").returncode == 0

    new = [f"new-{i}.jpg" for i in range(8)]
    run_python(tag, f"""
NAMES = {new!r}
for m in utils.Model.find().all():
    utils.Model.delete(m.pk)
""" + SAVE)
    assert sorted(listed(prefix)) == new
    assert sorted(listed(prefix, "--sort", "faces")) == new
    shown = json.loads(facescope(prefix, "show", "new-5.jpg", "--json").stdout)
    assert shown["filename"] == "new-5.jpg"
    gone = facescope(prefix, "show", "old-5.jpg", check=False)
    assert gone.returncode == 1 and "no stored image" in gone.stderr
    hits = facescope(prefix, "search", "--prefix", "new-", "--json").stdout.splitlines()
    assert len(hits) == 8


def test_a_rename_by_redis_om_is_seen_at_once_and_never_overwritten(prefixes, tmp_path):
    tag, prefix = prefixes
    run_python(tag, "NAMES = ['before.jpg', 'other.jpg']\n" + SAVE)
    assert sorted(listed(prefix)) == ["before.jpg", "other.jpg"]
    pk = json.loads(facescope(prefix, "show", "before.jpg", "--json").stdout)["pk"]
    run_python(tag, f"""
m = utils.Model.get({pk!r})
m.filename = 'after.jpg'
m.save()
""")
    assert sorted(listed(prefix)) == ["after.jpg", "other.jpg"]
    assert facescope(prefix, "show", "before.jpg", check=False).returncode == 1
    assert json.loads(facescope(prefix, "show", "after.jpg", "--json").stdout)["pk"] == pk
    # Storing the old name again makes a document of its own; the renamed one stays as it is.
    source = tmp_path / "doc.jsonl"
    source.write_text(json.dumps({"pk": "", "filename": "before.jpg", "faces": [], "channels": 1, "height": 1,
                                  "width": 1, "portrait": 0}) + "\n")
    facescope(prefix, "import", str(source))
    assert sorted(listed(prefix)) == ["after.jpg", "before.jpg", "other.jpg"]
    assert json.loads(facescope(prefix, "show", "after.jpg", "--json").stdout)["pk"] == pk


WRITER = """
import time
Migrator().run()
live = []
for i in range(ROUNDS):
    if os.path.exists(STOP):
        break
    m = utils.Model(filename=f'churn-{i:04d}.jpg', faces=[], channels=3, height=1, width=1, portrait=0)
    m.save()
    live.append(m.pk)
    if len(live) > 5:
        utils.Model.delete(live.pop(0))
    if i % 7 == 0 and live:
        # A rename: the filename field of an existing document changes.
        r = utils.Model.get(live[0])
        r.filename = r.filename.replace('churn-', 'renamed-')
        r.save()
print('done', i)
"""


def live_names(prefix: str) -> set[str]:
    import redis

    r = redis.Redis.from_url(REDIS_URL)
    names = set()
    for key in r.scan_iter(match=f"{prefix}*", _type="ReJSON-RL"):
        value = r.execute_command("JSON.GET", key, "$.filename")
        if value:
            names.add(json.loads(value)[0])
    return names


def test_reads_while_redis_om_writes_see_exactly_the_documents_that_exist(prefixes, tmp_path):
    tag, prefix = prefixes
    stable = [f"stable-{i:02d}.jpg" for i in range(20)]
    run_python(tag, f"NAMES = {stable!r}\n" + SAVE)
    stop = tmp_path / "stop"
    env = dict(os.environ, REDIS_OM_URL=REDIS_URL or "")
    prelude = (
        "import sys, os, json\n"
        f"sys.path.insert(0, {str(HERE)!r})\n"
        "import utils\n"
        "for cls in (utils.Model, utils.Face, utils.Bbox):\n"
        f"    cls._meta.global_key_prefix = {tag!r}\n"
        f"    cls._meta.index_name = f'{tag}:utils.{{cls.__name__}}:index'\n"
        "from redis_om import Migrator\n"
        f"ROUNDS = 2000\nSTOP = {str(stop)!r}\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", prelude + WRITER], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        # Wait until the writer is writing.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(n.startswith("churn-") for n in live_names(prefix)):
            time.sleep(0.05)
        checked = 0
        for round_ in range(6):
            for command in (["list", "--json"], ["list", "--json", "--sort", "faces", "--desc"],
                            ["search", "--prefix", "", "--json"], ["export"]):
                before = live_names(prefix)
                done = facescope(prefix, *command)
                after = live_names(prefix)
                got = [json.loads(line)["filename"] for line in done.stdout.splitlines()]
                assert len(got) == len(set(got)), f"{command}: a document listed twice"
                # Everything that existed before and after the read is in it...
                missing = (before & after) - set(got)
                assert not missing, f"{command}: missing {sorted(missing)}"
                # ...and nothing in it is made up.
                assert all(n in before | after or n.startswith(("churn-", "renamed-")) for n in got), got
                assert set(stable) <= set(got)
                checked += 1
            for name in stable[round_::5]:
                shown = facescope(prefix, "show", name, "--json")
                assert json.loads(shown.stdout)["filename"] == name
        assert checked == 24
    finally:
        stop.write_text("stop")
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert out.startswith("done")
