#!/usr/bin/env python3
"""Compares two libiscsi iscsi-test-cu runs (CUnit "automated" XML results).

    cu_compare.py REFERENCE.xml CANDIDATE.xml [--ref-name N] [--cand-name N]

Prints passed/failed/total for each run, the tests whose result differs, and
every failing iSCSI-family test of the candidate with the assertions that
failed. Exits 1 when
  (a) a test that passed on the reference fails (or did not run) on the
      candidate, or
  (b) a test of the iSCSI family (suites iSCSI*) fails or did not run on the
      candidate,
and 2 when a results file is missing or holds no test at all.

The XML is read with regular expressions rather than an XML parser on
purpose: a run cut short by a timeout leaves a truncated file, and the tests
recorded before the cut still count.
"""
import argparse
import html
import re
import sys

SUITE_RE = re.compile(r"<CUNIT_RUN_SUITE_(SUCCESS|FAILURE)>\s*<SUITE_NAME>\s*(.*?)\s*</SUITE_NAME>", re.S)
TEST_RE = re.compile(
    r"<CUNIT_RUN_TEST_(SUCCESS|FAILURE)>\s*<TEST_NAME>\s*(.*?)\s*</TEST_NAME>(.*?)</CUNIT_RUN_TEST_\1>", re.S)
FIELD_RE = re.compile(r"<(FILE_NAME|LINE_NUMBER|CONDITION)>\s*(.*?)\s*</\1>", re.S)


class Run:
    def __init__(self, name, path):
        self.name = name
        self.path = path
        # "Suite.Test" -> True (passed) / False (failed), in run order.
        self.results = {}
        # "Suite.Test" -> list of "file:line: condition" for each failed assertion.
        self.failures = {}
        self.suite_failures = []
        self.complete = False
        self._read()

    def _read(self):
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError as e:
            raise SystemExit(f"cu_compare: cannot read the {self.name} results {self.path}: {e.strerror}") from e
        self.complete = "</CUNIT_TEST_RUN_REPORT>" in text
        # Walk suite headers and test records in file order; a test belongs
        # to the last suite header before it. A suite name seen twice (the
        # same suite in two families) gets a "#2" suffix so that nothing is
        # merged silently.
        events = [(m.start(), "suite", m) for m in SUITE_RE.finditer(text)]
        events += [(m.start(), "test", m) for m in TEST_RE.finditer(text)]
        events.sort(key=lambda e: e[0])
        suite = "?"
        seen_suites = {}
        for _, kind, m in events:
            if kind == "suite":
                name = m.group(2)
                seen_suites[name] = seen_suites.get(name, 0) + 1
                suite = name if seen_suites[name] == 1 else f"{name}#{seen_suites[name]}"
                if m.group(1) == "FAILURE":
                    self.suite_failures.append(suite)
                continue
            key = f"{suite}.{m.group(2)}"
            passed = m.group(1) == "SUCCESS"
            # CUnit writes one FAILURE record per failed assertion.
            self.results[key] = self.results.get(key, True) and passed
            if not passed:
                fields = dict(FIELD_RE.findall(m.group(3)))
                self.failures.setdefault(key, []).append(
                    html.unescape(f"{fields.get('FILE_NAME', '?')}:{fields.get('LINE_NUMBER', '?')}: "
                                  f"{fields.get('CONDITION', '?')}"))

    def passed(self):
        return sorted(k for k, v in self.results.items() if v)

    def failed(self):
        return sorted(k for k, v in self.results.items() if not v)

    def counts(self):
        p, f = len(self.passed()), len(self.failed())
        note = "" if self.complete else " (the results file is truncated: the run did not finish)"
        return f"{self.name}: passed {p}, failed {f}, total {p + f}{note}"


def is_iscsi_family(key):
    return key.startswith("iSCSI")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("candidate")
    ap.add_argument("--ref-name", default="reference")
    ap.add_argument("--cand-name", default="candidate")
    args = ap.parse_args()

    ref = Run(args.ref_name, args.reference)
    cand = Run(args.cand_name, args.candidate)
    for run in (ref, cand):
        if not run.results:
            print(f"cu_compare: no test result in {run.path} ({run.name})")
            return 2
    print(ref.counts())
    print(cand.counts())

    regressions = [k for k in ref.passed() if cand.results.get(k) is not True]
    fixed = [k for k in ref.failed() if cand.results.get(k) is True]
    both_fail = [k for k in ref.failed() if cand.results.get(k) is False]
    iscsi_keys = sorted({k for k in list(ref.results) + list(cand.results) if is_iscsi_family(k)})
    iscsi_bad = [k for k in iscsi_keys if cand.results.get(k) is not True]

    def show(title, keys, with_reasons=False):
        print(f"{title}: {len(keys)}")
        for k in keys:
            state = {True: "passed", False: "FAILED", None: "did not run"}[cand.results.get(k)]
            print(f"  {k} ({args.cand_name}: {state})")
            if with_reasons:
                for reason in cand.failures.get(k, [])[:5]:
                    print(f"      {reason}")

    show(f"passed on {args.ref_name}, not on {args.cand_name}", regressions, True)
    show(f"failed on {args.ref_name}, passed on {args.cand_name}", fixed)
    show(f"failed on both", both_fail)
    print(f"iSCSI family on {args.cand_name}: {len(iscsi_keys) - len(iscsi_bad)} of {len(iscsi_keys)} passed")
    show(f"iSCSI-family tests not passing on {args.cand_name}", iscsi_bad, True)
    for run in (ref, cand):
        for s in run.suite_failures:
            print(f"note: suite {s} could not be set up on {run.name}")

    ok = True
    if regressions:
        print(f"FAIL: {len(regressions)} test(s) that pass on {args.ref_name} do not pass on {args.cand_name}")
        ok = False
    if iscsi_bad:
        print(f"FAIL: {len(iscsi_bad)} iSCSI-family test(s) do not pass on {args.cand_name}")
        ok = False
    if not cand.complete or not ref.complete:
        print("FAIL: a run did not finish (truncated results)")
        ok = False
    if ok:
        print(f"PASS: {args.cand_name} passes every test {args.ref_name} passes, and the whole iSCSI family")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
