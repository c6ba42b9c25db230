"""SIGHUP reloads configuration and lists, keeping the old state when the
new one cannot be built; SIGUSR1 reopens the event log."""

import json
import os
import signal
import subprocess
import unittest

import dns.query

from harness import (HUSHD, ZONE_A, HushdTestCase, ipv6_loopback,
                     make_query, wait_for)

HUSHCTL = os.path.join(os.path.dirname(os.path.abspath(HUSHD)), "hushctl")


class Reload(HushdTestCase):
    def setUp(self):
        super().setUp()
        self.hushd = self.start_hushd(lists={"ads": ["ads.test",
                                                     "removed.test"]})
        self.list_path = os.path.join(self.tmp, "lists", "ads.txt")
        self.assert_blocked("ads.test")

    def assert_blocked(self, name):
        self.assert_answer(self.hushd.query(name, "A"), "A", ["0.0.0.0"])

    def assert_passed(self, name):
        self.assert_answer(self.hushd.query(name, "A"), "A", [ZONE_A[name]])

    def is_blocked(self, name):
        r = self.hushd.query(name, "A")
        return [rd.to_text() for rrset in r.answer for rd in rrset] == [
            "0.0.0.0"]

    def test_changed_list_picked_up(self):
        self.assert_passed("added.test")
        self.write_list("ads", ["ads.test", "added.test"])
        self.hushd.signal(signal.SIGHUP)
        wait_for(lambda: self.is_blocked("added.test"), 5,
                 "added.test to be blocked after SIGHUP")
        self.assert_passed("removed.test")
        self.assert_blocked("ads.test")
        self.assertTrue(self.hushd.running())

    def test_changed_configuration_picked_up(self):
        with open(self.hushd.conf) as f:
            text = f.read()
        self.hushd.write_config(text.replace("block-mode null",
                                             "block-mode nxdomain"))
        self.hushd.signal(signal.SIGHUP)
        wait_for(lambda: self.hushd.query("ads.test", "A").rcode() == 3, 5,
                 "NXDOMAIN for ads.test after SIGHUP")

    def test_broken_configuration_keeps_old_state(self):
        with open(self.hushd.conf) as f:
            lines = f.read().splitlines()
        lines.append("frobnicate yes")
        self.hushd.write_config("\n".join(lines) + "\n")
        # Also changed, but part of the reload that must not happen.
        self.write_list("ads", ["added.test"])
        mark = len(self.hushd.stderr_text())
        self.hushd.signal(signal.SIGHUP)
        self.wait_stderr(self.hushd, r"hushd\.conf:%d:" % len(lines), mark)
        self.assertTrue(self.hushd.running(), self.hushd.stderr_text())
        self.assert_blocked("ads.test")
        self.assert_blocked("sub.ads.test")
        self.assert_passed("added.test")
        self.assert_passed("www.test")

    def test_unreadable_list_keeps_old_state(self):
        if os.geteuid() == 0:
            os.unlink(self.list_path)   # root reads through chmod 000
        else:
            os.chmod(self.list_path, 0)
        mark = len(self.hushd.stderr_text())
        self.hushd.signal(signal.SIGHUP)
        self.wait_stderr(self.hushd, r"ads\.txt", mark)
        self.assertTrue(self.hushd.running(), self.hushd.stderr_text())
        self.assert_blocked("ads.test")
        self.assert_blocked("removed.test")
        self.assert_passed("www.test")

    def test_reload_after_failed_reload(self):
        os.rename(self.list_path, self.list_path + ".away")
        mark = len(self.hushd.stderr_text())
        self.hushd.signal(signal.SIGHUP)
        self.wait_stderr(self.hushd, r"ads\.txt", mark)
        self.write_list("ads", ["added.test"])
        self.hushd.signal(signal.SIGHUP)
        wait_for(lambda: self.is_blocked("added.test"), 5,
                 "added.test to be blocked after the second SIGHUP")
        self.assert_passed("ads.test")


class Workers(HushdTestCase):
    """Several workers, each with its own sockets: every one answers, every
    one takes the new state on reload, and each client address keeps to
    one worker, so its repeated questions meet the cache it filled."""

    def setUp(self):
        super().setUp()
        if not os.access(HUSHCTL, os.X_OK):
            self.skipTest("hushctl not built")
        self.sock = os.path.join(self.tmp, "ctl.sock")
        self.v6 = ipv6_loopback()
        self.hushd = self.start_hushd(workers=3, lists={"ads": ["ads.test"]},
                                      listen_v6=self.v6,
                                      extra=["control %s" % self.sock])

    def worker_queries(self):
        r = subprocess.run([HUSHCTL, "-s", self.sock, "stats", "--json"],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [w["queries"] for w in json.loads(r.stdout)["workers"]]

    def query_from(self, name, source, tcp=False):
        q = make_query(name, "A")
        server = "::1" if ":" in source else "127.0.0.1"
        if tcp:
            return dns.query.tcp(q, server, port=self.hushd.port,
                                 source=source, timeout=3)
        return dns.query.udp(q, server, port=self.hushd.port,
                             source=source, timeout=3)

    def answers(self, name):
        # Twelve client addresses, a new socket per query: every worker
        # gets some of them.
        return [[rd.to_text() for rrset in
                 self.query_from(name, "127.0.0.%d" % (1 + i % 12)).answer
                 for rd in rrset] for i in range(40)]

    def test_every_worker_answers_and_reloads(self):
        before = self.worker_queries()
        self.assertEqual(self.answers("ads.test"), [["0.0.0.0"]] * 40)
        self.assertEqual(self.answers("www.test"), [[ZONE_A["www.test"]]] * 40)
        after = self.worker_queries()
        self.assertEqual(len(after), 3)
        self.assertTrue(all(a > b for a, b in zip(after, before)),
                        "some worker answered nothing: %r then %r"
                        % (before, after))
        self.write_list("ads", ["ads.test", "www.test"])
        self.hushd.signal(signal.SIGHUP)
        wait_for(lambda: self.hushd.query("www.test", "A").answer[0][0]
                 .to_text() == "0.0.0.0", 5, "www.test blocked after SIGHUP")
        self.assertEqual(self.answers("www.test"), [["0.0.0.0"]] * 40)
        self.assertIn("3 workers", self.hushd.stderr_text())

    def test_a_client_keeps_to_one_worker_and_its_cache(self):
        for host in range(21, 27):
            source = "127.0.0.%d" % host
            name = "client%d.test" % host
            before = self.worker_queries()
            # Every query from a new source port.
            for _ in range(8):
                self.query_from(name, source)
            moved = [a - b for a, b in zip(self.worker_queries(), before)]
            self.assertEqual(sorted(moved), [0, 0, 8], source)
            self.assertEqual(self.forwarded(name), 1, source)
        # Over TCP the same client reaches the same worker's cache.
        self.query_from("both.test", "127.0.0.31")
        for _ in range(3):
            self.query_from("both.test", "127.0.0.31", tcp=True)
        self.assertEqual(self.forwarded("both.test"), 1)
        if self.v6:
            for _ in range(8):
                self.query_from("six.test", "::1")
            self.assertEqual(self.forwarded("six.test"), 1)


class ReopenEvents(HushdTestCase):
    def test_sigusr1_after_rename_writes_new_file(self):
        hushd = self.start_hushd()
        self.assert_answer(hushd.query("before.test", "A"), "A",
                           [ZONE_A["before.test"]])
        os.rename(hushd.events_path, hushd.events_path + ".1")
        hushd.signal(signal.SIGUSR1)

        def reopened():
            hushd.query("after.test", "A")
            return os.path.exists(hushd.events_path)
        wait_for(reopened, 5, "hushd to create a new events file",
                 interval=0.1)
        hushd.query("after.test", "A")
        hushd.stop_and_check()

        old = [e.get("qname") for e in hushd.events(hushd.events_path + ".1")]
        new = [e.get("qname") for e in hushd.events()]
        self.assertIn("before.test", old)
        self.assertIn("after.test", new)
        self.assertNotIn("before.test", new)


if __name__ == "__main__":
    unittest.main()
