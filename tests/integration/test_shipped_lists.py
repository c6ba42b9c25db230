"""The shipped lists under the default configuration (conf/hushd.conf).

Every list must load without a warning, be named in the configuration and
installed by Makefile.am, and block what it is for. No name a device needs
(tests/fixtures/must-not-block.txt: connectivity checks, time, updates,
push, sign-in, playback) may be blocked, nor any subdomain of one: a list
entry as broad as "apple.com" fails here.

hushd runs with conf/hushd.conf as shipped except for what a test must
change: where it listens, its upstream (a fake one that answers every A
query with PASSED_IP, so no query leaves the machine), one worker, the
event log's path, and list paths made absolute (the test's copy of the
configuration lives in a temporary directory).
"""

import os
import re
import secrets
import subprocess

from harness import (HUSHD, FakeUpstream, HushdTestCase, a_addresses,
                     answer_a, free_port)

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
CONF = os.path.join(TOP, "conf", "hushd.conf")
LISTS_DIR = os.path.join(TOP, "blocklists")
MUST_NOT_BLOCK = os.path.join(TOP, "tests", "fixtures", "must-not-block.txt")
PASSED_IP = "192.0.2.99"
# Listed names each test queries per list (the first ones in the file).
SAMPLES_PER_LIST = 4
# One lower-case DNS name: labels of letters, digits and '-', at least two.
NAME_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}"
                     r"(?<!-))+$")


def read_names(path):
    """The names in a list or fixture file, in order, comments dropped."""
    names = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(line)
    return names


def shipped_lists():
    """File name -> names, for every blocklists/*.txt."""
    return {name: read_names(os.path.join(LISTS_DIR, name))
            for name in sorted(os.listdir(LISTS_DIR))
            if name.endswith(".txt")}


def covering_rule(name, rules):
    """The rule among rules that blocks name (itself or a parent), or None."""
    labels = name.split(".")
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        if candidate in rules:
            return candidate
    return None


def random_subdomain(name):
    return "r%s.%s" % (secrets.token_hex(5), name)


def conf_words(line):
    return line.split("#", 1)[0].split()


def default_config(port, upstream, events):
    """conf/hushd.conf with its listen, upstream, workers and events lines
    replaced and its list paths made absolute."""
    conf_dir = os.path.dirname(CONF)
    lines = ["# conf/hushd.conf, adapted by test_shipped_lists.py",
             "listen 127.0.0.1:%d" % port,
             "upstream %s" % upstream,
             "user root"]
    with open(CONF) as f:
        for line in f:
            line = line.rstrip("\n")
            words = conf_words(line)
            key = words[0] if words else None
            if key in ("listen", "upstream", "user"):
                continue
            if key == "workers":
                line = "workers 1"
            elif key == "events":
                line = "events %s" % events
            elif key == "list" and len(words) == 3:
                line = "list %s %s" % (words[1], os.path.normpath(
                    os.path.join(conf_dir, words[2])))
            lines.append(line)
    return "\n".join(lines) + "\n"


class ShippedListFiles(HushdTestCase):
    """The files themselves, and how the configuration and build use them."""

    needs_unbound = False

    def test_lists_load_without_warnings(self):
        proc = subprocess.run([HUSHD, "-n", "-c", CONF], cwd="/",
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=30)
        output = proc.stdout + proc.stderr
        self.assertEqual(proc.returncode, 0, output)
        self.assertIn("configuration OK (0 list warnings)", output)
        others = [line for line in output.splitlines()
                  if "configuration OK" not in line]
        self.assertEqual(others, [], "hushd -n printed more than its verdict")

    def test_one_plain_name_a_line(self):
        """Plain lower-case names only, none twice, none under another."""
        seen = {}
        for fname, names in shipped_lists().items():
            self.assertGreater(len(names), 0, fname)
            for name in names:
                with self.subTest(list=fname, name=name):
                    self.assertRegex(name, NAME_RE)
                    self.assertNotIn(name, seen, "also in " +
                                     seen.get(name, ""))
                    seen[name] = fname
        for name, fname in seen.items():
            parent = covering_rule(name.split(".", 1)[1], seen)
            self.assertIsNone(parent, "%s (%s) is already covered by %s (%s)"
                              % (name, fname, parent, seen.get(parent)))

    def test_every_list_configured_blocked_and_installed(self):
        with open(CONF) as f:
            statements = [conf_words(line) for line in f]
        list_files = {os.path.basename(w[2]): w[1] for w in statements
                      if len(w) == 3 and w[0] == "list"}
        blocked = {name for w in statements if w and w[0] == "block"
                   for name in w[1:]}
        with open(os.path.join(TOP, "Makefile.am")) as f:
            makefile = f.read()
        for fname in shipped_lists():
            with self.subTest(list=fname):
                self.assertIn(fname, list_files,
                              "no 'list' line in conf/hushd.conf")
                self.assertIn(list_files[fname], blocked,
                              "not blocked by the default group")
                self.assertIn("blocklists/%s" % fname, makefile,
                              "not installed by Makefile.am")

    def test_no_list_covers_a_must_not_block_name(self):
        names = read_names(MUST_NOT_BLOCK)
        self.assertGreaterEqual(len(names), 80)
        for fname, rules in shipped_lists().items():
            rules = set(rules)
            for name in names:
                rule = covering_rule(name, rules)
                self.assertIsNone(rule, "%s: '%s' blocks %s" %
                                  (fname, rule, name))


class DefaultConfiguration(HushdTestCase):
    """hushd running conf/hushd.conf answers each name as it should."""

    needs_unbound = False

    def setUp(self):
        super().setUp()
        self.upstream = FakeUpstream(
            lambda query: [("main", answer_a(query, PASSED_IP))])
        self.addCleanup(self.upstream.close)
        port = free_port()
        self.hushd = self.start_hushd(
            config_text=default_config(port, self.upstream.address,
                                       "events.jsonl"), port=port)

    def forwarded(self, qname):
        return sum(1 for q in self.upstream.queries
                   if q.question[0].name.to_text(True).lower() == qname)

    def test_must_not_block_names_pass(self):
        for name in read_names(MUST_NOT_BLOCK):
            for qname in (name, random_subdomain(name)):
                with self.subTest(name=qname):
                    r = self.hushd.query(qname, "A")
                    self.assertEqual(a_addresses(r), [PASSED_IP],
                                     "%s was blocked:\n%s" % (qname, r))
                    self.assertEqual(self.forwarded(qname), 1)

    def test_listed_names_blocked(self):
        for fname, names in shipped_lists().items():
            for name in names[:SAMPLES_PER_LIST]:
                for qname in (name, random_subdomain(name)):
                    with self.subTest(list=fname, name=qname):
                        r = self.hushd.query(qname, "A")
                        self.assertNotIn(PASSED_IP, a_addresses(r),
                                         "%s was not blocked:\n%s"
                                         % (qname, r))
                        self.assertEqual(self.forwarded(qname), 0)
        self.assertEqual(self.upstream.errors, [])
