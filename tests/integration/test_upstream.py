"""Upstream handling: failover, deadlines, replies that must be ignored,
and the answer cache."""

import socket
import time
import unittest

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from harness import (ZONE_A, Blackhole, FakeUpstream, HushdTestCase,
                     answer_a, free_port)

FAKE_IP = "192.0.2.99"


class Failover(HushdTestCase):
    def assert_answered_by_unbound(self, hushd, name):
        start = time.monotonic()
        r = hushd.query(name, "A", timeout=5)
        elapsed = time.monotonic() - start
        self.assert_answer(r, "A", [ZONE_A[name]])
        self.assertLess(elapsed, 3.0, "answered after the query deadline")
        hushd.stop_and_check()
        ours = [e for e in hushd.events() if e.get("qname") == name]
        self.assertTrue(ours, "no event for %s" % name)
        self.assertTrue(str(ours[0].get("upstream", "")).endswith(
            ":%d" % self.unbound.port), ours[0])

    def test_first_upstream_closed_port(self):
        closed = "127.0.0.1:%d" % free_port()
        hushd = self.start_hushd(upstreams=[closed, self.unbound.address])
        self.assert_answered_by_unbound(hushd, "failover.test")

    def test_first_upstream_never_answers(self):
        silent = Blackhole()
        self.addCleanup(silent.close)
        hushd = self.start_hushd(upstreams=[silent.address,
                                            self.unbound.address])
        silent.received()
        self.assert_answered_by_unbound(hushd, "failover.test")
        self.assertGreaterEqual(silent.received(), 1,
                                "the first upstream was never asked")

    def test_all_upstreams_down_servfail_by_deadline(self):
        first, second = Blackhole(), Blackhole()
        self.addCleanup(first.close)
        self.addCleanup(second.close)
        hushd = self.start_hushd(upstreams=[first.address, second.address],
                                 upstream_timeout="300ms", query_timeout="1s")
        for tcp in (False, True):
            with self.subTest(tcp=tcp):
                start = time.monotonic()
                r = hushd.query("failover.test", "A", tcp=tcp, timeout=5)
                elapsed = time.monotonic() - start
                self.assert_rcode(r, "SERVFAIL")
                self.assertLess(elapsed, 1.6, "SERVFAIL long after the "
                                "query deadline (%.2fs)" % elapsed)
        self.assertGreaterEqual(first.received(), 1)
        self.assertGreaterEqual(second.received(), 1)


class Spoofing(HushdTestCase):
    """Only a reply from the queried address, with the query's ID and
    question, is taken; everything sent before it is dropped."""

    needs_unbound = False

    def assert_real_reply_taken(self, respond):
        """Each query gets FAKE_IP, the last thing respond sends."""
        fake = FakeUpstream(respond)
        self.addCleanup(fake.close)
        hushd = self.start_hushd(upstreams=[fake.address], cache_size=0)
        asked = len(fake.queries)
        for _ in range(3):
            self.assert_answer(hushd.query("spoof.test", "A"), "A",
                               [FAKE_IP])
        self.assertEqual(len(fake.queries) - asked, 3)
        self.assertEqual(fake.errors, [])

    def test_wrong_id_and_wrong_port_dropped(self):
        def respond(query):
            not_a_reply = dns.message.from_wire(query.to_wire())
            return [
                ("main", answer_a(query, "198.51.100.1",
                                  msg_id=query.id ^ 0x5a5a)),
                ("other", answer_a(query, "198.51.100.2")),
                ("main", not_a_reply),
                ("main", answer_a(query, FAKE_IP)),
            ]
        self.assert_real_reply_taken(respond)

    def test_different_question_dropped(self):
        def respond(query):
            wrong_type = answer_a(query, "198.51.100.4")
            wrong_type.question = [dns.rrset.RRset(
                query.question[0].name, dns.rdataclass.IN,
                dns.rdatatype.TXT)]
            return [
                ("main", answer_a(query, "198.51.100.3",
                                  qname="evil.test.")),
                ("main", wrong_type),
                ("main", answer_a(query, FAKE_IP)),
            ]
        self.assert_real_reply_taken(respond)


class Cache(HushdTestCase):
    def test_second_answer_from_cache_with_aged_ttl(self):
        hushd = self.start_hushd(cache_size=1000)
        first = hushd.query("cache.test", "A")
        self.assert_answer(first, "A", [ZONE_A["cache.test"]])
        ttl = first.answer[0].ttl
        self.assertLessEqual(ttl, 300)
        queries = self.unbound.num_queries()
        time.sleep(1.1)
        second = hushd.query("cache.test", "A")
        self.assert_answer(second, "A", [ZONE_A["cache.test"]])
        self.assertLess(second.answer[0].ttl, ttl, "TTL did not age")
        self.assertGreaterEqual(second.answer[0].ttl, ttl - 3)
        self.assertEqual(self.unbound.num_queries(), queries,
                         "the second query reached unbound")
        self.assertEqual(self.forwarded("cache.test", "A"), 1)
        over_tcp = hushd.query("cache.test", "A", tcp=True)
        self.assert_answer(over_tcp, "A", [ZONE_A["cache.test"]])
        self.assertEqual(self.forwarded("cache.test", "A"), 1)

        hushd.stop_and_check()
        cached = [e.get("cached") for e in hushd.events()
                  if e.get("qname") == "cache.test"]
        self.assertEqual(cached, [False, True, True])

    def test_do_bit_and_type_are_separate_entries(self):
        hushd = self.start_hushd(cache_size=1000)
        hushd.query("cache.test", "A")
        hushd.query("cache.test", "A", dnssec=True)
        hushd.query("cache.test", "AAAA")
        self.assertEqual(self.forwarded("cache.test"), 3)
        hushd.query("cache.test", "A", dnssec=True)
        hushd.query("cache.test", "AAAA")
        hushd.query("cache.test", "A")
        self.assertEqual(self.forwarded("cache.test"), 3)

    def test_negative_answer_cached(self):
        hushd = self.start_hushd(cache_size=1000)
        self.assert_rcode(hushd.query("absent.test", "A"), "NXDOMAIN")
        self.assert_rcode(hushd.query("absent.test", "A"), "NXDOMAIN")
        self.assertEqual(self.forwarded("absent.test"), 1)

    def test_burst_of_queries_all_answered(self):
        # 300 queries at once: they leave together, several to a socket
        # in one send, and each answer must reach its own query.
        hushd = self.start_hushd(cache_size=0)
        names = sorted(ZONE_A)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sent = {}
        for i in range(300):
            name = names[i % len(names)]
            q = dns.message.make_query(name, "A")
            q.id = i + 1
            sent[q.id] = name
            sock.sendto(q.to_wire(), ("127.0.0.1", hushd.port))
        answered = {}
        sock.settimeout(1.0)
        deadline = time.monotonic() + 10
        while len(answered) < len(sent) and time.monotonic() < deadline:
            try:
                wire = sock.recv(4096)
            except socket.timeout:
                continue
            r = dns.message.from_wire(wire)
            self.assertIn(r.id, sent)
            self.assertEqual(r.question[0].name.to_text(omit_final_dot=True),
                             sent[r.id])
            answered[r.id] = [rr.to_text() for rrset in r.answer
                              for rr in rrset]
        self.assertEqual(len(answered), len(sent))
        for qid, name in sent.items():
            self.assertEqual(answered[qid], [ZONE_A[name]], name)

    def test_cache_size_zero_forwards_every_query(self):
        hushd = self.start_hushd(cache_size=0)
        for _ in range(3):
            self.assert_answer(hushd.query("nocache.test", "A"), "A",
                               [ZONE_A["nocache.test"]])
        self.assertEqual(self.forwarded("nocache.test"), 3)


if __name__ == "__main__":
    unittest.main()
