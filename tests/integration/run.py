#!/usr/bin/python3
"""Runs hushd's integration tests.

    tests/integration/run.py [--hushd PATH] [-k PATTERN]

Prints one line per test and, last, exactly one line
"RESULT passed=N failed=N skipped=N". Exits 1 if any test failed. Tests
that need unbound are skipped where it is not installed.

Debian's /usr/bin/python3 is named on purpose: the tests need its
python3-dnspython package.
"""

import argparse
import importlib.util
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class LineResult(unittest.TestResult):
    """One line per test as it finishes; details kept for the end."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self.passed = 0
        self.skipped_count = 0
        self.failed_ids = set()
        self.details = []
        self._started = {}

    def _line(self, test, status, note=""):
        elapsed = time.monotonic() - self._started.get(test.id(),
                                                       time.monotonic())
        self.stream.write("%-5s %s (%.2fs)%s\n" % (
            status, test.id(), elapsed, " " + note if note else ""))
        self.stream.flush()

    def startTest(self, test):
        super().startTest(test)
        self._started[test.id()] = time.monotonic()

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._line(test, "ok")

    def _failed(self, test, err, status):
        self.failed_ids.add(test.id())
        self.details.append((status, test.id(),
                             self._exc_info_to_string(err, test)))
        self._line(test, status)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._failed(test, err, "FAIL")

    def addError(self, test, err):
        super().addError(test, err)
        self._failed(test, err, "ERROR")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            status = "FAIL" if issubclass(err[0],
                                          test.failureException) else "ERROR"
            self.failed_ids.add(test.id())
            self.details.append((status, subtest.id(),
                                 self._exc_info_to_string(err, test)))
            self._line(subtest, status)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.skipped_count += 1
        self._line(test, "skip", reason)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hushd", default=os.path.join(HERE, "..", "..",
                                                        "src", "hushd"),
                        help="the hushd binary to test (default: the one "
                        "built in the source tree)")
    parser.add_argument("-k", dest="pattern", action="append",
                        help="only tests whose name contains PATTERN "
                        "(or matches it as a shell pattern); repeatable")
    args = parser.parse_args()

    os.environ["HUSHD"] = os.path.abspath(args.hushd)
    sys.path.insert(0, HERE)
    # No __pycache__ in the source tree: "make dist" ships this directory.
    sys.dont_write_bytecode = True
    if importlib.util.find_spec("dns") is None:
        sys.stderr.write("run.py: dnspython is missing (Debian: "
                         "apt install python3-dnspython)\n")
        print("RESULT passed=0 failed=1 skipped=0")
        return 1

    loader = unittest.TestLoader()
    if args.pattern:
        loader.testNamePatterns = [p if "*" in p else "*%s*" % p
                                   for p in args.pattern]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)

    result = LineResult(sys.stdout)
    start = time.monotonic()
    suite.run(result)
    elapsed = time.monotonic() - start

    for status, name, trace in result.details:
        sys.stdout.write("\n%s: %s\n%s" % (status, name, trace))
    failed = len(result.failed_ids)
    sys.stdout.write("\n%d tests in %.1fs\n" % (result.testsRun, elapsed))
    print("RESULT passed=%d failed=%d skipped=%d"
          % (result.passed, failed, result.skipped_count))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
