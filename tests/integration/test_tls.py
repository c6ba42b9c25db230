"""Upstream connections that last: DNS over TLS to a real unbound with a
certificate the test makes (verified chain and name, session resumption,
refusal of a wrong name or an untrusted certificate), and TCP connections
reused for many queries."""

import os
import shutil
import tempfile
import unittest

from harness import (BIG_NAME, BIG_TXT, OPENSSL, UNBOUND, UNBOUND_CONTROL,
                     ZONE_A, HushdTestCase, Unbound, free_port,
                     make_certificates, wait_for)


def established(port):
    """Established TCP connections to 127.0.0.1:port, from /proc/net/tcp."""
    remote = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        next(f)
        return sum(1 for line in f
                   if line.split()[2] == remote and line.split()[3] == "01")


class TlsUpstream(HushdTestCase):
    needs_unbound = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tls = None
        if OPENSSL is None or UNBOUND is None or UNBOUND_CONTROL is None:
            return
        cls.certs = tempfile.mkdtemp(prefix="hushd-tls-")
        cls.addClassCleanup(shutil.rmtree, cls.certs, True)
        make_certificates(cls.certs)
        cls.tls_port = free_port()
        cls.tls = Unbound(cls.certs, extra=[
            "interface: 127.0.0.1@%d" % cls.tls_port,
            "tls-port: %d" % cls.tls_port,
            'tls-service-key: "%s/server.key"' % cls.certs,
            'tls-service-pem: "%s/server.pem"' % cls.certs,
            'tls-session-ticket-keys: "%s/ticket.key"' % cls.certs,
        ])
        cls.addClassCleanup(cls.tls.stop)
        cls.tls.start()

    def setUp(self):
        super().setUp()
        if self.tls is None:
            self.skipTest("openssl or unbound is not installed")

    def upstream(self, name="dns.test", ca=True):
        line = "127.0.0.1:%d tls name=%s" % (self.tls_port, name)
        if ca:
            line += " ca=%s/ca.pem" % self.certs
        return [line]

    def test_answers_over_one_persistent_connection(self):
        hushd = self.start_hushd(upstreams=self.upstream(), cache_size=0)
        for name in ("www.test", "before.test", "after.test", "www.test"):
            self.assert_answer(hushd.query(name, "A"), "A", [ZONE_A[name]])
        self.assertEqual(established(self.tls_port), 1)
        events = [e for e in hushd.events() if e.get("qname") == "www.test"]
        self.assertEqual(events[-1]["upstream"],
                         "127.0.0.1:%d" % self.tls_port)

    def test_wrong_name_refused_and_logged(self):
        hushd = self.start_hushd(upstreams=self.upstream("other.test"),
                                 query_timeout="1s")
        self.assertEqual(hushd.query("www.test", "A").rcode(), 2)  # SERVFAIL
        self.wait_stderr(hushd, r"certificate refused: hostname mismatch")

    def test_untrusted_certificate_refused_and_logged(self):
        hushd = self.start_hushd(upstreams=self.upstream(ca=False),
                                 query_timeout="1s")
        self.assertEqual(hushd.query("www.test", "A").rcode(), 2)
        self.wait_stderr(hushd, r"certificate refused: "
                         r"(self-signed|unable to get local issuer)")

    def test_failover_from_refused_tls_to_next_upstream(self):
        hushd = self.start_hushd(
            upstreams=self.upstream("other.test") + [self.unbound.address])
        self.assert_answer(hushd.query("www.test", "A"), "A",
                           [ZONE_A["www.test"]])

    def test_session_resumed_after_reconnect(self):
        hushd = self.start_hushd(upstreams=self.upstream(), cache_size=0,
                                 args=["-d"])
        self.assert_answer(hushd.query("www.test", "A"), "A",
                           [ZONE_A["www.test"]])
        self.wait_stderr(hushd, r"upstream tls session new")
        # The upstream restarts (same ticket keys): the connection breaks
        # and the next one resumes the session.
        self.tls.stop()
        self.tls.start()
        wait_for(lambda: hushd.query("before.test", "A").rcode() == 0, 10,
                 "an answer after the upstream restarted", interval=0.2)
        self.wait_stderr(hushd, r"upstream tls session resumed")


class TcpReuse(HushdTestCase):
    def test_truncated_answers_share_one_tcp_connection(self):
        hushd = self.start_hushd(cache_size=0)
        port = int(self.unbound.address.rsplit(":", 1)[1])
        for _ in range(5):
            r = hushd.query(BIG_NAME, "TXT", tcp=True)
            self.assertEqual(sum(len(rrset) for rrset in r.answer),
                             len(BIG_TXT))
        # Each went over UDP first (truncated), then over TCP.
        self.assertEqual(self.forwarded(BIG_NAME, "TXT"), 10)
        self.assertEqual(established(port), 1)


if __name__ == "__main__":
    unittest.main()
