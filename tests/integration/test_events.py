"""The event log: one JSON object a line, with the fields DESIGN.md names."""

import json
import os
import re
import unittest

from harness import ZONE_A, WWW_AAAA, HushdTestCase, wait_for

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
PROBE = "probe.hushd.test"

LISTS = {"ads": ["ads.test"], "watch": ["watched.test"]}
GROUP = [
    "device me 127.0.0.1",
    "group lan {",
    "    clients me",
    "    block ads",
    "    log watch",
    "}",
]


class Events(HushdTestCase):
    def run_queries(self, hushd):
        hushd.query("sub.ads.test", "A")
        hushd.query("watched.test", "A")
        hushd.query("www.test", "A")
        hushd.query("www.test", "A")
        hushd.query("www.test", "AAAA")
        hushd.query("missing.test", "A")
        hushd.stop_and_check()
        events = hushd.events()
        for event in events:
            self.assert_common_fields(event)
        return [e for e in events if e["qname"] != PROBE]

    def assert_common_fields(self, event):
        for field in ("ts", "event", "client", "qname", "qtype", "action"):
            self.assertIn(field, event)
        self.assertRegex(event["ts"], TS)
        self.assertEqual(event["event"], "dns")
        self.assertEqual(event["client"], "127.0.0.1")
        self.assertIn(event["action"], ("pass", "log", "block"))
        self.assertFalse(event["qname"].endswith("."), event)

    def assert_forwarded(self, event, ips, cached):
        self.assertEqual(event.get("cached"), cached, event)
        if not cached:
            self.assertTrue(str(event.get("upstream", "")).endswith(
                ":%d" % self.unbound.port), event)
        self.assertIsInstance(event.get("ms"), (int, float), event)
        self.assertGreaterEqual(event["ms"], 0)
        self.assertEqual([a.get("ip") for a in event.get("answers", [])],
                         ips, event)

    def test_fields_of_each_action(self):
        hushd = self.start_hushd(lists=LISTS, extra=GROUP)
        events = self.run_queries(hushd)
        self.assertEqual([(e["qname"], e["qtype"]) for e in events], [
            ("sub.ads.test", "A"), ("watched.test", "A"), ("www.test", "A"),
            ("www.test", "A"), ("www.test", "AAAA"), ("missing.test", "A")])
        block, log, first, second, aaaa, missing = events

        self.assertEqual(block["action"], "block")
        self.assertEqual(block.get("reason"), "list")
        self.assertEqual(block.get("list"), "ads")
        self.assertEqual(block.get("rule"), "ads.test")
        self.assertEqual(block.get("device"), "me")
        self.assertEqual(block.get("group"), "lan")

        self.assertEqual(log["action"], "log")
        self.assertEqual(log.get("reason"), "list")
        self.assertEqual(log.get("list"), "watch")
        self.assertEqual(log.get("rule"), "watched.test")
        self.assert_forwarded(log, [ZONE_A["watched.test"]], False)

        for event in (first, second, aaaa, missing):
            self.assertEqual(event["action"], "pass")
            self.assertNotIn("reason", event)
        self.assert_forwarded(first, [ZONE_A["www.test"]], False)
        self.assert_forwarded(second, [ZONE_A["www.test"]], True)
        self.assert_forwarded(aaaa, [WWW_AAAA], False)
        self.assertEqual(missing.get("rcode"), "NXDOMAIN")
        self.assertEqual(first.get("rcode"), "NOERROR")

    def test_log_allowed_no_writes_only_decisions(self):
        hushd = self.start_hushd(lists=LISTS, extra=GROUP, log_allowed=False)
        events = self.run_queries(hushd)
        self.assertEqual([(e["qname"], e["action"]) for e in events],
                         [("sub.ads.test", "block"), ("watched.test", "log")])

    def test_events_written_while_running(self):
        hushd = self.start_hushd()
        hushd.query("www.test", "A")

        def logged():
            if not os.path.exists(hushd.events_path):
                return False
            return any(e.get("qname") == "www.test" for e in hushd.events())
        wait_for(logged, 3, "the event to reach the file while hushd runs")

    def test_events_to_stdout(self):
        hushd = self.start_hushd(events="-")
        hushd.query("www.test", "A")
        hushd.stop_and_check()
        with open(hushd.stdout_path) as f:
            events = [json.loads(line) for line in f if line.strip()]
        for event in events:
            self.assert_common_fields(event)
        self.assertIn("www.test", [e["qname"] for e in events])


if __name__ == "__main__":
    unittest.main()
