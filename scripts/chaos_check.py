#!/usr/bin/env python3
"""The checks of scripts/chaos.sh: compares an lfbatch database with lfsamples'
manifest and lfemu's call log (GET /_admin/calls, JSON Lines) and prints

  lost        jobs neither done nor failed;
  wrong       final jobs whose api_status or verify_score differs from the manifest;
  dup / kill  billed, fault-free answers lfemu gave for an image (by SHA-256)
              beyond one per job with those bytes, divided by the kills;
  unrecorded  calls whose request_id no attempts row has, minus attempts rows
              without a request_id (a call whose answer never came or carried
              none: in_doubt, sent, a reset, a garbage body), floored at 0.
              Each attempts row stands for at most one call, so 0 means every
              call lfemu saw is on record.

Exit status 1 when lost > 0, wrong > 0 or the last run did not complete
(--last-run-exit); with --strict also when unrecorded > 0 or dup / kill exceeds
the requests that can be in flight at a kill (--concurrency): those answers
died with the process, anything more was an answer received and not stored. Standard
library only. Rerun it on a kept work directory (CHAOS_KEEP=1):
  python3 scripts/chaos_check.py --db build/chaos/chaos.db \\
      --manifest build/chaos/manifest.csv --calls build/chaos/calls.jsonl --kills 4
"""
import argparse
import csv
import hashlib
import json
import os
import sqlite3
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--manifest", required=True, help="lfsamples --manifest; paths "
                    "relative to the manifest's directory")
    ap.add_argument("--calls", required=True, help="lfemu's GET /_admin/calls")
    ap.add_argument("--kills", type=int, required=True)
    ap.add_argument("--landed", type=int, help="kills that hit a live run")
    ap.add_argument("--last-run-exit", type=int, default=0)
    ap.add_argument("--final-before", type=int, help="jobs final before the last run")
    ap.add_argument("--seconds", type=int)
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--concurrency", type=int, default=0,
                    help="requests in flight at most (the bound of dup / kill with --strict)")
    a = ap.parse_args()

    with open(a.calls) as f:
        calls = [json.loads(line) for line in f if line.strip()]
    calls.sort(key=lambda c: c["seq"])

    base = os.path.dirname(os.path.abspath(a.manifest))
    expected = {}
    with open(a.manifest, newline="") as f:
        for row in csv.DictReader(f):
            expected[os.path.normpath(os.path.join(base, row["file"]))] = row

    db = sqlite3.connect(f"file:{a.db}?mode=ro", uri=True, timeout=30)
    jobs = db.execute("SELECT id, source, state, api_status, verify_score FROM jobs").fetchall()
    attempt_ids = {r[0] for r in db.execute(
        "SELECT request_id FROM attempts WHERE request_id IS NOT NULL")}
    n_attempts = db.execute("SELECT count(*) FROM attempts").fetchone()[0]
    unknown_fate = db.execute(
        "SELECT count(*) FROM attempts WHERE request_id IS NULL").fetchone()[0]
    # Rows that record a call but not its request_id, shown by disposition.
    no_id = db.execute("SELECT coalesce(disposition, '?'), count(*) FROM attempts "
                       "WHERE request_id IS NULL GROUP BY 1 ORDER BY 2 DESC").fetchall()
    runs = dict(db.execute("SELECT ended_how, count(*) FROM runs GROUP BY ended_how").fetchall())

    lost = wrong = 0
    wrong_examples = []
    jobs_by_hash = {}
    for job_id, source, state, api_status, score in jobs:
        with open(source, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        jobs_by_hash[digest] = jobs_by_hash.get(digest, 0) + 1
        if state not in ("done", "failed"):
            lost += 1
            continue
        want = expected.get(os.path.normpath(source))
        if want is None:
            ok = False
        else:
            ok = api_status == want["expected_status"]
            if ok and want["expected_status"] == "OK":
                ok = score is not None and abs(score - float(want["expected_score"])) < 1e-6
        if not ok:
            wrong += 1
            if len(wrong_examples) < 5:
                w = want or {"expected_status": "(not in the manifest)", "expected_score": ""}
                wrong_examples.append(f"job {job_id} {source}: {state} {api_status} {score}, "
                                      f"manifest {w['expected_status']} {w['expected_score']}")

    # Paid answers: billed and delivered as decided (no fault), per image.
    paid = {}
    dup = unmatched = 0
    unmatched_by = {}
    for c in calls:
        if c["billed"] and not c["faults"] and c["sha256"]:
            n = paid.get(c["sha256"], 0) + 1
            paid[c["sha256"]] = n
            if n > jobs_by_hash.get(c["sha256"], 0):
                dup += 1
        if c["request_id"] not in attempt_ids:
            unmatched += 1
            kind = "+".join(c["faults"]) or "clean answer"
            unmatched_by[kind] = unmatched_by.get(kind, 0) + 1
    unrecorded = max(0, unmatched - unknown_fate)
    per_kill = dup / a.kills if a.kills else 0.0

    billed = sum(1 for c in calls if c["billed"])
    landed = "" if a.landed is None else f" ({a.landed})"
    before = "" if a.final_before is None else f"{a.final_before} final before the last run"
    rows = [
        ("jobs", len(jobs), before),
        ("kills (landed)", f"{a.kills}{landed}", "SIGKILLs after the run recorded itself"),
        ("last run exit", a.last_run_exit, "0: completed"),
        ("lost", lost, "jobs neither done nor failed"),
        ("wrong", wrong, "final result differs from the manifest"),
        ("dup paid calls / kill", f"{per_kill:.2f}",
         f"{dup} billed fault-free answers repeated for an image"),
        ("calls without a record", unrecorded,
         f"{unmatched} calls' request_id in no attempt, {unknown_fate} rows without one"),
        ("calls seen by lfemu", len(calls), f"{billed} billed"),
        ("attempts rows", n_attempts, ""),
        ("runs", sum(runs.values()),
         ", ".join(f"{k} {v}" for k, v in sorted(runs.items(), key=str))),
    ]
    if a.seconds is not None:
        rows.append(("seconds", a.seconds, "from the archive to the checks"))
    width = max(len(r[0]) for r in rows)
    print()
    for name, value, note in rows:
        print(f"  {name:<{width}}  {str(value):>11}  {note}".rstrip())
    if unmatched_by:
        print("  calls without a matching attempt, by what lfemu did: " +
              ", ".join(f"{k} {v}" for k, v in sorted(unmatched_by.items())))
    if no_id:
        print("  attempts rows without a request_id, by disposition: " +
              ", ".join(f"{d} {n}" for d, n in no_id))
    for e in wrong_examples:
        print("  wrong: " + e)
    failed = lost > 0 or wrong > 0 or a.last_run_exit != 0
    if a.strict and (unrecorded > 0 or per_kill > a.concurrency):
        failed = True
    print("chaos: " + ("FAIL" if failed else "ok") + (" (strict)" if a.strict else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
