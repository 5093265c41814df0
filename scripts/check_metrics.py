#!/usr/bin/env python3
"""Checks an lfbatch metrics file against the same run's --json line.

Usage: check_metrics.py [--success] RUN.json METRICS.prom

Parses METRICS.prom with Prometheus' own text-format parser (Debian's
python3-prometheus-client, independent of lfbatch's writer), checks the
conventions (lfbatch_ prefix, HELP and TYPE for every family, counters named
_total) and that every figure the run printed in RUN.json is in the file with
the same value. --success: the run exited 0, so the time of the last
successful run must be that run's. Exits 1 naming each mismatch.
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

# The API's status codes (the spec's table); any other code in by_code is a
# transport failure, never counted against the quota.
API_CODES = {
    "OK", "FACE_DETECTION_FAILED", "ENCODING_ERROR", "DOWNLOAD_TIMEOUT", "DOWNLOAD_ERROR",
    "IMAGE_FILE_SIZE_TOO_BIG", "IMAGE_ID_NOT_EXIST", "CORRUPT_IMAGE", "INVALID_IMAGE_FORMAT_OR_SIZE",
    "INVALID_ARGUMENT", "UNAUTHORIZED", "KEY_EXPIRED", "RATE_LIMIT_EXCEEDED", "NO_PERMISSION",
    "OUT_OF_QUOTA", "NOT_FOUND", "INTERNAL_ERROR",
}


def main(argv):
    success = "--success" in argv
    args = [a for a in argv if a != "--success"]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    run = json.loads(open(args[0], encoding="utf-8").read())
    text = open(args[1], encoding="utf-8").read()

    problems = []
    samples = {}  # (name, frozenset(labels)) -> value
    for family in text_string_to_metric_families(text):
        if not family.name.startswith("lfbatch_"):
            problems.append(f"family {family.name} lacks the lfbatch_ prefix")
        if not family.documentation:
            problems.append(f"family {family.name} has no HELP")
        if family.type not in ("counter", "gauge"):
            problems.append(f"family {family.name} has type {family.type}, no TYPE line?")
        for s in family.samples:
            if family.type == "counter" and not s.name.endswith("_total"):
                problems.append(f"counter sample {s.name} does not end in _total")
            if family.type == "gauge" and s.name.endswith("_total"):
                problems.append(f"gauge {s.name} ends in _total")
            samples[(s.name, frozenset(s.labels.items()))] = s.value

    def value(name, **labels):
        key = (name, frozenset(labels.items()))
        if key not in samples:
            problems.append(f"missing {name}{labels or ''}")
            return None
        return samples[key]

    def same(name, expected, tolerance=0.0, **labels):
        got = value(name, **labels)
        if got is not None and abs(got - expected) > tolerance:
            problems.append(f"{name}{labels or ''} is {got}, the run's JSON says {expected}")

    same("lfbatch_last_run_id", run["run_id"])
    same("lfbatch_last_run_exit_code", run["exit_code"])
    same("lfbatch_last_run_ended", 1, how=run["ended"])
    for key, name in [("requests", "requests"), ("done", "done"), ("failed", "failed"),
                      ("retried", "retried"), ("throttled", "throttled"),
                      ("remaining", "remaining_jobs"), ("in_doubt", "in_doubt")]:
        same(f"lfbatch_last_run_{name}", run[key])
    if "saved" in run:
        same("lfbatch_last_run_calls_saved", run["saved"]["decided_locally"], by="preflight")
        same("lfbatch_last_run_calls_saved", run["saved"]["reused"], by="reused")
        same("lfbatch_last_run_sent_by_image_id", run["saved"]["sent_by_image_id"])
    same("lfbatch_last_run_duration_seconds", run["elapsed_s"], tolerance=0.0006)
    same("lfbatch_last_run_requests_per_second", run["req_per_s"], tolerance=0.051)
    for code, n in run["by_code"].items():
        same("lfbatch_last_run_answers", n, code=code)
    answers = {dict(k[1]).get("code") for k in samples if k[0] == "lfbatch_last_run_answers"}
    if answers != set(run["by_code"]):
        problems.append(f"answers by code {sorted(answers)} differ from by_code {sorted(run['by_code'])}")
    not_counted = sum(n for code, n in run["by_code"].items()
                      if code not in API_CODES or code in ("RATE_LIMIT_EXCEEDED", "OUT_OF_QUOTA"))
    same("lfbatch_last_run_quota_used", run["requests"] - not_counted)

    jobs = {state: value("lfbatch_jobs", state=state) for state in ("pending", "leased", "done", "failed")}
    if None not in jobs.values():
        if jobs["pending"] + jobs["leased"] != run["remaining"]:
            problems.append(f"jobs pending+leased {jobs['pending'] + jobs['leased']} != remaining {run['remaining']}")
        results = sum(v for (n, _), v in samples.items() if n == "lfbatch_results")
        if results != jobs["done"] + jobs["failed"]:
            problems.append(f"results by status sum to {results}, jobs done+failed are {jobs['done'] + jobs['failed']}")
    total = value("lfbatch_requests_total")
    if total is not None and total < run["requests"]:
        problems.append(f"lfbatch_requests_total {total} is below this run's {run['requests']} requests")
    value("lfbatch_throttled_total")
    ended = value("lfbatch_last_run_timestamp_seconds")
    last_ok = value("lfbatch_last_success_timestamp_seconds")
    if success and ended is not None and last_ok is not None and not (0 <= ended - last_ok < 5):
        problems.append(f"last success at {last_ok}, but this successful run ended at {ended}")

    for p in problems:
        print(f"check_metrics: {args[1]}: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_metrics: {args[1]}: {len(samples)} samples parse; run {run['run_id']}'s figures match "
          f"(exit {run['exit_code']}, {run['requests']} requests, {run['done']} done, "
          f"{run['throttled']} throttled, quota used {run['requests'] - not_counted}, "
          f"{run['req_per_s']} req/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
