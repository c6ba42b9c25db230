"""hushctl report: the figures of a fixture event log, as text, JSON and HTML.

The fixture (tests/fixtures/events-report.jsonl) holds three devices within
the last day before NOW, two devices' older events, and malformed lines: not
JSON, not an object, wrong field types, a bad time, invalid UTF-8, a
duplicate key, a NUL byte. The tests add a line of 1 MB and deeply nested
JSON. The HTML page is rendered by headless Chromium when it is installed.
"""

import json
import os
import shutil
import subprocess
import unittest

from harness import HERE, HUSHD, HushdTestCase

HUSHCTL = os.path.join(os.path.dirname(HUSHD), "hushctl")
FIXTURE = os.path.join(HERE, "..", "fixtures", "events-report.jsonl")
NOW = "2026-11-25T15:00:00.000Z"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# The text report of the fixture for the last 24 hours, section by section.
TEXT_HEADER = """\
hushd report, 2026-11-24 15:00 to 2026-11-25 15:00 UTC (the last 24h)
3 devices: 18 DNS queries (10 blocked, 1 logged), 7 TLS/QUIC connections \
(1 blocked, 2 to unresolved addresses)
11 lines skipped (not valid hushd events)
"""

TEXT_TV = """
living-room-tv (Xiaomi Communications Co Ltd)
  DNS queries: 10, blocked 6 (60%), logged 1
  TLS/QUIC connections: 5, blocked 1, to unresolved addresses 1
  Top blocked names:
         4  tracking.miui.com
         2  data.mistat.xiaomi.com
  Where answers pointed (countries, share of 6 addresses):
    CN          50%  (3 addresses)
    US          33%  (2 addresses)
    SG          17%  (1 address)
  Networks answers pointed to (ASNs):
    AS4134      50%  CHINANET (3 addresses)
    AS15169     17%  GOOGLE (1 address)
    AS2906      17%  NETFLIX-ASN (1 address)
    AS45102     17%  Alibaba US Technology Co., Ltd. (1 address)
  Names seen only over TLS/QUIC (never looked up through hushd):
         2  log.hidden-xiaomi.com
         1  api.hardcoded.example
         1  rr1.googlevideo.com
  Connections to addresses no lookup gave:
         1  203.0.113.99  (api.hardcoded.example)
"""

TEXT_EVIL = """
<b>evil</b> (Espressif Inc.)
  DNS queries: 4, blocked 2 (50%), logged 0
  TLS/QUIC connections: 2, blocked 0, to unresolved addresses 1
  Top blocked names:
         1  ads.<i>evil</i>.example
         1  metrics.tuya.example
  Where answers pointed (countries, share of 2 addresses):
    DE         100%  (2 addresses)
  Networks answers pointed to (ASNs):
    AS24940    100%  Hetzner Online GmbH (2 addresses)
  Connections to addresses no lookup gave:
         1  2001:db8::99
"""

TEXT_UNNAMED = """
192.168.1.77
  DNS queries: 4, blocked 2 (50%), logged 0
  TLS/QUIC connections: 0, blocked 0, to unresolved addresses 0
  Top blocked names:
         1  \\x1b]0;owned\\x07.example
         1  doubleclick.net
  Where answers pointed (countries, share of 2 addresses):
    unknown     50%  (1 address)
    NL          50%  (1 address)
  Networks answers pointed to (ASNs):
    unknown     50%  (1 address)
    AS1136      50%  KPN (1 address)
"""


class Report(HushdTestCase):
    needs_unbound = False

    def setUp(self):
        super().setUp()
        if not os.access(HUSHCTL, os.X_OK):
            self.fail("hushctl binary not found: %s" % HUSHCTL)

    def report(self, *args, events=FIXTURE, status=0):
        proc = subprocess.run(
            [HUSHCTL, "report", "--events", events, "--now", NOW]
            + list(args), stdin=subprocess.DEVNULL, capture_output=True,
            timeout=60)
        stderr = proc.stderr.decode("utf-8", "replace")
        self.assertEqual(proc.returncode, status, stderr)
        for mark in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            self.assertNotIn(mark, stderr)
        return proc.stdout.decode("utf-8")

    def hostile_log(self):
        """The fixture, then a line of 1 MB and nested arrays 3000 deep
        (beyond jansson's limit) and 500 deep (within it: a good line)."""
        path = os.path.join(self.tmp, "events.jsonl")
        head = ('{"ts":"2026-11-25T12:00:00.000Z","event":"dns",'
                '"device":"living-room-tv","action":"block",')
        with open(FIXTURE, "rb") as f:
            data = f.read()
        lines = [
            head + '"qname":"' + "a" * (1 << 20) + '.example"}',
            head + '"qname":"deep.example","x":' + "[" * 3000 + "]" * 3000
            + "}",
            head + '"qname":"tracking.miui.com","x":' + "[" * 500
            + "]" * 500 + "}",
            "{" * 100000,
        ]
        with open(path, "wb") as f:
            f.write(data + "".join(l + "\n" for l in lines).encode())
        return path

    def test_text(self):
        out = self.report("--since", "24h")
        self.assertEqual(out, TEXT_HEADER + TEXT_TV + TEXT_EVIL
                         + TEXT_UNNAMED)
        self.assertNotIn("\x1b", out)

    def test_whole_log(self):
        out = self.report()
        self.assertTrue(out.startswith(
            "hushd report, 2026-11-22 20:00 to 2026-11-25 14:00 UTC\n"
            "4 devices: 21 DNS queries (11 blocked, 1 logged), "), out)
        self.assertIn("\nkitchen-speaker\n  DNS queries: 1, blocked 0", out)
        self.assertIn("  Top blocked names:\n         5  tracking.miui.com\n",
                      out)

    def test_since(self):
        # Two hours back: only the unnamed device's last three queries.
        data = json.loads(self.report("--since", "2h", "--json"))
        self.assertEqual(data["period"], {"from": "2026-11-25T13:00:00.000Z",
                                          "to": NOW, "since": "2h"})
        self.assertEqual(data["events"], 3)
        self.assertEqual([d["device"] for d in data["devices"]],
                         ["192.168.1.77"])
        self.assertEqual(data["devices"][0]["queries"], 3)
        data = json.loads(self.report("--since", "7d", "--json"))
        self.assertEqual(data["totals"]["devices"], 4)
        self.assertEqual(data["totals"]["queries"], 21)
        self.assertEqual(data["outside_period"], 0)
        data = json.loads(self.report("--since", "30m", "--json"))
        self.assertEqual(data["events"], 0)
        self.assertEqual(data["devices"], [])
        self.assertEqual(data["outside_period"], 28)
        self.report("--since", "yesterday", status=64)

    def test_json(self):
        data = json.loads(self.report("--since", "24h", "--json"))
        self.assertEqual(data["skipped"], 11)
        self.assertEqual(data["outside_period"], 3)
        self.assertEqual(data["totals"], {
            "devices": 3, "queries": 18, "blocked": 10, "logged": 1,
            "connections": 7, "connections_blocked": 1, "unresolved": 2})
        tv, evil, unnamed = data["devices"]
        self.assertEqual(tv["device"], "living-room-tv")
        self.assertEqual(tv["vendor"], "Xiaomi Communications Co Ltd")
        self.assertEqual((tv["queries"], tv["blocked"], tv["logged"]),
                         (10, 6, 1))
        self.assertEqual(tv["top_blocked"], [
            {"name": "tracking.miui.com", "count": 4},
            {"name": "data.mistat.xiaomi.com", "count": 2}])
        self.assertEqual([(c["cc"], c["addresses"], c["percent"])
                          for c in tv["countries"]],
                         [("CN", 3, 50), ("US", 2, 33), ("SG", 1, 17)])
        self.assertEqual(tv["asns"][0], {"asn": 4134, "org": "CHINANET",
                                         "addresses": 3, "percent": 50})
        self.assertEqual(tv["tls_only"], [
            {"name": "log.hidden-xiaomi.com", "connections": 2},
            {"name": "api.hardcoded.example", "connections": 1},
            {"name": "rr1.googlevideo.com", "connections": 1}])
        self.assertEqual(tv["unresolved_destinations"], [
            {"address": "203.0.113.99", "connections": 1,
             "sni": "api.hardcoded.example"}])
        self.assertEqual(evil["device"], "<b>evil</b>")
        self.assertEqual(evil["unresolved_destinations"][0]["address"],
                         "2001:db8::99")
        self.assertEqual(unnamed["device"], "192.168.1.77")
        self.assertIsNone(unnamed["vendor"])
        self.assertEqual([(c["cc"], c["percent"])
                          for c in unnamed["countries"]],
                         [(None, 50), ("NL", 50)])
        self.assertEqual(unnamed["top_blocked"][0]["name"],
                         "\x1b]0;owned\x07.example")

    def test_unnamed_device_is_its_mac(self):
        """A device without a configured name is counted once by its MAC,
        whatever addresses (IPv4, IPv6) it used."""
        path = os.path.join(self.tmp, "mac.jsonl")
        lines = []
        for client in ("192.168.1.50", "fd00::50", "fd00::51"):
            lines.append(json.dumps({
                "ts": "2026-11-25T14:00:00.000Z", "event": "dns",
                "client": client, "mac": "64:09:80:12:34:56",
                "vendor": "Xiaomi Communications Co Ltd", "group": "default",
                "qname": "tracking.miui.com", "qtype": "A", "action": "block",
                "reason": "list", "list": "xiaomi", "rcode": "NOERROR",
                "answers": []}))
        lines.append(json.dumps({
            "ts": "2026-11-25T14:00:01.000Z", "event": "dns",
            "client": "192.168.1.60", "qname": "www.test", "qtype": "A",
            "action": "pass", "rcode": "NOERROR", "answers": []}))
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        report = json.loads(self.report("--json", events=path))
        devices = {d["device"]: d for d in report["devices"]}
        self.assertEqual(set(devices), {"64:09:80:12:34:56", "192.168.1.60"})
        self.assertEqual(devices["64:09:80:12:34:56"]["queries"], 3)
        self.assertEqual(devices["64:09:80:12:34:56"]["vendor"],
                         "Xiaomi Communications Co Ltd")

    def test_hostile_lines(self):
        path = self.hostile_log()
        data = json.loads(self.report("--since", "24h", "--json",
                                      events=path))
        self.assertEqual(data["skipped"], 14)
        self.assertEqual(data["devices"][0]["top_blocked"][0],
                         {"name": "tracking.miui.com", "count": 5})
        out = self.report(events=path)
        self.assertIn("\n14 lines skipped (not valid hushd events)\n", out)
        with open(path, "rb") as f:
            proc = subprocess.run([HUSHCTL, "report", "--events", "-"],
                                  stdin=f, capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(b"\n14 lines skipped", proc.stdout)

    def test_errors(self):
        self.report(events=os.path.join(self.tmp, "missing.jsonl"),
                    status=66)
        self.report("--html", os.path.join(self.tmp, "no", "such.html"),
                    status=73)
        self.report("--bogus", status=64)

    def html(self):
        path = os.path.join(self.tmp, "report.html")
        self.assertEqual(self.report("--since", "24h", "--html", path), "")
        with open(path, encoding="utf-8") as f:
            return path, f.read()

    def test_html_self_contained_and_escaped(self):
        _, page = self.html()
        self.assertTrue(page.startswith("<!DOCTYPE html>"))
        self.assertNotIn("<script", page.lower())
        self.assertNotIn("http://", page)
        self.assertNotIn("https://", page)
        self.assertNotIn("<b>evil", page)
        self.assertNotIn("<i>evil", page)
        self.assertIn("&lt;b&gt;evil&lt;/b&gt;", page)
        self.assertIn("ads.&lt;i&gt;evil&lt;/i&gt;.example", page)
        self.assertNotIn("\x1b", page)
        self.assertIn("<svg", page)

    def chromium(self, *args):
        if CHROMIUM is None:
            self.skipTest("chromium is not installed")
        profile = os.path.join(self.tmp, "chromium-profile")
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--user-data-dir=" + profile] + list(args),
            stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
            env=dict(os.environ, HOME=self.tmp))
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        return proc.stdout.decode("utf-8", "replace")

    def test_html_in_chromium(self):
        path, _ = self.html()
        dom = self.chromium("--dump-dom", "file://" + path)
        for text in ("What your devices talked to", "Blocked",
                     "Where answers pointed (countries)", "living-room-tv",
                     "192.168.1.77", "&lt;b&gt;evil&lt;/b&gt;",
                     "tracking.miui.com", "Xiaomi Communications Co Ltd",
                     "3 devices made 18 DNS lookups",
                     "11 lines of the event log could not be read"):
            self.assertIn(text, dom)
        self.assertNotIn("<b>evil</b>", dom)
        self.assertNotIn("<script", dom)

        shot = os.path.join(self.tmp, "report.png")
        self.chromium("--screenshot=" + shot, "--window-size=1200,1600",
                      "file://" + path)
        with open(shot, "rb") as f:
            png = f.read()
        self.assertGreater(len(png), 1000)
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")


if __name__ == "__main__":
    unittest.main()
