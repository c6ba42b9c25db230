"""Blocking end to end: block modes, list formats, the allowlist, groups."""

import unittest

from harness import ZONE_A, HushdTestCase

BLOCK_TTL = 42


class BlockModes(HushdTestCase):
    """A listed name and its subdomains are answered by hushd itself."""

    def start(self, mode):
        hushd = self.start_hushd(lists={"ads": ["ads.test"]}, block_mode=mode,
                                 block_ttl="%ds" % BLOCK_TTL)
        self.queries_before = self.unbound.num_queries()
        return hushd

    def assert_ttls(self, response):
        """Every record hushd made up carries block-ttl."""
        for rrset in response.answer + response.authority:
            self.assertEqual(rrset.ttl, BLOCK_TTL, response)

    def assert_not_forwarded(self, *names):
        for name in names:
            self.assertEqual(self.forwarded(name), 0,
                             "%s reached unbound" % name)
        self.assertEqual(self.unbound.num_queries(), self.queries_before,
                         "unbound received queries")

    def test_null(self):
        hushd = self.start("null")
        for name in ("ads.test", "sub.ads.test", "deep.sub.ads.test"):
            r = hushd.query(name, "A")
            self.assert_answer(r, "A", ["0.0.0.0"])
            self.assert_ttls(r)
        r = hushd.query("ads.test", "AAAA")
        self.assert_answer(r, "AAAA", ["::"])
        self.assert_ttls(r)
        for rdtype in ("TXT", "HTTPS"):
            r = hushd.query("ads.test", rdtype)
            self.assert_rcode(r, "NOERROR")
            self.assertEqual(r.answer, [], "expected NODATA for " + rdtype)
            self.assert_ttls(r)
        r = hushd.query("sub.ads.test", "A", tcp=True)
        self.assert_answer(r, "A", ["0.0.0.0"])
        self.assert_not_forwarded("ads.test", "sub.ads.test",
                                  "deep.sub.ads.test")

    def test_nxdomain(self):
        hushd = self.start("nxdomain")
        for name, rdtype in (("ads.test", "A"), ("sub.ads.test", "A"),
                             ("ads.test", "AAAA"), ("ads.test", "TXT")):
            r = hushd.query(name, rdtype)
            self.assert_rcode(r, "NXDOMAIN")
            self.assertEqual(r.answer, [])
            self.assert_ttls(r)
        self.assert_rcode(hushd.query("sub.ads.test", "A", tcp=True),
                          "NXDOMAIN")
        self.assert_not_forwarded("ads.test", "sub.ads.test")

    def test_refused(self):
        hushd = self.start("refused")
        for name, rdtype in (("ads.test", "A"), ("sub.ads.test", "AAAA"),
                             ("ads.test", "TXT")):
            r = hushd.query(name, rdtype)
            self.assert_rcode(r, "REFUSED")
            self.assertEqual(r.answer, [])
        self.assert_not_forwarded("ads.test", "sub.ads.test")

    def test_suffix_match_stops_at_label_boundary(self):
        hushd = self.start("null")
        self.assert_answer(hushd.query("notads.test", "A"), "A",
                           [ZONE_A["notads.test"]])
        self.assertEqual(self.forwarded("notads.test"), 1)


class Allowlist(HushdTestCase):
    def test_allowlist_wins_over_lists(self):
        hushd = self.start_hushd(
            lists={"trackers": ["tracker.test"],
                   "more": ["ok.tracker.test", "||tracker.test^"]},
            allowlist=["ok.tracker.test"])
        self.assert_answer(hushd.query("ok.tracker.test", "A"), "A",
                           [ZONE_A["ok.tracker.test"]])
        self.assert_answer(hushd.query("tracker.test", "A"), "A", ["0.0.0.0"])
        self.assert_answer(hushd.query("other.tracker.test", "A"), "A",
                           ["0.0.0.0"])
        self.assertEqual(self.forwarded("ok.tracker.test"), 1)
        self.assertEqual(self.forwarded("other.tracker.test"), 0)


class Formats(HushdTestCase):
    MIXED = [
        "# a comment",                          # 1
        "! an adblock comment",                 # 2
        "plain.test",                           # 3
        "0.0.0.0 hosts0.test",                  # 4
        "127.0.0.1 hosts127.test",              # 5
        "||adblock.test^",                      # 6
        "@@||exception.adblock.test^",          # 7
        "*.wild.test",                          # 8
        "this is not a rule %%%",               # 9
        "after-garbage.test",                   # 10
        "",                                     # 11
    ]
    BLOCKED = ["plain.test", "sub.plain.test", "hosts0.test",
               "hosts127.test", "adblock.test", "sub.adblock.test",
               "a.wild.test", "after-garbage.test"]
    PASSED = ["exception.adblock.test", "wild.test", "www.test"]

    def setUp(self):
        super().setUp()
        self.hushd = self.start_hushd(lists={"mixed": self.MIXED})

    def test_each_format_blocks(self):
        for name in self.BLOCKED:
            with self.subTest(name=name):
                self.assert_answer(self.hushd.query(name, "A"), "A",
                                   ["0.0.0.0"])
                self.assertEqual(self.forwarded(name), 0)

    def test_exceptions_and_bare_parent_pass(self):
        for name in self.PASSED:
            with self.subTest(name=name):
                self.assert_answer(self.hushd.query(name, "A"), "A",
                                   [ZONE_A[name]])

    def test_bad_line_warned_with_file_and_line(self):
        self.wait_stderr(self.hushd, r"mixed\.txt:9:")
        self.assertNotRegex(self.hushd.stderr_text(), r"mixed\.txt:(1|2|11):")


class Groups(HushdTestCase):
    LISTS = {"ads": ["ads.test"], "kids": ["kids.test"],
             "watch": ["watched.test"]}

    def test_client_in_no_group_blocked_by_every_list(self):
        hushd = self.start_hushd(lists=self.LISTS, extra=[
            "group far {",
            "    clients 10.0.0.0/8",
            "    block ads",
            "}",
        ])
        for name in ("ads.test", "kids.test", "watched.test"):
            self.assert_answer(hushd.query(name, "A"), "A", ["0.0.0.0"])

    def test_group_blocks_only_its_lists(self):
        hushd = self.start_hushd(lists=self.LISTS, extra=[
            "device me 127.0.0.1",
            "group lan {",
            "    clients me",
            "    block ads",
            "    log watch",
            "}",
        ])
        self.assert_answer(hushd.query("ads.test", "A"), "A", ["0.0.0.0"])
        self.assert_answer(hushd.query("kids.test", "A"), "A",
                           [ZONE_A["kids.test"]])
        self.assert_answer(hushd.query("watched.test", "A"), "A",
                           [ZONE_A["watched.test"]])
        self.assertEqual(self.forwarded("watched.test"), 1)

    def test_semicolons_separate_group_lines(self):
        hushd = self.start_hushd(lists=self.LISTS, extra=[
            "group lan { clients 127.0.0.0/8 ::1; block kids; log ads }",
        ])
        self.assert_answer(hushd.query("kids.test", "A"), "A", ["0.0.0.0"])
        self.assert_answer(hushd.query("ads.test", "A"), "A",
                           [ZONE_A["ads.test"]])

    def test_default_group_for_clients_in_no_other(self):
        hushd = self.start_hushd(lists=self.LISTS, extra=[
            "group far {",
            "    clients 10.0.0.0/8",
            "    block ads",
            "}",
            "group default {",
            "    block kids",
            "}",
        ])
        self.assert_answer(hushd.query("kids.test", "A"), "A", ["0.0.0.0"])
        self.assert_answer(hushd.query("ads.test", "A"), "A",
                           [ZONE_A["ads.test"]])


if __name__ == "__main__":
    unittest.main()
