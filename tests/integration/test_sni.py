"""The transparent TLS proxy: hushd reads the ClientHello, judges its SNI,
and relays allowed connections untouched to a real TLS server (openssl
s_server) or refuses them with a TLS alert; slow clients, caps, and a
real nftables redirect (SO_ORIGINAL_DST) in network namespaces."""

import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
import unittest

from harness import (HUSHD, UNBOUND, UNBOUND_CONTROL, HushdTestCase, Unbound,
                     free_port, wait_for)
from test_tls import OPENSSL, make_certificates

CURL = shutil.which("curl")
NFT = shutil.which("nft")
IP = shutil.which("ip")
ALERT_ACCESS_DENIED = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x31])


def client_hello(name):
    """A real ClientHello from Python's ssl module, for name."""
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


class Counter:
    """A TCP server that counts connections and keeps what it receives."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.received = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            data = b""
            conn.settimeout(2)
            try:
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            self.received.append(data)
            conn.close()

    def close(self):
        self.sock.close()


class SniProxy(HushdTestCase):
    needs_unbound = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.certs = None
        if OPENSSL is None:
            return
        import tempfile
        cls.certs = tempfile.mkdtemp(prefix="hushd-sni-")
        cls.addClassCleanup(shutil.rmtree, cls.certs, True)
        make_certificates(cls.certs)
        with open(os.path.join(cls.certs, "big.bin"), "wb") as f:
            f.write(os.urandom(10 * 1024 * 1024))

    def setUp(self):
        super().setUp()
        if self.certs is None:
            self.skipTest("openssl is not installed")

    def start(self, backend_port, extra=()):
        self.sni_port = free_port()
        lines = ["sni-listen 127.0.0.1:%d to 127.0.0.1:%d"
                 % (self.sni_port, backend_port)] + list(extra)
        return self.start_hushd(upstreams=["127.0.0.1:9"], extra=lines,
                                lists={"ads": ["ads.test"]})

    def tls_server(self):
        port = free_port()
        proc = subprocess.Popen(
            [OPENSSL, "s_server", "-accept", "127.0.0.1:%d" % port, "-cert",
             "server.pem", "-key", "server.key", "-WWW", "-quiet"],
            cwd=self.certs, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(proc.wait, 10)
        self.addCleanup(proc.terminate)

        def listening():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0
        wait_for(listening, 10, "openssl s_server to listen")
        return port

    def tls_events(self, hushd):
        return [e for e in hushd.events() if e.get("event") == "tls"]

    def test_allowed_name_relayed_intact(self):
        if CURL is None:
            self.skipTest("curl is not installed")
        hushd = self.start(self.tls_server())
        out = subprocess.run(
            [CURL, "-sS", "--cacert", os.path.join(self.certs, "ca.pem"),
             "--resolve", "dns.test:%d:127.0.0.1" % self.sni_port,
             "https://dns.test:%d/big.bin" % self.sni_port],
            capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        with open(os.path.join(self.certs, "big.bin"), "rb") as f:
            self.assertEqual(hashlib.sha256(out.stdout).hexdigest(),
                             hashlib.sha256(f.read()).hexdigest())
        wait_for(lambda: self.tls_events(hushd), 5, "the tls event")
        e = self.tls_events(hushd)[0]
        self.assertEqual((e["sni"], e["action"], e["dst"]),
                         ("dns.test", "pass", "127.0.0.1:%d"
                          % int(e["dst"].rsplit(":", 1)[1])), e)
        self.assertGreater(e["bytes_down"], 10 * 1024 * 1024)
        self.assertFalse(e["ech"])

    def test_listed_name_refused_and_never_reaches_the_server(self):
        counter = Counter()
        self.addCleanup(counter.close)
        hushd = self.start(counter.port)
        with socket.create_connection(("127.0.0.1", self.sni_port)) as s:
            s.sendall(client_hello("www.ads.test"))
            s.settimeout(5)
            self.assertEqual(s.recv(100), ALERT_ACCESS_DENIED)
        wait_for(lambda: self.tls_events(hushd), 5, "the tls event")
        e = self.tls_events(hushd)[0]
        self.assertEqual((e["sni"], e["action"], e["reason"], e["list"]),
                         ("www.ads.test", "block", "list", "ads"), e)
        time.sleep(0.3)
        self.assertEqual(counter.received, [])

    def test_byte_by_byte_client(self):
        counter = Counter()
        self.addCleanup(counter.close)
        self.start(counter.port)
        hello = client_hello("slow.example")
        with socket.create_connection(("127.0.0.1", self.sni_port)) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(len(hello)):
                s.send(hello[i:i + 1])
                if i % 64 == 0:
                    time.sleep(0.001)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(5)
            self.assertEqual(s.recv(100), b"")
        wait_for(lambda: counter.received, 5, "the server to get the bytes")
        self.assertEqual(counter.received[0], hello)

    def test_slow_loris_cut_without_stopping_others(self):
        counter = Counter()
        self.addCleanup(counter.close)
        hushd = self.start(counter.port, ["sni-timeout 1s"])
        slow = socket.create_connection(("127.0.0.1", self.sni_port))
        self.addCleanup(slow.close)
        slow.send(client_hello("loris.example")[:5])
        # One that sends nothing at all waits in the kernel for a second
        # before hushd takes it, then has its sni-timeout like the rest.
        silent = socket.create_connection(("127.0.0.1", self.sni_port))
        self.addCleanup(silent.close)
        silent_started = time.monotonic()
        # Meanwhile another client gets through.
        with socket.create_connection(("127.0.0.1", self.sni_port)) as s:
            s.sendall(client_hello("ads.test"))
            s.settimeout(5)
            self.assertEqual(s.recv(100), ALERT_ACCESS_DENIED)
        started = time.monotonic()
        slow.settimeout(5)
        self.assertEqual(slow.recv(100), b"")
        self.assertLess(time.monotonic() - started, 3)
        silent.settimeout(8)
        self.assertEqual(silent.recv(100), b"")
        self.assertLess(time.monotonic() - silent_started, 5)
        wait_for(lambda: sum(e.get("error") == "no ClientHello in time"
                             for e in self.tls_events(hushd)) == 2, 5,
                 "the timed-out connections' events")

    def test_connection_caps(self):
        counter = Counter()
        self.addCleanup(counter.close)
        self.start(counter.port, ["sni-max-per-client 2"])
        # Each begins a ClientHello, so that it is taken at once.
        held = [socket.create_connection(("127.0.0.1", self.sni_port))
                for _ in range(2)]
        for s in held:
            self.addCleanup(s.close)
            s.send(client_hello("held.example")[:5])
        time.sleep(0.2)
        third = socket.create_connection(("127.0.0.1", self.sni_port))
        self.addCleanup(third.close)
        third.send(client_hello("third.example")[:5])
        third.settimeout(5)
        started = time.monotonic()
        try:
            data = third.recv(100)
        except ConnectionResetError:    # closed with its bytes unread
            data = b""
        self.assertEqual(data, b"")     # closed at once
        self.assertLess(time.monotonic() - started, 0.5)
        held[0].close()
        time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", self.sni_port)) as s:
            s.sendall(client_hello("ads.test"))
            s.settimeout(5)
            self.assertEqual(s.recv(100), ALERT_ACCESS_DENIED)

    def scripted_server(self, script):
        """A TCP server that runs script(conn) on its one connection."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        self.addCleanup(sock.close)
        errors = []

        def run():
            try:
                conn, _ = sock.accept()
                with conn:
                    conn.settimeout(5)
                    script(conn)
            except Exception as e:   # reported by the test
                errors.append(e)
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return sock.getsockname()[1], thread, errors

    @staticmethod
    def read_to_eof(conn):
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk

    def test_half_closes_passed_both_ways(self):
        hello = client_hello("half.example")
        upload = os.urandom(3 * 1024 * 1024 + 17)
        got = {}

        def server(conn):
            # The client's whole stream, up to its half-close...
            got["up"] = self.read_to_eof(conn)
            # ...then a small reply, then a large one, then ours.
            conn.sendall(b"small reply")
            time.sleep(0.1)
            conn.sendall(upload[::-1])
            conn.shutdown(socket.SHUT_WR)
            got["after"] = self.read_to_eof(conn)
        port, thread, errors = self.scripted_server(server)
        hushd = self.start(port)
        with socket.create_connection(("127.0.0.1", self.sni_port)) as s:
            s.settimeout(5)
            s.sendall(hello + upload)
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(self.read_to_eof(s), b"small reply" +
                             upload[::-1])
        thread.join(5)
        self.assertEqual(errors, [])
        self.assertEqual(got["up"], hello + upload)
        self.assertEqual(got["after"], b"")
        wait_for(lambda: self.tls_events(hushd), 5, "the tls event")
        e = self.tls_events(hushd)[0]
        self.assertEqual((e["sni"], e["bytes_up"], e["bytes_down"]),
                         ("half.example", len(hello) + len(upload),
                          len(upload) + 11), e)

    def test_small_writes_to_a_server_that_waits_arrive_intact(self):
        # Small pieces are copied, not spliced: with the server not reading
        # for a while, hushd's sends to it come short and what is left
        # must wait, in order.
        hello = client_hello("pieces.example")
        pieces = [os.urandom(4000 + i % 90) for i in range(2000)]
        got = {}

        def server(conn):
            time.sleep(1.5)
            got["up"] = self.read_to_eof(conn)
            conn.sendall(b"done")
        port, thread, errors = self.scripted_server(server)
        hushd = self.start(port)
        with socket.create_connection(("127.0.0.1", self.sni_port)) as s:
            s.settimeout(10)
            s.sendall(hello)
            for piece in pieces:
                s.sendall(piece)
                time.sleep(0.0002)
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(self.read_to_eof(s), b"done")
        thread.join(10)
        self.assertEqual(errors, [])
        self.assertEqual(got["up"], hello + b"".join(pieces))
        wait_for(lambda: self.tls_events(hushd), 5, "the tls event")
        e = self.tls_events(hushd)[0]
        self.assertEqual((e["bytes_up"], e["bytes_down"]),
                         (len(got["up"]), 4), e)

    def test_server_half_close_then_client_still_sends(self):
        hello = client_hello("later.example")
        got = {}

        def server(conn):
            data = b""
            while len(data) < len(hello):
                data += conn.recv(65536)
            conn.sendall(b"x" * 100)
            conn.shutdown(socket.SHUT_WR)
            got["up"] = data + self.read_to_eof(conn)
        port, thread, errors = self.scripted_server(server)
        self.start(port)
        with socket.create_connection(("127.0.0.1", self.sni_port)) as s:
            s.settimeout(5)
            s.sendall(hello)
            self.assertEqual(self.read_to_eof(s), b"x" * 100)
            s.sendall(b"after the server's half-close")
        thread.join(5)
        self.assertEqual(errors, [])
        self.assertEqual(got["up"], hello + b"after the server's half-close")

    def test_idle_connection_cut(self):
        def server(conn):
            self.read_to_eof(conn)
        port, thread, errors = self.scripted_server(server)
        hushd = self.start(port, ["sni-idle-timeout 1s"])
        with socket.create_connection(("127.0.0.1", self.sni_port)) as s:
            s.settimeout(5)
            s.sendall(client_hello("idle.example"))
            time.sleep(0.6)
            s.sendall(b"still here")     # activity puts the cut off
            started = time.monotonic()
            self.assertEqual(s.recv(100), b"")
            self.assertGreater(time.monotonic() - started, 0.7)
            self.assertLess(time.monotonic() - started, 2.5)
        wait_for(lambda: any(e.get("error") == "idle"
                             for e in self.tls_events(hushd)), 5,
                 "the idle connection's event")

    def test_no_sni_judged_by_sni_missing(self):
        counter = Counter()
        self.addCleanup(counter.close)
        hushd = self.start(counter.port,
                           ["group default {", "sni-missing block", "}"])
        with socket.create_connection(("127.0.0.1", self.sni_port)) as s:
            s.sendall(client_hello("127.0.0.1"))   # IP literal: no SNI
            s.settimeout(5)
            self.assertEqual(s.recv(100), ALERT_ACCESS_DENIED)
        wait_for(lambda: self.tls_events(hushd), 5, "the tls event")
        self.assertEqual(self.tls_events(hushd)[0]["reason"], "no-sni")


ECH = ("AEn+DQBFKwAgACABWIHUGj4u+PIggYXcR5JF0gYk3dCRioBW8uJq9H4mKAAIAAEAAQAB"
       "AANAEnB1YmxpYy50bHMtZWNoLmRldgAA")


class EchStrip(HushdTestCase):
    """HTTPS answers lose their ech parameter, so that the real name stays
    in the ClientHello where hushd can judge it."""

    needs_unbound = False

    def setUp(self):
        super().setUp()
        if UNBOUND is None or UNBOUND_CONTROL is None:
            self.skipTest("unbound is not installed")
        self.upstream = Unbound(self.tmp, extra=[
            'local-data: "svc.test. 300 IN HTTPS 1 . alpn=h2 ech=%s '
            'ipv4hint=192.0.2.1"' % ECH])
        self.addCleanup(self.upstream.stop)
        self.upstream.start()

    def params(self, hushd):
        answer = hushd.query("svc.test", "HTTPS").answer
        return answer[0][0].to_text()

    def test_ech_removed_by_default_fresh_and_cached(self):
        hushd = self.start_hushd(upstreams=[self.upstream.address])
        for _ in range(2):
            text = self.params(hushd)
            self.assertNotIn("ech", text)
            self.assertIn("alpn", text)
            self.assertIn("192.0.2.1", text)

    def test_ech_kept_when_asked(self):
        hushd = self.start_hushd(upstreams=[self.upstream.address],
                                 extra=["ech-strip no"])
        self.assertIn("ech=", self.params(hushd))


class Transparent(HushdTestCase):
    """A real redirect: the shipped nftables rules, loaded in a "router"
    namespace, send the LAN's tcp/443 to hushd, which finds the destination
    with SO_ORIGINAL_DST."""

    needs_unbound = False

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0 or IP is None or NFT is None or OPENSSL is None:
            self.skipTest("needs root, ip, nft and openssl")
        tag = "%d" % (os.getpid() % 100000)
        self.rtr, self.lan = "hushd-r" + tag, "hushd-l" + tag
        for ns in (self.rtr, self.lan):
            if subprocess.run([IP, "netns", "add", ns]).returncode != 0:
                self.skipTest("network namespaces are not permitted")
            self.addCleanup(subprocess.run, [IP, "netns", "del", ns])
        run = lambda *a: subprocess.run(list(a), check=True, timeout=20,
                                        capture_output=True)
        run(IP, "link", "add", "vr" + tag, "netns", self.rtr, "type", "veth",
            "peer", "name", "vl" + tag, "netns", self.lan)
        run(IP, "-n", self.rtr, "link", "set", "lo", "up")
        run(IP, "-n", self.lan, "link", "set", "lo", "up")
        run(IP, "-n", self.rtr, "link", "set", "vr" + tag, "up")
        run(IP, "-n", self.lan, "link", "set", "vl" + tag, "up")
        run(IP, "-n", self.rtr, "addr", "add", "10.97.0.1/24", "dev",
            "vr" + tag)
        run(IP, "-n", self.lan, "addr", "add", "10.97.0.2/24", "dev",
            "vl" + tag)
        run(IP, "-n", self.lan, "route", "add", "default", "via",
            "10.97.0.1")
        # "The internet": a TLS server on an address of the router's.
        run(IP, "-n", self.rtr, "addr", "add", "198.51.100.7/32", "dev",
            "lo")
        # The rules hushd ships, as a user would load them on the router.
        shipped = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "..", "..", "conf", "nftables-hushd.nft")
        with open(shipped) as f:
            rules = f.read()
        rules = rules.replace('define LAN_IF = "br-lan"',
                              'define LAN_IF = "vr%s"' % tag)
        self.assertIn("vr" + tag, rules)
        ruleset = os.path.join(self.tmp, "redirect.nft")
        with open(ruleset, "w") as f:
            f.write(rules)
        run(IP, "netns", "exec", self.rtr, NFT, "-f", ruleset)
        import tempfile
        self.certs = tempfile.mkdtemp(prefix="hushd-tp-")
        self.addCleanup(shutil.rmtree, self.certs, True)
        make_certificates(self.certs)
        server = subprocess.Popen(
            [IP, "netns", "exec", self.rtr, OPENSSL, "s_server", "-accept",
             "198.51.100.7:443", "-cert", "server.pem", "-key", "server.key",
             "-www", "-quiet"], cwd=self.certs, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(server.wait, 10)
        self.addCleanup(server.terminate)

    def test_redirected_connection_reaches_its_destination(self):
        conf = os.path.join(self.tmp, "hushd.conf")
        with open(conf, "w") as f:
            f.write("listen 127.0.0.1:5399\nupstream 127.0.0.1:9\n"
                    "workers 1\nuser root\nevents events.jsonl\n"
                    "allow-clients 10.97.0.0/24\n"
                    "sni-listen 0.0.0.0:8443\nlist ads ads.txt\n")
        with open(os.path.join(self.tmp, "ads.txt"), "w") as f:
            f.write("ads.test\n")
        stderr = open(os.path.join(self.tmp, "stderr"), "wb")
        self.addCleanup(stderr.close)
        proc = subprocess.Popen([IP, "netns", "exec", self.rtr, HUSHD, "-f",
                                 "-c", conf], stdout=subprocess.DEVNULL,
                                stderr=stderr)

        def stop():
            proc.terminate()
            proc.wait(10)
        self.addCleanup(stop)

        def fetch(name):
            return subprocess.run(
                [IP, "netns", "exec", self.lan, OPENSSL, "s_client",
                 "-connect", "198.51.100.7:443", "-servername", name,
                 "-CAfile", os.path.join(self.certs, "ca.pem")],
                input=b"GET / HTTP/1.0\r\n\r\n", capture_output=True,
                timeout=20)
        wait_for(lambda: b"Verify return code: 0" in fetch("dns.test").stdout,
                 10, "a verified connection through the redirect")
        out = fetch("ads.test")
        self.assertIn(b"alert access denied", out.stderr + out.stdout)
        with open(os.path.join(self.tmp, "events.jsonl")) as f:
            import json
            events = [json.loads(line) for line in f]
        passed = [e for e in events if e.get("sni") == "dns.test"]
        self.assertEqual(passed[-1]["dst"], "198.51.100.7:443")
        self.assertEqual(passed[-1]["client"], "10.97.0.2")
        blocked = [e for e in events if e.get("sni") == "ads.test"]
        self.assertEqual(blocked[-1]["action"], "block")


if __name__ == "__main__":
    unittest.main()
