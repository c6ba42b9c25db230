"""SIGHUP reloads configuration and lists, keeping the old state when the
new one cannot be built; SIGUSR1 reopens the event log."""

import os
import signal
import unittest

from harness import ZONE_A, HushdTestCase, wait_for


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
    """Several workers, each with its own sockets: every one answers, and
    every one takes the new state on reload."""

    def setUp(self):
        super().setUp()
        self.hushd = self.start_hushd(workers=3, lists={"ads": ["ads.test"]})

    def answers(self, name):
        # A new socket per query: the kernel spreads them over the workers.
        return [[rd.to_text() for rrset in self.hushd.query(name, "A").answer
                 for rd in rrset] for _ in range(40)]

    def test_every_worker_answers_and_reloads(self):
        self.assertEqual(self.answers("ads.test"), [["0.0.0.0"]] * 40)
        self.assertEqual(self.answers("www.test"), [[ZONE_A["www.test"]]] * 40)
        self.write_list("ads", ["ads.test", "www.test"])
        self.hushd.signal(signal.SIGHUP)
        wait_for(lambda: self.hushd.query("www.test", "A").answer[0][0]
                 .to_text() == "0.0.0.0", 5, "www.test blocked after SIGHUP")
        self.assertEqual(self.answers("www.test"), [["0.0.0.0"]] * 40)
        self.assertIn("3 workers", self.hushd.stderr_text())


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
