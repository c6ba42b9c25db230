"""Peers and helpers for the hushd integration tests.

Everything runs on loopback with ports chosen here. unbound is the real
upstream: it serves a static zone "test." and logs every query it receives,
so a test can tell whether a query reached it. hushd runs in the foreground
with a configuration written per test; stopping it checks that SIGTERM
ends it cleanly (exit 0, no sanitizer report).

Every wait polls with a deadline; every process and socket started here is
stopped by the test's cleanups, also when the test fails.
"""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

HERE = os.path.dirname(os.path.abspath(__file__))
HUSHD = os.environ.get("HUSHD") or os.path.join(HERE, "..", "..", "src",
                                                "hushd")
UNBOUND = shutil.which("unbound") or (
    "/usr/sbin/unbound" if os.access("/usr/sbin/unbound", os.X_OK) else None)
UNBOUND_CONTROL = shutil.which("unbound-control") or (
    "/usr/sbin/unbound-control"
    if os.access("/usr/sbin/unbound-control", os.X_OK) else None)

OPENSSL = shutil.which("openssl")

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer")

# --------------------------------------------------------------- the zone
# Names the tests query, with the address unbound gives each. Whether a
# name is listed is up to each test's configuration.
ZONE_A = {
    "www.test": "192.0.2.1",
    "cache.test": "192.0.2.2",
    "nocache.test": "192.0.2.3",
    "failover.test": "192.0.2.4",
    "ads.test": "192.0.2.10",
    "sub.ads.test": "192.0.2.11",
    "notads.test": "192.0.2.12",
    "deep.sub.ads.test": "192.0.2.13",
    "tracker.test": "192.0.2.20",
    "ok.tracker.test": "192.0.2.21",
    "other.tracker.test": "192.0.2.22",
    "plain.test": "192.0.2.30",
    "sub.plain.test": "192.0.2.31",
    "hosts0.test": "192.0.2.32",
    "hosts127.test": "192.0.2.33",
    "adblock.test": "192.0.2.34",
    "sub.adblock.test": "192.0.2.35",
    "exception.adblock.test": "192.0.2.36",
    "wild.test": "192.0.2.37",
    "a.wild.test": "192.0.2.38",
    "after-garbage.test": "192.0.2.39",
    "watched.test": "192.0.2.40",
    "kids.test": "192.0.2.41",
    "added.test": "192.0.2.50",
    "removed.test": "192.0.2.51",
    "before.test": "192.0.2.60",
    "after.test": "192.0.2.61",
    "pipe1.test": "192.0.2.71",
    "pipe2.test": "192.0.2.72",
    "pipe3.test": "192.0.2.73",
    "pipe4.test": "192.0.2.74",
    "pipe5.test": "192.0.2.75",
    "v6only.test": "192.0.2.80",
}
ZONE_TTL = 300
WWW_AAAA = "2001:db8::1"
WWW_TXT = "hello from the test zone"
WWW_HTTPS = '1 . alpn="h2"'
BIG_NAME = "big.test"
# 40 strings of 60 bytes: about 2.8 KB, beyond both 512 and 1232.
BIG_TXT = ["record %02d " % i + "x" * 50 for i in range(40)]


def zone_local_data():
    # With an SOA, negative answers carry the TTL to cache them by (RFC 2308).
    lines = ['local-zone: "test." static',
             'local-data: "test. %d IN SOA ns.test. hostmaster.test. '
             '1 3600 600 86400 60"' % ZONE_TTL]
    for name, ip in ZONE_A.items():
        lines.append('local-data: "%s. %d IN A %s"' % (name, ZONE_TTL, ip))
    for name in ("www.test", "ads.test"):
        lines.append('local-data: "%s. %d IN AAAA %s"'
                     % (name, ZONE_TTL, WWW_AAAA))
        lines.append("local-data: '%s. %d IN TXT \"%s\"'"
                     % (name, ZONE_TTL, WWW_TXT))
        lines.append('local-data: "%s. %d IN HTTPS %s"'
                     % (name, ZONE_TTL, WWW_HTTPS.replace('"', "")))
    for text in BIG_TXT:
        lines.append("local-data: '%s. %d IN TXT \"%s\"'"
                     % (BIG_NAME, ZONE_TTL, text))
    return lines


# ---------------------------------------------------------------- sockets
_ipv6 = None


def ipv6_loopback():
    """Whether ::1 can be bound here (some containers have no IPv6)."""
    global _ipv6
    if _ipv6 is None:
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
                s.bind(("::1", 0))
            _ipv6 = True
        except OSError:
            _ipv6 = False
    return _ipv6


def free_port():
    """A port free for UDP and TCP on 127.0.0.1 (and ::1 when present)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                binds = [(socket.AF_INET, socket.SOCK_DGRAM, "127.0.0.1")]
                if ipv6_loopback():
                    binds += [(socket.AF_INET6, socket.SOCK_DGRAM, "::1"),
                              (socket.AF_INET6, socket.SOCK_STREAM, "::1")]
                for family, kind, host in binds:
                    with socket.socket(family, kind) as s:
                        s.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found")


def make_certificates(directory, names=("DNS:dns.test",), ca_name="ca",
                      server_name="server"):
    """A CA (ca_name.pem/.key) and a server certificate (server_name.pem,
    .key) for names (subjectAltName entries) signed by it."""
    def run(*args):
        subprocess.run([OPENSSL] + list(args), cwd=directory, check=True,
                       capture_output=True, timeout=30)
    if not os.path.exists(os.path.join(directory, ca_name + ".pem")):
        run("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_name + ".key",
            "-out", ca_name + ".pem", "-days", "2", "-subj",
            "/CN=hushd test CA " + ca_name)
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", server_name + ".key", "-out",
        server_name + ".csr", "-subj", "/CN=" + names[0].split(":", 1)[1])
    with open(os.path.join(directory, server_name + ".ext"), "w") as f:
        f.write("subjectAltName=%s\n" % ",".join(names))
    run("x509", "-req", "-in", server_name + ".csr", "-CA", ca_name + ".pem",
        "-CAkey", ca_name + ".key", "-CAcreateserial", "-out",
        server_name + ".pem", "-days", "2", "-extfile", server_name + ".ext")
    with open(os.path.join(directory, "ticket.key"), "wb") as f:
        f.write(os.urandom(80))


def wait_for(predicate, timeout, what, interval=0.05):
    """Polls predicate until it returns a true value, which is returned.

    what describes the wait in the failure message; a callable is asked
    only then, so it can report the state at the deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s"
                                 % (timeout, what() if callable(what)
                                    else what))
        time.sleep(interval)


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def udp_exchange(wire, host, port, timeout=2.0):
    """Sends one datagram; returns the first reply's bytes, or None."""
    with socket.socket(family_of(host), socket.SOCK_DGRAM) as s:
        s.connect((host, port))
        s.send(wire)
        ready, _, _ = select.select([s], [], [], timeout)
        if not ready:
            return None
        try:
            return s.recv(65535)
        except ConnectionRefusedError:
            return None


def recv_exact(sock, n, deadline):
    data = b""
    while len(data) < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("timed out reading %d bytes over TCP" % n)
        sock.settimeout(remaining)
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise AssertionError("connection closed after %d of %d bytes"
                                 % (len(data), n))
        data += chunk
    return data


def tcp_read_message(sock, deadline):
    length = int.from_bytes(recv_exact(sock, 2, deadline), "big")
    return recv_exact(sock, length, deadline)


def make_query(name, rdtype="A", edns=False, payload=1232, dnssec=False):
    return dns.message.make_query(name, rdtype, want_dnssec=dnssec,
                                  use_edns=0 if (edns or dnssec) else False,
                                  payload=payload)


def a_addresses(response):
    return sorted(rd.address for rrset in response.answer
                  if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA)
                  for rd in rrset)


# ---------------------------------------------------------------- unbound
class Unbound:
    """unbound in the foreground, serving ZONE_A and friends."""

    def __init__(self, workdir, extra=()):
        self.dir = workdir
        self.port = free_port()
        self.conf = os.path.join(workdir, "unbound.conf")
        self.logfile = os.path.join(workdir, "unbound.log")
        self.control_socket = os.path.join(workdir, "control.sock")
        self.proc = None
        interfaces = ["127.0.0.1"] + (["::1"] if ipv6_loopback() else [])
        lines = ["server:"]
        lines += ["  interface: %s" % i for i in interfaces]
        lines += [
            "  port: %d" % self.port,
            "  do-daemonize: no",
            '  chroot: ""',
            '  username: ""',
            '  directory: "%s"' % workdir,
            '  pidfile: ""',
            "  use-syslog: no",
            '  logfile: "%s"' % self.logfile,
            "  verbosity: 1",
            "  log-queries: yes",
            "  extended-statistics: yes",
            "  statistics-cumulative: yes",
            "  access-control: 127.0.0.0/8 allow",
            "  access-control: ::1 allow",
            '  module-config: "iterator"',
            "  do-not-query-localhost: no",
            "  num-threads: 1",
            # Never recurse to the Internet: names outside the zone below
            # are refused.
            '  local-zone: "." refuse',
        ]
        lines += ["  " + line for line in zone_local_data()]
        lines += ["  " + line for line in extra]
        lines += [
            "remote-control:",
            "  control-enable: yes",
            '  control-interface: "%s"' % self.control_socket,
            "  control-use-cert: no",
        ]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        self.output = open(os.path.join(self.dir, "unbound.out"), "wb")
        self.proc = subprocess.Popen([UNBOUND, "-d", "-c", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.output,
                                     stderr=subprocess.STDOUT)

        def answers():
            if self.proc.poll() is not None:
                raise AssertionError("unbound exited with %d: %s" % (
                    self.proc.returncode, self._output_text()))
            try:
                r = dns.query.udp(make_query("www.test"), "127.0.0.1",
                                  port=self.port, timeout=0.2)
                return r.rcode() == dns.rcode.NOERROR
            except (dns.exception.Timeout, OSError):
                return False
        wait_for(answers, START_TIMEOUT, "unbound to answer")

    def _output_text(self):
        with open(self.output.name, errors="replace") as f:
            return f.read()[-2000:]

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.output.close()
        self.proc = None

    def num_queries(self):
        """total.num.queries from unbound-control (cumulative)."""
        out = subprocess.run([UNBOUND_CONTROL, "-c", self.conf,
                              "stats_noreset"], capture_output=True,
                             text=True, timeout=5, check=True).stdout
        m = re.search(r"^total\.num\.queries=(\d+)$", out, re.M)
        if m is None:
            raise AssertionError("no total.num.queries in: " + out[:500])
        return int(m.group(1))

    def queries(self):
        """(qname, qtype) of every query unbound logged, in order."""
        seen = []
        with open(self.logfile, errors="replace") as f:
            for line in f:
                m = re.search(r" info: \S+ (\S+)\. (\S+) IN$", line.rstrip())
                if m:
                    seen.append((m.group(1).lower(), m.group(2)))
        return seen

    def count(self, qname, qtype=None, since=0):
        """Queries for qname (and qtype) logged after the first since."""
        return sum(1 for name, kind in self.queries()[since:]
                   if name == qname and (qtype is None or kind == qtype))


# ---------------------------------------------------------- fake upstreams
class Blackhole:
    """An upstream that receives queries and never answers (UDP and TCP)."""

    def __init__(self):
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.tcp.bind(("127.0.0.1", self.port))
            self.tcp.listen(16)
        except OSError:
            self.tcp.close()
            self.tcp = None

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def received(self):
        """Number of datagrams waiting, drained."""
        n = 0
        self.udp.setblocking(False)
        while True:
            try:
                self.udp.recv(65535)
                n += 1
            except BlockingIOError:
                return n

    def close(self):
        self.udp.close()
        if self.tcp is not None:
            self.tcp.close()


class FakeUpstream:
    """A UDP upstream in a thread; respond(query) says what to send back.

    respond returns a list of (socket, message) pairs where socket is
    "main" (the address hushd queried) or "other" (another local port).
    """

    def __init__(self, respond):
        self.respond = respond
        self.main = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.main.bind(("127.0.0.1", 0))
        self.other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.other.bind(("127.0.0.1", 0))
        self.port = self.main.getsockname()[1]
        self.queries = []
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def _run(self):
        while not self._stop.is_set():
            ready, _, _ = select.select([self.main], [], [], 0.05)
            if not ready:
                continue
            try:
                wire, peer = self.main.recvfrom(65535)
                query = dns.message.from_wire(wire)
            except Exception as e:  # a bad query is hushd's bug: record it
                self.errors.append(repr(e))
                continue
            self.queries.append(query)
            for which, message in self.respond(query):
                sock = self.main if which == "main" else self.other
                sock.sendto(message.to_wire(), peer)

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.main.close()
        self.other.close()


def answer_a(query, ip, ttl=ZONE_TTL, qname=None, msg_id=None):
    """A reply to query carrying one A record (optionally for qname)."""
    response = dns.message.make_response(query)
    if qname is not None:
        response.question = [dns.rrset.RRset(dns.name.from_text(qname),
                                             dns.rdataclass.IN,
                                             dns.rdatatype.A)]
    name = response.question[0].name
    response.answer.append(dns.rrset.from_text(name, ttl, "IN", "A", ip))
    if msg_id is not None:
        response.id = msg_id
    return response


# ------------------------------------------------------------------ hushd
class Hushd:
    """One hushd process in the foreground, with its config in workdir."""

    def __init__(self, workdir, config_text, listen_port, binary=None,
                 args=()):
        self.dir = workdir
        self.binary = binary or HUSHD
        self.args = list(args)
        self.port = listen_port
        self.conf = os.path.join(workdir, "hushd.conf")
        self.events_path = os.path.join(workdir, "events.jsonl")
        self.stderr_path = os.path.join(workdir, "hushd.stderr")
        self.stdout_path = os.path.join(workdir, "hushd.stdout")
        self.proc = None
        self.checked = False
        self.write_config(config_text)

    def write_config(self, text):
        with open(self.conf, "w") as f:
            f.write(text)

    def start(self, ready_host="127.0.0.1"):
        if not os.access(self.binary, os.X_OK):
            raise AssertionError("hushd binary not found: %s (build it, or "
                                 "give run.py --hushd PATH)" % self.binary)
        self._stderr = open(self.stderr_path, "wb")
        self._stdout = open(self.stdout_path, "wb")
        # cwd "/": relative paths must resolve against the config's directory.
        self.proc = subprocess.Popen([self.binary, "-c", self.conf, "-f"] +
                                     self.args,
                                     cwd="/", stdin=subprocess.DEVNULL,
                                     stdout=self._stdout, stderr=self._stderr)
        self.wait_ready(ready_host)

    def wait_ready(self, host):
        """Polls with queries on one socket until any reply comes back.

        Probes still in flight are then given a short quiet spell to be
        answered, so that they do not show in unbound's counters later.
        """
        with socket.socket(family_of(host), socket.SOCK_DGRAM) as s:
            s.connect((host, self.port))
            ids = set()
            deadline = time.monotonic() + START_TIMEOUT
            answered = False
            while not answered:
                if time.monotonic() >= deadline:
                    raise AssertionError("hushd did not answer within "
                                         "%.0fs:\n%s" % (START_TIMEOUT,
                                                         self.stderr_text()))
                if self.proc.poll() is not None:
                    raise AssertionError("hushd exited with %d at start:\n%s"
                                         % (self.proc.returncode,
                                            self.stderr_text()))
                q = make_query("probe.hushd.test")
                ids.add(q.id)
                try:
                    s.send(q.to_wire())
                except ConnectionRefusedError:
                    pass
                answered = self._probe_reply(s, ids, 0.1)
            while self._probe_reply(s, ids, 0.15):
                pass

    @staticmethod
    def _probe_reply(sock, ids, timeout):
        ready, _, _ = select.select([sock], [], [], timeout)
        if not ready:
            return False
        try:
            wire = sock.recv(65535)
        except ConnectionRefusedError:
            return False
        return len(wire) >= 2 and int.from_bytes(wire[:2], "big") in ids

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        """SIGTERM; returns the exit status (killing it after a timeout)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._close()
                raise AssertionError("hushd did not exit within %.0fs of "
                                     "SIGTERM" % STOP_TIMEOUT)
        self._close()
        return self.proc.returncode

    def _close(self):
        for f in (self._stderr, self._stdout):
            if not f.closed:
                f.close()

    def stop_and_check(self):
        """Stops hushd; fails unless it exited 0 without sanitizer reports.

        Tests call it to read the events hushd has flushed; the cleanup
        calls it again, which then does nothing.
        """
        if self.proc is None or self.checked:
            return
        self.checked = True
        status = self.stop()
        text = self.stderr_text()
        if status != 0:
            raise AssertionError("hushd exited with %s after SIGTERM:\n%s"
                                 % (status, text[-3000:]))
        for mark in SANITIZER_MARKS:
            if mark in text:
                raise AssertionError("sanitizer report in hushd's stderr:\n"
                                     + text[-3000:])

    def stderr_text(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def events(self, path=None):
        """Every event line, parsed; a line that is not JSON fails."""
        path = path or self.events_path
        events = []
        with open(path) as f:
            for number, line in enumerate(f, 1):
                try:
                    event = json.loads(line)
                except ValueError as e:
                    raise AssertionError("%s:%d is not JSON (%s): %r"
                                         % (path, number, e, line))
                if not isinstance(event, dict):
                    raise AssertionError("%s:%d is not an object: %r"
                                         % (path, number, line))
                events.append(event)
        return events

    def query(self, name, rdtype="A", tcp=False, host="127.0.0.1",
              timeout=3.0, **kw):
        q = make_query(name, rdtype, **kw)
        if tcp:
            return dns.query.tcp(q, host, port=self.port, timeout=timeout)
        return dns.query.udp(q, host, port=self.port, timeout=timeout)


# ------------------------------------------------------------- test cases
class HushdTestCase(unittest.TestCase):
    """Base class: a temp dir per test, hushd per test, unbound per class.

    Set needs_unbound = False in classes that only run hushd's command line.
    """

    needs_unbound = True
    unbound = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.needs_unbound or UNBOUND is None or UNBOUND_CONTROL is None:
            return
        workdir = tempfile.mkdtemp(prefix="hushd-unbound-")
        cls.addClassCleanup(shutil.rmtree, workdir, True)
        cls.unbound = Unbound(workdir)
        cls.addClassCleanup(cls.unbound.stop)
        cls.unbound.start()

    def setUp(self):
        super().setUp()
        if self.needs_unbound and self.unbound is None:
            self.skipTest("unbound is not installed")
        # unbound lives as long as the class: count only this test's queries.
        self.unbound_mark = len(self.unbound.queries()) if self.unbound else 0
        self.tmp = tempfile.mkdtemp(prefix="hushd-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    # Configuration ------------------------------------------------------
    def write_list(self, name, lines):
        """Writes lists/NAME.txt; returns the path relative to the config."""
        os.makedirs(os.path.join(self.tmp, "lists"), exist_ok=True)
        relative = os.path.join("lists", name + ".txt")
        with open(os.path.join(self.tmp, relative), "w") as f:
            f.write("".join(line + "\n" for line in lines))
        return relative

    def config(self, port, upstreams=None, lists=None, allowlist=None,
               block_mode="null", block_ttl="42s", cache_size=1000,
               allow_clients="127.0.0.0/8 ::1", log_allowed=True,
               upstream_timeout="500ms", query_timeout="3s",
               listen_v6=False, events="events.jsonl", workers=1,
               extra=()):
        """A hushd configuration; lists maps list names to their lines."""
        if upstreams is None:
            upstreams = [self.unbound.address]
        lines = ["# written by the integration tests",
                 "listen 127.0.0.1:%d" % port]
        if listen_v6:
            lines.append("listen [::1]:%d" % port)
        lines += ["upstream %s" % u for u in upstreams]
        lines += [
            "workers %d" % workers,
            "user root",
            "upstream-timeout %s" % upstream_timeout,
            "query-timeout %s" % query_timeout,
            "cache-size %d" % cache_size,
            "block-mode %s" % block_mode,
            "block-ttl %s" % block_ttl,
            "allow-clients %s" % allow_clients,
            "events %s" % events,
            "log-allowed %s" % ("yes" if log_allowed else "no"),
        ]
        for name, rules in (lists or {}).items():
            lines.append("list %s %s" % (name, self.write_list(name, rules)))
        if allowlist is not None:
            lines.append("allowlist %s"
                         % self.write_list("allowlist", allowlist))
        lines += list(extra)
        return "\n".join(lines) + "\n"

    def start_hushd(self, config_text=None, port=None, ready_host="127.0.0.1",
                    args=(), **config_args):
        """Starts hushd (stopped and checked by a cleanup) and returns it."""
        port = port or free_port()
        if config_text is None:
            config_text = self.config(port, **config_args)
        hushd = Hushd(self.tmp, config_text, port, args=args)
        self.addCleanup(hushd.stop_and_check)
        hushd.start(ready_host)
        return hushd

    def forwarded(self, qname, qtype=None):
        """How many queries for qname reached unbound during this test."""
        return self.unbound.count(qname, qtype, self.unbound_mark)

    # Assertions ---------------------------------------------------------
    def assert_answer(self, response, rdtype, expected, ttl=None):
        """The answer section holds exactly expected (texts) of rdtype."""
        self.assertEqual(dns.rcode.to_text(response.rcode()), "NOERROR",
                         response)
        records = [rd for rrset in response.answer
                   if rrset.rdtype == dns.rdatatype.from_text(rdtype)
                   for rd in rrset]
        self.assertEqual(sorted(rd.to_text() for rd in records),
                         sorted(expected), response)
        if ttl is not None:
            for rrset in response.answer:
                self.assertEqual(rrset.ttl, ttl, response)

    def assert_rcode(self, response, rcode):
        self.assertEqual(dns.rcode.to_text(response.rcode()), rcode,
                         response)

    def wait_stderr(self, hushd, pattern, since=0, timeout=5.0):
        """Waits until hushd's stderr from offset since matches pattern."""
        return wait_for(
            lambda: re.search(pattern, hushd.stderr_text()[since:]), timeout,
            lambda: "stderr to match %r; stderr was:\n%s"
            % (pattern, hushd.stderr_text()[since:][-1500:]))
