"""Where answers lead: MaxMind databases built by the test (with
tests/tools/mkmmdb.pl), an unbound that answers names with addresses in
their networks, and hushd judging answers by country, AS and CNAME chain."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import (UNBOUND, UNBOUND_CONTROL, HushdTestCase, Unbound,
                     ipv6_loopback, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
MKMMDB = os.path.join(HERE, "..", "tools", "mkmmdb.pl")
PERL = shutil.which("perl")

COUNTRIES = """\
country 198.18.1.0/24 CN
country 198.18.2.0/24 RU
country 198.18.3.0/24 DE
country 2001:db8:c0::/48 CN
"""
ASNS = """\
asn 198.18.1.0/24 4134 "CHINANET-BACKBONE"
asn 198.18.2.0/24 12389 "ROSTELECOM-AS"
asn 198.18.3.0/24 3320 "Deutsche Telekom AG"
asn 2001:db8:c0::/48 4134 "CHINANET-BACKBONE"
"""
RECORDS = [
    'local-data: "cn.geo.test. 300 IN A 198.18.1.10"',
    'local-data: "ru.geo.test. 300 IN A 198.18.2.10"',
    'local-data: "de.geo.test. 300 IN A 198.18.3.10"',
    'local-data: "mixed.geo.test. 300 IN A 198.18.3.11"',
    'local-data: "mixed.geo.test. 300 IN A 198.18.1.11"',
    'local-data: "cn6.geo.test. 300 IN AAAA 2001:db8:c0::10"',
    'local-data: "alias.geo.test. 300 IN CNAME tracker.geo.test."',
    'local-data: "tracker.geo.test. 300 IN A 198.18.3.12"',
    'local-data: "nowhere.geo.test. 300 IN A 192.0.2.200"',
]


def writer_available():
    if PERL is None:
        return False
    return subprocess.run([PERL, "-MMaxMind::DB::Writer::Tree", "-e", "1"],
                          capture_output=True).returncode == 0


def build_db(path, description, *args):
    subprocess.run([PERL, MKMMDB, "-o", path] + list(args), check=True,
                   input=description, text=True, capture_output=True,
                   timeout=60)


class Geo(HushdTestCase):
    needs_unbound = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.geo_unbound = None
        if not writer_available() or UNBOUND is None or UNBOUND_CONTROL is None:
            return
        cls.dbdir = tempfile.mkdtemp(prefix="hushd-geo-")
        cls.addClassCleanup(shutil.rmtree, cls.dbdir, True)
        cls.country_db = os.path.join(cls.dbdir, "country.mmdb")
        cls.asn_db = os.path.join(cls.dbdir, "asn.mmdb")
        build_db(cls.country_db, COUNTRIES)
        build_db(cls.asn_db, ASNS)
        cls.geo_unbound = Unbound(cls.dbdir, extra=RECORDS)
        cls.addClassCleanup(cls.geo_unbound.stop)
        cls.geo_unbound.start()

    def setUp(self):
        super().setUp()
        if self.geo_unbound is None:
            self.skipTest("needs perl with MaxMind::DB::Writer and unbound")

    def start(self, group_lines=(), country=None, asn=None, lists=None,
              **kw):
        extra = ["geoip-country %s" % (country or self.country_db),
                 "geoip-asn %s" % (asn or self.asn_db),
                 "group default {"] + list(group_lines) + ["}"]
        return self.start_hushd(upstreams=[self.geo_unbound.address],
                                extra=extra, lists=lists, **kw)

    def event(self, hushd, qname):
        found = [e for e in hushd.events() if e.get("qname") == qname]
        self.assertTrue(found, "no event for %s" % qname)
        return found[-1]

    def addresses(self, response):
        return sorted(rd.to_text() for rrset in response.answer
                      for rd in rrset)

    def test_country_block(self):
        hushd = self.start(["block-country CN"])
        self.assertEqual(self.addresses(hushd.query("cn.geo.test")),
                         ["0.0.0.0"])
        self.assertEqual(self.addresses(hushd.query("de.geo.test")),
                         ["198.18.3.10"])
        e = self.event(hushd, "cn.geo.test")
        self.assertEqual((e["action"], e["reason"], e["rule"]),
                         ("block", "country", "CN"), e)
        self.assertEqual(e["answers"], [{"ip": "198.18.1.10", "cc": "CN",
                                         "asn": 4134,
                                         "org": "CHINANET-BACKBONE"}])

    def test_any_address_in_a_blocked_country_blocks(self):
        hushd = self.start(["block-country CN"])
        self.assertEqual(self.addresses(hushd.query("mixed.geo.test")),
                         ["0.0.0.0"])

    def test_country_block_ipv6_answer(self):
        hushd = self.start(["block-country cn"])
        self.assertEqual(self.addresses(hushd.query("cn6.geo.test", "AAAA")),
                         ["::"])
        e = self.event(hushd, "cn6.geo.test")
        self.assertEqual(e["answers"][0]["cc"], "CN", e)

    def test_country_log(self):
        hushd = self.start(["log-country RU"])
        self.assertEqual(self.addresses(hushd.query("ru.geo.test")),
                         ["198.18.2.10"])
        e = self.event(hushd, "ru.geo.test")
        self.assertEqual((e["action"], e["reason"], e["rule"]),
                         ("log", "country", "RU"), e)

    def test_asn_block(self):
        hushd = self.start(["block-asn AS3320"], block_mode="nxdomain")
        self.assertEqual(hushd.query("de.geo.test").rcode(), 3)
        e = self.event(hushd, "de.geo.test")
        self.assertEqual((e["action"], e["reason"], e["rule"]),
                         ("block", "asn", "AS3320"), e)

    def test_asn_log(self):
        hushd = self.start(["log-asn 12389"])
        self.assertEqual(self.addresses(hushd.query("ru.geo.test")),
                         ["198.18.2.10"])
        e = self.event(hushd, "ru.geo.test")
        self.assertEqual((e["action"], e["reason"]), ("log", "asn"), e)
        self.assertEqual(e["answers"][0]["org"], "ROSTELECOM-AS", e)

    def test_cached_answers_judged_and_located_too(self):
        hushd = self.start(["block-country CN"])
        for _ in range(2):
            self.assertEqual(self.addresses(hushd.query("cn.geo.test")),
                             ["0.0.0.0"])
            hushd.query("de.geo.test")
        events = [e for e in hushd.events() if e.get("qname") in
                  ("cn.geo.test", "de.geo.test")]
        self.assertEqual([e["cached"] for e in events],
                         [False, False, True, True])
        self.assertEqual([e["action"] for e in events],
                         ["block", "pass", "block", "pass"])
        self.assertEqual(events[3]["answers"][0]["cc"], "DE")
        self.assertEqual(events[3]["answers"][0]["asn"], 3320)

    def test_address_outside_every_network(self):
        hushd = self.start(["block-country CN"])
        self.assertEqual(self.addresses(hushd.query("nowhere.geo.test")),
                         ["192.0.2.200"])
        e = self.event(hushd, "nowhere.geo.test")
        self.assertEqual(e["answers"], [{"ip": "192.0.2.200"}])

    def test_cname_chain_blocked(self):
        hushd = self.start(["block trackers"],
                           lists={"trackers": ["tracker.geo.test"]})
        self.assertEqual(self.addresses(hushd.query("alias.geo.test")),
                         ["0.0.0.0"])
        e = self.event(hushd, "alias.geo.test")
        self.assertEqual((e["action"], e["reason"], e["list"], e["rule"]),
                         ("block", "cname", "trackers", "tracker.geo.test"),
                         e)
        self.assertEqual(e["cname"], ["tracker.geo.test"])

    def test_groups_by_address(self):
        if not ipv6_loopback():
            self.skipTest("no IPv6 loopback")
        extra = ["geoip-country %s" % self.country_db,
                 "geoip-asn %s" % self.asn_db,
                 "device here 127.0.0.1",
                 "group iot {", "clients here", "block-country CN", "}",
                 "group lab {", "clients ::1/128", "log-country CN", "}"]
        hushd = self.start_hushd(upstreams=[self.geo_unbound.address],
                                 extra=extra, listen_v6=True)
        self.assertEqual(self.addresses(hushd.query("cn.geo.test")),
                         ["0.0.0.0"])
        self.assertEqual(self.addresses(hushd.query("cn.geo.test",
                                                    host="::1")),
                         ["198.18.1.10"])
        events = [e for e in hushd.events() if e.get("qname") == "cn.geo.test"]
        self.assertEqual([(e["group"], e["action"], e.get("device"))
                          for e in events],
                         [("iot", "block", "here"), ("lab", "log", None)])

    def test_missing_database_warns_and_serves(self):
        missing = os.path.join(self.tmp, "absent.mmdb")
        hushd = self.start(["block-country CN"], country=missing)
        self.wait_stderr(hushd, r"absent\.mmdb: not found")
        self.assertEqual(self.addresses(hushd.query("cn.geo.test")),
                         ["198.18.1.10"])
        e = self.event(hushd, "cn.geo.test")
        self.assertNotIn("cc", e["answers"][0])
        self.assertEqual(e["answers"][0]["asn"], 4134)

    def test_corrupt_database_refused_at_start(self):
        bad = os.path.join(self.tmp, "bad.mmdb")
        with open(self.country_db, "rb") as f:
            data = f.read()
        with open(bad, "wb") as f:
            f.write(data[: len(data) // 2])
        conf = os.path.join(self.tmp, "check.conf")
        with open(conf, "w") as f:
            f.write(self.config(5300, extra=["geoip-country %s" % bad]))
        from harness import HUSHD
        out = subprocess.run([HUSHD, "-n", "-c", conf], capture_output=True,
                             text=True, timeout=20)
        self.assertEqual(out.returncode, 1, out)
        self.assertIn("bad.mmdb", out.stderr)

    def test_corrupt_database_at_reload_keeps_old_state(self):
        country = os.path.join(self.tmp, "country.mmdb")
        shutil.copy(self.country_db, country)
        hushd = self.start(["block-country CN"], country=country)
        self.assertEqual(self.addresses(hushd.query("cn.geo.test")),
                         ["0.0.0.0"])
        # Replaced as geoipupdate does it: a new file renamed into place
        # (the running snapshot keeps its mapping of the old one).
        with open(country + ".new", "wb") as f:
            f.write(os.urandom(4096))
        os.rename(country + ".new", country)
        mark = len(hushd.stderr_text())
        hushd.signal(signal.SIGHUP)
        self.wait_stderr(hushd, r"reload failed.*country\.mmdb", mark)
        self.assertTrue(hushd.running())
        hushd.query("ru.geo.test")   # a new name: judged with the old state
        self.assertEqual(self.addresses(hushd.query("mixed.geo.test")),
                         ["0.0.0.0"])

    def test_reload_reopens_databases(self):
        country = os.path.join(self.tmp, "country.mmdb")
        build_db(country, "country 198.18.1.0/24 DE\n")
        hushd = self.start(["block-country CN"], country=country,
                           cache_size=0)
        self.assertEqual(self.addresses(hushd.query("cn.geo.test")),
                         ["198.18.1.10"])
        build_db(country + ".new", COUNTRIES)
        os.rename(country + ".new", country)
        hushd.signal(signal.SIGHUP)
        wait_for(lambda: self.addresses(hushd.query("cn.geo.test")) ==
                 ["0.0.0.0"], 5, "the new database after SIGHUP")

    def test_old_database_warns(self):
        old = os.path.join(self.tmp, "old.mmdb")
        build_db(old, COUNTRIES, "-e", str(int(time.time()) - 400 * 86400))
        hushd = self.start(country=old)
        self.wait_stderr(hushd, r"old\.mmdb: built on \d{4}-\d\d-\d\d, more "
                         r"than a year ago")


if __name__ == "__main__":
    unittest.main()
