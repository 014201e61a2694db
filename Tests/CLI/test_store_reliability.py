"""Nothing stored is lost, hidden or duplicated: import, export, list and doctor against the real
Redis Stack, with documents other tools wrote (malformed ones too) and with a read-only user.
"""
from __future__ import annotations

import json
import os
import uuid

import pytest

from test_cli import FACESCOPE, REDIS_URL, doc, run, store

pytestmark = pytest.mark.skipif(
    not (REDIS_URL and FACESCOPE) and os.environ.get("FACESCOPE_REQUIRE_SERVICES") != "1",
    reason="needs scripts/test.sh (FACESCOPE_TEST_REDIS_URL, FACESCOPE_BIN)",
)


def fs(prefix: str, *args: str, stdin: str | None = None):
    return run(*args, "--redis-url", REDIS_URL, "--key-prefix", prefix, stdin=stdin)


def names(done) -> list[str]:
    return [json.loads(line)["filename"] for line in done.stdout.splitlines()]


def redis_client():
    import redis

    return redis.Redis.from_url(REDIS_URL)


def test_import_never_replaces_another_filenames_document(prefix):
    store(prefix, [doc("original.jpg", faces=2), doc("other.jpg")])
    original = json.loads(fs(prefix, "show", "original.jpg", "--json").stdout)
    incoming = doc("incoming.jpg", faces=1)
    incoming["pk"] = original["pk"]
    done = fs(prefix, "import", "-", stdin=json.dumps(incoming) + "\n")
    assert done.returncode == 0, done.stderr
    assert "-:1: pk" in done.stderr and "belongs to another image" in done.stderr
    # The original is intact and listed once; the incoming one has a pk of its own.
    assert sorted(names(fs(prefix, "list", "--json"))) == ["incoming.jpg", "original.jpg", "other.jpg"]
    again = json.loads(fs(prefix, "show", "original.jpg", "--json").stdout)
    assert again == original
    stored = json.loads(fs(prefix, "show", "incoming.jpg", "--json").stdout)
    assert stored["pk"] != original["pk"] and len(stored["pk"]) == 26
    assert "ok" in fs(prefix, "doctor", "--no-triton").stdout


def test_import_refuses_empty_filenames_and_pks_that_are_not_ulids(prefix):
    lines = [doc("fine.jpg"), {**doc(""), "pk": ""}, {**doc("evil.jpg"), "pk": "../../etc"}, doc("also-fine.jpg")]
    done = fs(prefix, "import", "-", stdin="\n".join(json.dumps(d) for d in lines) + "\n")
    assert done.returncode == 1
    assert "-:2:" in done.stderr and "filename is empty" in done.stderr
    assert "-:3:" in done.stderr and "not a 26-character ULID" in done.stderr
    assert "stored 2 documents, 2 failed" in done.stderr
    assert sorted(names(fs(prefix, "list", "--json"))) == ["also-fine.jpg", "fine.jpg"]
    r = redis_client()
    assert not list(r.scan_iter(match="*etc*"))


def test_export_writes_every_document_even_those_the_index_lacks(prefix, tmp_path):
    store(prefix, [doc(f"img-{i:03d}.jpg", faces=i % 3) for i in range(255)])
    # A document another tool wrote that FaceScope's index cannot hold (a number where the index
    # reads text).
    pk = "01J0000000000000000000FOREIGN"[:26]
    foreign = doc("unindexed.jpg", faces=1)
    foreign["pk"] = pk
    foreign["faces"] = [dict(foreign["faces"][0], pk="F", bbox=dict(foreign["faces"][0]["bbox"], pk="B"))]
    foreign["filename_words"] = 5
    redis_client().execute_command("JSON.SET", f"{prefix}{pk}", "$", json.dumps(foreign))
    out = tmp_path / "all.jsonl"
    done = fs(prefix, "export", "-o", str(out))
    assert done.returncode == 0, done.stderr
    exported = [json.loads(line)["filename"] for line in out.read_text().splitlines()]
    assert len(exported) == 256 and "unindexed.jpg" in exported
    assert "exported 256 documents" in done.stderr
    # A full listing cannot show that document: it says so and fails, rather than look complete.
    listing = fs(prefix, "list", "--json")
    assert listing.returncode == 1
    assert "1 stored documents are not in FaceScope's index" in listing.stderr
    assert len(listing.stdout.splitlines()) == 255
    doctor = fs(prefix, "doctor", "--no-triton", "--json")
    checks = {c["check"]: c for c in json.loads(doctor.stdout)}
    assert checks["indexed documents"]["ok"] is False


def test_a_malformed_foreign_document_is_skipped_with_its_key_named(prefix):
    store(prefix, [doc("a.jpg", faces=1), doc("b.jpg")])
    key = f"{prefix}01J00000000000000000000BAD"
    bad = {**doc("bad.jpg"), "pk": "01J00000000000000000000BAD", "height": 1.5, "width": -7}
    redis_client().execute_command("JSON.SET", key, "$", json.dumps(bad))
    for command in (["list", "--json"], ["list", "--sort", "faces", "--json"], ["search", "jpg", "--json"],
                    ["export"]):
        done = fs(prefix, *command)
        assert done.returncode == 0, (command, done.stderr)
        assert sorted(names(done)) == ["a.jpg", "b.jpg"], command
        assert f"skipped document {key}" in done.stderr, command
        assert "height" in done.stderr
    people = fs(prefix, "people")
    assert people.returncode == 0, people.stderr
    doctor = fs(prefix, "doctor", "--no-triton", "--json")
    assert doctor.returncode == 1
    checks = {c["check"]: c for c in json.loads(doctor.stdout)}
    assert checks["documents"]["ok"] is False
    assert key in checks["documents"]["detail"] and "1 of 3" in checks["documents"]["detail"]


def test_read_commands_under_a_mistyped_prefix_create_nothing():
    typo = f"typo{uuid.uuid4().hex[:8]}:utils.Modle:"
    r = redis_client()
    for command in (["list"], ["search", "x"], ["show", "x.jpg"], ["export"], ["people"],
                    ["doctor", "--no-triton"]):
        done = fs(typo, *command)
        assert done.returncode in (0, 1), (command, done.stderr)
    assert not [i for i in r.execute_command("FT._LIST") if typo.encode() in i]
    assert not list(r.scan_iter(match=f"*{typo}*"))
    assert "nothing is stored under the key prefix" in fs(typo, "doctor", "--no-triton").stdout


def test_a_read_only_user_lists_searches_shows_and_exports(prefix):
    store(prefix, [doc("one.jpg", faces=1), doc("two.jpg", faces=2)])
    r = redis_client()
    user = f"ro{uuid.uuid4().hex[:6]}"
    r.execute_command("ACL", "SETUSER", user, "on", ">ro-secret", "~*", "resetchannels", "-@all", "+@read",
                      "+@connection", "+ft.search", "+ft.aggregate", "+ft.info", "+ft.cursor", "+json.get",
                      "+json.mget", "+json.type", "+scan", "+info", "+module|list")
    try:
        url = REDIS_URL.replace("://", f"://{user}:ro-secret@", 1)
        base = ["--redis-url", url, "--key-prefix", prefix]
        listed = run("list", "--json", *base)
        assert listed.returncode == 0, listed.stderr
        assert sorted(names(listed)) == ["one.jpg", "two.jpg"]
        assert run("search", "two", *base).returncode == 0
        assert run("show", "one.jpg", *base).returncode == 0
        assert len(run("export", *base).stdout.splitlines()) == 2
        doctor = run("doctor", "--no-triton", *base)
        assert "has no JSON" not in doctor.stdout + doctor.stderr
        # A write says what is wrong: a permission, not a missing module.
        denied = run("delete", "one.jpg", *base)
        assert denied.returncode == 1
        assert "may not" in denied.stderr and "NOPERM" in denied.stderr
        # Without MODULE LIST either, the modules are still found.
        r.execute_command("ACL", "SETUSER", user, "-module|list")
        again = run("list", "--json", *base)
        assert again.returncode == 0, again.stderr
        assert sorted(names(again)) == ["one.jpg", "two.jpg"]
    finally:
        r.execute_command("ACL", "DELUSER", user)
