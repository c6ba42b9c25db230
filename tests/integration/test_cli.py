"""The command line: -n checks a configuration, -V names the libraries."""

import os
import re
import subprocess
import unittest

from harness import HUSHD, HushdTestCase

GOOD = """\
# a configuration that passes the check
listen 127.0.0.1:5300
upstream 127.0.0.1:53
cache-size 100
block-mode nxdomain
block-ttl 1m
allow-clients 127.0.0.0/8 ::1
events events.jsonl
list ads lists/ads.txt
group lan {
    clients 127.0.0.1
    block ads
}
"""


class CommandLine(HushdTestCase):
    needs_unbound = False

    def setUp(self):
        super().setUp()
        if not os.access(HUSHD, os.X_OK):
            self.fail("hushd binary not found: %s" % HUSHD)
        self.write_list("ads", ["ads.test"])

    def run_hushd(self, *args):
        proc = subprocess.run([HUSHD] + list(args), cwd="/",
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=10)
        return proc.returncode, proc.stdout + proc.stderr

    def check(self, text, name="test.conf"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return self.run_hushd("-n", "-c", path)

    def assert_rejected(self, text, line, message=None):
        status, output = self.check(text, "bad.conf")
        self.assertEqual(status, 1, output)
        self.assertRegex(output, r"bad\.conf:%d: \S" % line)
        if message is not None:
            self.assertRegex(output, message)

    def test_good_configuration(self):
        status, output = self.check(GOOD)
        self.assertEqual(status, 0, output)

    def test_unknown_key(self):
        self.assert_rejected("listen 127.0.0.1:5300\n# fine so far\n"
                             "frobnicate yes\n", 3, "frobnicate")

    def test_bad_values(self):
        cases = [
            ("block-mode purple", "purple"),
            ("listen 127.0.0.1:70000", None),
            ("upstream not-an-address", None),
            ("block-ttl 5 parsecs", None),
            ("query-timeout soon", None),
            ("cache-size -1", None),
            ("allow-clients 10.0.0.0/33", None),
            ("log-allowed perhaps", None),
        ]
        for bad, message in cases:
            with self.subTest(line=bad):
                self.assert_rejected(GOOD + bad + "\n",
                                     GOOD.count("\n") + 1, message)

    def test_unknown_list_in_group(self):
        self.assert_rejected(GOOD + "group kids {\n    clients 10.0.0.1\n"
                             "    block nosuchlist\n}\n",
                             GOOD.count("\n") + 3, "nosuchlist")

    def test_unclosed_block(self):
        status, output = self.check(GOOD + "group kids {\n    block ads\n",
                                    "bad.conf")
        self.assertEqual(status, 1, output)
        self.assertIn("bad.conf", output)

    def test_missing_list_file(self):
        status, output = self.check(GOOD.replace("lists/ads.txt",
                                                 "lists/absent.txt"))
        self.assertEqual(status, 1, output)
        self.assertIn("absent.txt", output)

    def test_bad_list_line_is_a_warning(self):
        self.write_list("ads", ["ads.test", "not a rule at all %%%",
                                "more.test"])
        status, output = self.check(GOOD)
        self.assertEqual(status, 0, output)
        self.assertRegex(output, r"ads\.txt:2:")

    def test_missing_configuration_file(self):
        status, output = self.run_hushd("-n", "-c",
                                        os.path.join(self.tmp, "none.conf"))
        self.assertEqual(status, 1, output)
        self.assertIn("none.conf", output)

    def test_version(self):
        status, output = self.run_hushd("-V")
        self.assertEqual(status, 0, output)
        for name in ("hushd", "ldns", "libevent", "OpenSSL", "libmaxminddb"):
            self.assertRegex(output, re.compile(re.escape(name), re.I))


if __name__ == "__main__":
    unittest.main()
