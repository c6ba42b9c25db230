"""Forwarding: answers from unbound through hushd over UDP and TCP, size
limits, client ACL, and input hushd must survive."""

import random
import select
import socket
import time
import unittest

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from harness import (BIG_NAME, BIG_TXT, WWW_AAAA, WWW_HTTPS, WWW_TXT, ZONE_A,
                     ZONE_TTL, HushdTestCase, ipv6_loopback,
                     make_query, tcp_read_message, udp_exchange)


class Answering(HushdTestCase):
    def setUp(self):
        super().setUp()
        self.hushd = self.start_hushd()

    def test_a(self):
        r = self.hushd.query("www.test", "A")
        self.assert_answer(r, "A", [ZONE_A["www.test"]])
        self.assertLessEqual(r.answer[0].ttl, ZONE_TTL)
        self.assertTrue(r.flags & dns.flags.QR)

    def test_aaaa(self):
        self.assert_answer(self.hushd.query("www.test", "AAAA"), "AAAA",
                           [WWW_AAAA])

    def test_https(self):
        self.assert_answer(self.hushd.query("www.test", "HTTPS"), "HTTPS",
                           [WWW_HTTPS])

    def test_txt(self):
        self.assert_answer(self.hushd.query("www.test", "TXT"), "TXT",
                           ['"%s"' % WWW_TXT])

    def test_nxdomain_passes_through(self):
        self.assert_rcode(self.hushd.query("missing.test", "A"), "NXDOMAIN")

    def test_nodata_passes_through(self):
        r = self.hushd.query("cache.test", "AAAA")
        self.assert_rcode(r, "NOERROR")
        self.assertEqual(r.answer, [])

    def test_edns_query(self):
        r = self.hushd.query("www.test", "A", edns=True)
        self.assert_answer(r, "A", [ZONE_A["www.test"]])
        self.assertGreaterEqual(r.edns, 0)

    def test_case_of_the_question_is_kept(self):
        r = self.hushd.query("WwW.TeSt", "A")
        self.assert_answer(r, "A", [ZONE_A["www.test"]])
        self.assertEqual(r.question[0].name.to_text(), "WwW.TeSt.")


class Ipv6(HushdTestCase):
    def test_query_over_ipv6(self):
        if not ipv6_loopback():
            self.skipTest("no IPv6 loopback")
        hushd = self.start_hushd(listen_v6=True)
        self.assert_answer(hushd.query("www.test", "A", host="::1"), "A",
                           [ZONE_A["www.test"]])
        self.assert_answer(hushd.query("www.test", "AAAA", host="::1",
                                       tcp=True), "AAAA", [WWW_AAAA])


class Tcp(HushdTestCase):
    def setUp(self):
        super().setUp()
        self.hushd = self.start_hushd(extra=["tcp-idle-timeout 1s"])

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.hushd.port),
                                     timeout=3)
        self.addCleanup(s.close)
        return s

    def test_single_query(self):
        self.assert_answer(self.hushd.query("www.test", "A", tcp=True), "A",
                           [ZONE_A["www.test"]])

    def test_pipelined_queries(self):
        names = ["pipe%d.test" % i for i in range(1, 6)]
        queries = {}
        wire = b""
        for name in names:
            q = make_query(name, "A")
            queries[q.id] = q
            data = q.to_wire()
            wire += len(data).to_bytes(2, "big") + data
        s = self.connect()
        s.sendall(wire)
        deadline = time.monotonic() + 5
        answered = set()
        for _ in names:
            r = dns.message.from_wire(tcp_read_message(s, deadline))
            self.assertIn(r.id, queries, "reply with an ID never sent")
            self.assertNotIn(r.id, answered, "two replies to one query")
            answered.add(r.id)
            q = queries[r.id]
            self.assertEqual(r.question, q.question)
            name = q.question[0].name.to_text(omit_final_dot=True)
            self.assert_answer(r, "A", [ZONE_A[name]])
        self.assertEqual(answered, set(queries))

    def test_queries_in_sequence_on_one_connection(self):
        s = self.connect()
        deadline = time.monotonic() + 5
        for name in ("pipe1.test", "www.test", "pipe2.test"):
            q = make_query(name, "A")
            data = q.to_wire()
            s.sendall(len(data).to_bytes(2, "big") + data)
            r = dns.message.from_wire(tcp_read_message(s, deadline))
            self.assertEqual(r.id, q.id)
            self.assert_answer(r, "A", [ZONE_A[name]])

    def test_query_split_across_writes(self):
        q = make_query("www.test", "A")
        data = q.to_wire()
        message = len(data).to_bytes(2, "big") + data
        s = self.connect()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in (message[:1], message[1:7], message[7:]):
            s.sendall(piece)
            time.sleep(0.05)
        r = dns.message.from_wire(tcp_read_message(s, time.monotonic() + 5))
        self.assertEqual(r.id, q.id)
        self.assert_answer(r, "A", [ZONE_A["www.test"]])

    def test_idle_connection_closed(self):
        s = self.connect()
        start = time.monotonic()
        s.settimeout(5)
        try:
            data = s.recv(1)
        except ConnectionResetError:
            data = b""
        elapsed = time.monotonic() - start
        self.assertEqual(data, b"")
        self.assertGreater(elapsed, 0.5, "closed long before the idle timeout")
        self.assertLess(elapsed, 3.0, "idle connection kept past the timeout")


class Truncation(HushdTestCase):
    def setUp(self):
        super().setUp()
        self.hushd = self.start_hushd()

    def exchange(self, query):
        wire = udp_exchange(query.to_wire(), "127.0.0.1", self.hushd.port,
                            timeout=3)
        self.assertIsNotNone(wire, "no reply over UDP")
        return wire, dns.message.from_wire(wire)

    def test_udp_without_edns_truncated(self):
        wire, r = self.exchange(make_query(BIG_NAME, "TXT"))
        self.assertTrue(r.flags & dns.flags.TC, r)
        self.assertLessEqual(len(wire), 512)

    def test_udp_with_edns_truncated(self):
        wire, r = self.exchange(make_query(BIG_NAME, "TXT", edns=True,
                                           payload=1232))
        self.assertTrue(r.flags & dns.flags.TC, r)
        self.assertLessEqual(len(wire), 1232)

    def test_tcp_complete(self):
        r = self.hushd.query(BIG_NAME, "TXT", tcp=True)
        self.assertFalse(r.flags & dns.flags.TC)
        self.assert_answer(r, "TXT", ['"%s"' % t for t in BIG_TXT])

    def test_tcp_complete_after_udp_truncated(self):
        _, r = self.exchange(make_query(BIG_NAME, "TXT"))
        self.assertTrue(r.flags & dns.flags.TC)
        r = self.hushd.query(BIG_NAME, "TXT", tcp=True)
        self.assertFalse(r.flags & dns.flags.TC)
        self.assertEqual(sum(len(rrset) for rrset in r.answer), len(BIG_TXT))


class Acl(HushdTestCase):
    def test_ipv4_client_refused_when_only_ipv6_allowed(self):
        v6 = ipv6_loopback()
        hushd = self.start_hushd(allow_clients="::1", listen_v6=v6)
        r = hushd.query("v6only.test", "A")
        self.assert_rcode(r, "REFUSED")
        self.assertEqual(r.answer, [])
        self.assertEqual(self.forwarded("v6only.test"), 0)
        r = hushd.query("v6only.test", "A", tcp=True)
        self.assert_rcode(r, "REFUSED")
        if v6:
            self.assert_answer(hushd.query("v6only.test", "A", host="::1"),
                               "A", [ZONE_A["v6only.test"]])

    def test_ipv6_client_refused_when_only_ipv4_allowed(self):
        if not ipv6_loopback():
            self.skipTest("no IPv6 loopback")
        hushd = self.start_hushd(allow_clients="127.0.0.0/8", listen_v6=True)
        self.assert_rcode(hushd.query("www.test", "A", host="::1"), "REFUSED")
        self.assert_answer(hushd.query("www.test", "A"), "A",
                           [ZONE_A["www.test"]])


def _header(msg_id, flags, qd=1, an=0, ns=0, ar=0):
    return b"".join(v.to_bytes(2, "big") for v in (msg_id, flags, qd, an, ns,
                                                   ar))


QUESTION_WWW_A = b"\x03www\x04test\x00\x00\x01\x00\x01"


class Malformed(HushdTestCase):
    """Bad input gets FORMERR or silence, and hushd keeps answering."""

    def setUp(self):
        super().setUp()
        self.hushd = self.start_hushd()

    def packets(self):
        rng = random.Random(1035)
        response = dns.message.make_response(make_query("www.test", "A"))
        two_questions = make_query("www.test", "A")
        two_questions.question.append(
            make_query("pipe1.test", "A").question[0])
        return {
            "random bytes": bytes(rng.randrange(256) for _ in range(48)),
            "one byte": b"\x00",
            "truncated header": _header(0x1234, 0x0100)[:5],
            "header only, qdcount 1": _header(0x1235, 0x0100),
            "qdcount 0": _header(0x1236, 0x0100, qd=0),
            "QR=1 (a response)": response.to_wire(),
            "qdcount 2": two_questions.to_wire(),
            "question cut short": _header(0x1237, 0x0100) +
            QUESTION_WWW_A[:7],
            "compression loop": _header(0x1238, 0x0100) + b"\xc0\x0c" +
            b"\x00\x01\x00\x01",
            "label past the end": _header(0x1239, 0x0100) + b"\x3fabc",
            "ancount lies": _header(0x123a, 0x0100, an=5) + QUESTION_WWW_A,
        }

    def assert_formerr_or_nothing(self, what, reply):
        if reply is None:
            return
        self.assertGreaterEqual(len(reply), 12, "%s: short reply" % what)
        self.assertTrue(reply[2] & 0x80, "%s: reply without QR" % what)
        self.assertEqual(reply[3] & 0x0f, dns.rcode.FORMERR,
                         "%s: reply is not FORMERR: %r" % (what, reply))

    def collect_replies(self, socks, timeout):
        """Reads from every socket until the deadline or all have closed."""
        replies = {what: b"" for what in socks.values()}
        open_socks = list(socks)
        deadline = time.monotonic() + timeout
        while open_socks and time.monotonic() < deadline:
            ready, _, _ = select.select(open_socks, [], [],
                                        max(0, deadline - time.monotonic()))
            for s in ready:
                try:
                    data = s.recv(65535)
                except ConnectionError:
                    data = b""
                replies[socks[s]] += data
                if not data or s.type == socket.SOCK_DGRAM:
                    open_socks.remove(s)
        return replies

    def test_udp_garbage_then_still_answering(self):
        socks = {}
        for what, wire in self.packets().items():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.addCleanup(s.close)
            s.connect(("127.0.0.1", self.hushd.port))
            s.send(wire)
            socks[s] = what
        for what, reply in self.collect_replies(socks, 0.7).items():
            self.assert_formerr_or_nothing(what, reply or None)
        self.assertTrue(self.hushd.running(), self.hushd.stderr_text())
        self.assert_answer(self.hushd.query("www.test", "A"), "A",
                           [ZONE_A["www.test"]])

    def test_tcp_garbage_then_still_answering(self):
        messages = {what: len(wire).to_bytes(2, "big") + wire
                    for what, wire in self.packets().items()}
        # A zero length prefix, and a connection closed mid-message.
        messages["zero length"] = b"\x00\x00"
        messages["cut mid-message"] = b"\x00\x40" + QUESTION_WWW_A
        socks = {}
        for what, data in messages.items():
            s = socket.create_connection(("127.0.0.1", self.hushd.port),
                                         timeout=2)
            self.addCleanup(s.close)
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            socks[s] = what
        for what, stream in self.collect_replies(socks, 1.0).items():
            if len(stream) >= 2:
                self.assert_formerr_or_nothing(what, stream[2:])
        self.assertTrue(self.hushd.running(), self.hushd.stderr_text())
        self.assert_answer(self.hushd.query("www.test", "A", tcp=True), "A",
                           [ZONE_A["www.test"]])
        self.assert_answer(self.hushd.query("www.test", "A"), "A",
                           [ZONE_A["www.test"]])


if __name__ == "__main__":
    unittest.main()
