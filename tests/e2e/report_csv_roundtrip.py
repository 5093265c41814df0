#!/usr/bin/env python3
"""End to end: `lfbatch report` CSV read back with Python's csv module (an
independent RFC 4180 parser) gives exactly the database's rows; filters,
--columns and --excel agree with SQL run by Python's sqlite3; `lfbatch retry`
re-queues what it says; bad flags exit 2 naming the fix.

Usage: report_csv_roundtrip.py /path/to/lfbatch
"""
import csv
import datetime
import io
import os
import random
import sqlite3
import subprocess
import sys
import tempfile

LFBATCH = sys.argv[1]
T0 = 1_764_000_000_000  # 2025-11-24T16:00:00Z
THRESHOLD = 0.7
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def lfbatch(*args, expect=0):
    p = subprocess.run([LFBATCH, *args], capture_output=True)
    check(p.returncode == expect,
          f"lfbatch {' '.join(args)}: exit {p.returncode}, wanted {expect}; stderr: {p.stderr.decode(errors='replace')}")
    return p


def iso(ms):
    if ms is None:
        return ""
    dt = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def is_plain_number(s):
    import re
    return re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s) is not None


def shown(text):
    """What a neutralising CSV writer must write for a text cell."""
    if text is None:
        return ""
    if text.startswith(TRIGGERS) and not (text[0] in "+-" and is_plain_number(text)):
        return "'" + text
    return text


TRICKY = [
    "/photos/plain.jpg", "/photos/with, comma.jpg", '/photos/with "quotes".jpg',
    "/photos/line\nbreak.jpg", "/photos/张三_身份证.jpg", "=HYPERLINK(\"http://evil\",\"x\").jpg",
    "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tleading tab", "\rleading cr", "-0.5",
    "trailing space ", "", "https://img.example.com/a.jpg?x=1&y=2",
]
STATUSES_FAILED = [("FACE_DETECTION_FAILED", "no face detected"), ("FACE_DETECTION_FAILED", "too many faces"),
                   ("CORRUPT_IMAGE", None), ("INVALID_IMAGE_FORMAT_OR_SIZE", "宽和高大于 8px"),
                   ("LOCAL_FILE_ERROR", "permission denied, \"x\"")]


def fill(db_path, rng):
    con = sqlite3.connect(db_path)
    con.execute("INSERT INTO runs (id, started_at, finished_at, ended_how) VALUES (1, ?, ?, 'completed')",
                (T0, T0 + 3_600_000))
    con.execute("INSERT INTO runs (id, started_at, finished_at, ended_how) VALUES (2, ?, ?, 'out_of_quota')",
                (T0 + 4_000_000, T0 + 5_000_000))
    for i in range(1, 2001):
        state = rng.choice(["done"] * 6 + ["failed"] * 2 + ["pending", "leased"])
        source = rng.choice(TRICKY) + f"#{i}" if i % 3 == 0 else f"/archive/{i // 100}/photo_{i}.jpg"
        if i % 3 == 0 and rng.random() < 0.5:
            source = rng.choice(TRICKY)  # exact tricky value, e.g. "-0.5" or ""
            if source == "":
                source = f"id{i}"
        tag = rng.choice([None, "nightly", "补录", "=tag", "a,b"])
        score = status = reason = image_id = request_id = http = finished = None
        attempts = 0
        if state == "done":
            score = rng.choice([THRESHOLD, 0.0, 1.0, rng.random(), rng.random(), 0.7027237415313721])
            status, http, image_id = "OK", 200, f"img{i:08x}"
        elif state == "failed":
            status, reason = rng.choice(STATUSES_FAILED)
            http = 400 if status != "LOCAL_FILE_ERROR" else None
        if state in ("done", "failed"):
            request_id = f"TID{i:032x}"
            finished = T0 + i * 1000
            attempts = rng.randint(1, 3)
        created = T0 + i
        con.execute(
            "INSERT INTO jobs (id, source_kind, source, tag, state, attempts, verify_score, image_id, request_id, "
            "api_status, reason, http_status, created_at, updated_at, finished_at) "
            "VALUES (?, 'path', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (i, source, tag, state, attempts, score, image_id, request_id, status, reason, http, created,
             created, finished))
        for k in range(attempts + (1 if rng.random() < 0.2 else 0)):
            started = T0 + i * 1000 - 900 + k * 100 + rng.randint(0, 50)
            run = 1 if i < 1500 else 2
            con.execute("INSERT INTO attempts (job_id, run_id, started_at, finished_at, api_status, disposition) "
                        "VALUES (?, ?, ?, ?, ?, ?)", (i, run, started, started + 40, status or "TIMEOUT", "done"))
    con.commit()
    con.close()


def expected_rows(db_path, where="", params=()):
    con = sqlite3.connect(db_path)
    rows = con.execute(
        "SELECT j.id, j.source, j.state, j.verify_score, j.image_id, j.request_id, j.api_status, j.reason, "
        "j.attempts, (SELECT MIN(started_at) FROM attempts a WHERE a.job_id = j.id), "
        "(SELECT MAX(started_at) FROM attempts a WHERE a.job_id = j.id), j.tag, j.decided_by, j.state "
        f"FROM jobs j {where} ORDER BY j.id", params).fetchall()
    con.close()
    return rows


def compare(csv_rows, db_rows, label):
    header = ["id", "source", "state", "verify_score", "decision", "image_id", "request_id", "api_status",
              "reason", "attempts", "first_attempt_at", "last_attempt_at", "tag", "decided_by"]
    check(csv_rows[0] == header, f"{label}: header {csv_rows[0]}")
    body = csv_rows[1:]
    check(len(body) == len(db_rows), f"{label}: {len(body)} CSV rows, {len(db_rows)} in the database")
    for got, (jid, source, state, score, image_id, request_id, status, reason, attempts, first, last, tag,
              decided_by, _) in zip(body, db_rows):
        want_decider = "" if state not in ("done", "failed") else (decided_by or "api")
        check(got[13] == want_decider, f"{label}: job {jid} decided_by {got[13]} != {want_decider}")
        want_score = "" if score is None else score
        decision = "" if score is None else ("pass" if score >= THRESHOLD else "fail")
        check(int(got[0]) == jid, f"{label}: id {got[0]} != {jid}")
        check(got[1] == shown(source), f"{label}: job {jid} source {got[1]!r} != {shown(source)!r}")
        check(got[2] == state, f"{label}: job {jid} state")
        if score is None:
            check(got[3] == "", f"{label}: job {jid} score {got[3]!r} should be empty")
        else:
            check(float(got[3]) == want_score, f"{label}: job {jid} score {got[3]!r} != {score!r} (not exact)")
        check(got[4] == decision, f"{label}: job {jid} decision {got[4]!r} != {decision!r}")
        check(got[5] == (image_id or ""), f"{label}: job {jid} image_id")
        check(got[6] == (request_id or ""), f"{label}: job {jid} request_id")
        check(got[7] == (status or ""), f"{label}: job {jid} api_status")
        check(got[8] == shown(reason), f"{label}: job {jid} reason {got[8]!r}")
        check(int(got[9]) == attempts, f"{label}: job {jid} attempts")
        check(got[10] == iso(first), f"{label}: job {jid} first_attempt_at {got[10]} != {iso(first)}")
        check(got[11] == iso(last), f"{label}: job {jid} last_attempt_at {got[11]} != {iso(last)}")
        check(got[12] == shown(tag), f"{label}: job {jid} tag {got[12]!r} != {shown(tag)!r}")


def read_csv(path, encoding="utf-8"):
    with open(path, newline="", encoding=encoding) as f:
        return list(csv.reader(f))


def main():
    rng = random.Random(20261125)
    with tempfile.TemporaryDirectory(prefix="lf_report_e2e_") as tmp:
        db = os.path.join(tmp, "q.db")
        lfbatch("init", "--db", db)
        fill(db, rng)

        out = os.path.join(tmp, "all.csv")
        lfbatch("report", "--db", db, "-o", out, "--threshold", str(THRESHOLD))
        raw = open(out, "rb").read()
        check(not raw.startswith(b"\xef\xbb\xbf"), "no BOM without --excel")
        check(b"\r\n" in raw, "rows end with CRLF")
        compare(read_csv(out), expected_rows(db), "all jobs")

        # Stdout gives the same bytes as -o.
        p = lfbatch("report", "--db", db, "--threshold", str(THRESHOLD))
        check(p.stdout == raw, "report to stdout == report to -o FILE")

        excel = os.path.join(tmp, "excel.csv")
        lfbatch("report", "--db", db, "-o", excel, "--excel")
        check(open(excel, "rb").read().startswith(b"\xef\xbb\xbf"), "--excel starts with a UTF-8 BOM")
        check(read_csv(excel, "utf-8-sig") == read_csv(out), "--excel has the same rows after the BOM")

        failed = os.path.join(tmp, "failed.csv")
        lfbatch("report", "--db", db, "-o", failed, "--state", "failed", "--status",
                "FACE_DETECTION_FAILED,CORRUPT_IMAGE")
        compare(read_csv(failed), expected_rows(
            db, "WHERE j.state = 'failed' AND j.api_status IN ('FACE_DETECTION_FAILED','CORRUPT_IMAGE')"),
            "failed filter")

        scored = os.path.join(tmp, "scored.csv")
        lfbatch("report", "--db", db, "-o", scored, "--min-score", "0.5", "--max-score", "0.9", "--tag", "补录")
        compare(read_csv(scored), expected_rows(
            db, "WHERE j.verify_score >= 0.5 AND j.verify_score <= 0.9 AND j.tag = '补录'"), "score and tag filter")

        since = os.path.join(tmp, "since.csv")
        lfbatch("report", "--db", db, "-o", since, "--since", iso(T0 + 500_000), "--until", iso(T0 + 900_000))
        compare(read_csv(since), expected_rows(
            db, "WHERE j.finished_at >= ? AND j.finished_at < ?", (T0 + 500_000, T0 + 900_000)), "since/until")

        run2 = os.path.join(tmp, "run2.csv")
        lfbatch("report", "--db", db, "-o", run2, "--run", "2")
        compare(read_csv(run2), expected_rows(
            db, "WHERE j.id IN (SELECT job_id FROM attempts WHERE run_id = 2)"), "run filter")

        cols = os.path.join(tmp, "cols.csv")
        lfbatch("report", "--db", db, "-o", cols, "--columns", "id,verify_score,finished_at")
        rows = read_csv(cols)
        check(rows[0] == ["id", "verify_score", "finished_at"], f"--columns header {rows[0]}")
        con = sqlite3.connect(db)
        want = [[str(i), "" if s is None else s, iso(f)] for i, s, f in
                con.execute("SELECT id, verify_score, finished_at FROM jobs ORDER BY id")]
        got = [[r[0], "" if r[1] == "" else float(r[1]), r[2]] for r in rows[1:]]
        check(got == want, "--columns rows match the database")

        # JSON summary agrees with SQL.
        import json
        p = lfbatch("report", "--db", db, "--format", "json")
        summary = json.loads(p.stdout)
        by_state = dict(con.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
        for state, n in by_state.items():
            check(summary["by_state"][state] == n, f"json by_state[{state}] {summary['by_state'][state]} != {n}")
        passed = con.execute("SELECT count(*) FROM jobs WHERE verify_score >= ?", (THRESHOLD,)).fetchone()[0]
        check(summary["passed"] == passed, f"json passed {summary['passed']} != {passed}")

        # Errors name the bad value and the fix, exit 2.
        p = lfbatch("report", "--db", db, "--status", "FACE_FAIL", expect=2)
        check(b"FACE_FAIL" in p.stderr and b"FACE_DETECTION_FAILED" in p.stderr, "unknown status lists codes")
        p = lfbatch("report", "--db", db, "--columns", "id,score", expect=2)
        check(b"'score'" in p.stderr and b"verify_score" in p.stderr, "unknown column lists columns")
        p = lfbatch("report", "--db", db, "--since", "last tuesday", expect=2)
        check(b"last tuesday" in p.stderr and b"ISO 8601" in p.stderr, "bad --since names the form")
        p = lfbatch("retry", "--db", db, expect=2)
        check(b"--all" in p.stderr, "retry without a filter asks for --all")
        lfbatch("report", "--db", os.path.join(tmp, "missing.db"), expect=3)

        # retry re-queues exactly the matching finished jobs and keeps their attempts.
        matching = [r[0] for r in con.execute(
            "SELECT id FROM jobs WHERE api_status = 'FACE_DETECTION_FAILED' AND state IN ('done','failed')")]
        attempts_before = con.execute("SELECT count(*) FROM attempts").fetchone()[0]
        con.close()
        p = lfbatch("retry", "--db", db, "--status", "FACE_DETECTION_FAILED", "--dry-run")
        check(f"would re-queue {len(matching)} jobs".encode() in p.stdout, f"dry run says {p.stdout!r}")
        p = lfbatch("retry", "--db", db, "--status", "FACE_DETECTION_FAILED")
        check(f"re-queued {len(matching)} jobs".encode() in p.stdout, f"retry says {p.stdout!r}")
        con = sqlite3.connect(db)
        states = con.execute(
            f"SELECT DISTINCT state, attempts, api_status FROM jobs WHERE id IN ({','.join(map(str, matching))})"
        ).fetchall()
        check(states == [("pending", 0, None)], f"re-queued jobs are pending with 0 attempts: {states}")
        check(con.execute("SELECT count(*) FROM attempts").fetchone()[0] == attempts_before, "attempts kept")
        con.close()

        # jobs show / list.
        p = lfbatch("jobs", "show", str(matching[0]), "--db", db)
        check(b"Attempts (" in p.stdout and b"state pending" in p.stdout, "jobs show prints the job and attempts")
        p = lfbatch("jobs", "list", "--db", db, "--state", "pending", "--limit", "5")
        check(p.stdout.count(b"\n") == 7, f"jobs list --limit 5: header, 5 rows, a footer: {p.stdout!r}")
        lfbatch("jobs", "show", "99999999", "--db", db, expect=2)

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("report CSV round trip: all checks passed")


if __name__ == "__main__":
    main()
