"""hushd audit: a capture the test makes from real clients (dig, openssl
s_client, curl, and a replayed QUIC Initial) in a private network
namespace, judged with the live policy; bad captures reported, never a
crash."""

import json
import os
import shutil
import struct
import subprocess
import unittest

from harness import HUSHD, OPENSSL, UNBOUND, HushdTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
TOOLS = {name: shutil.which(name) for name in
         ("unshare", "tcpdump", "dig", "curl", "ip")}

# RFC 9001, Appendix A.2: the client's protected Initial packet (QUIC v1,
# DCID 8394c8f03e515708, ClientHello for example.com), padded to 1200 bytes.
RFC9001_A2 = os.path.join(FIXTURES, "quic", "rfc9001-a2-client-initial.hex")

CAPTURE_SCRIPT = r"""
set -e
ip link set lo up
unbound -c unbound.conf >unbound.out 2>&1 &
UNBOUND=$!
openssl s_server -accept 443 -cert cert.pem -key key.pem -quiet -www \
    </dev/null >/dev/null 2>&1 &
SERVER=$!
trap 'kill $UNBOUND $SERVER $TCPDUMP 2>/dev/null || true' EXIT
TCPDUMP=
for i in $(seq 50); do
    dig +time=1 +tries=1 +short @127.0.0.1 www.test >/dev/null 2>&1 && break
    sleep 0.1
done
tcpdump -i lo -U -w capture.pcap 'port 53 or port 443' \
    </dev/null >/dev/null 2>tcpdump.log &
TCPDUMP=$!
sleep 1
dig +short @127.0.0.1 www.test
dig +short @127.0.0.1 tracking.miui.com
echo | openssl s_client -connect 127.0.0.1:443 -servername www.test \
    >/dev/null 2>&1 || true
echo | openssl s_client -connect 127.0.0.1:443 -servername hidden.example \
    >/dev/null 2>&1 || true
curl -sk --max-time 5 --resolve tracking.miui.com:443:127.0.0.1 \
    https://tracking.miui.com/ >/dev/null || true
python3 -c '
import socket, sys
data = bytes.fromhex(open(sys.argv[1]).read().split("\n\n", 1)[-1]
                     .replace(" ", "").replace("\n", ""))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 50000))
s.sendto(data, ("127.0.0.2", 443))
' "$QUIC_HEX"
sleep 1
kill $TCPDUMP
wait $TCPDUMP || true
"""

UNBOUND_CONF = """server:
  interface: 127.0.0.1
  port: 53
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "%(dir)s"
  pidfile: ""
  use-syslog: no
  logfile: "%(dir)s/unbound.log"
  module-config: "iterator"
  local-zone: "." refuse
  local-zone: "test." static
  local-data: "www.test. 300 IN A 127.0.0.1"
  local-zone: "tracking.miui.com." static
  local-data: "tracking.miui.com. 300 IN A 127.0.0.1"
"""


def read_hex(path):
    """The bytes of a hex fixture: comment lines start with #."""
    with open(path) as f:
        text = "".join(line for line in f if not line.startswith("#"))
    return bytes.fromhex("".join(text.split()))


class Audit(HushdTestCase):
    needs_unbound = False

    def setUp(self):
        super().setUp()
        missing = [n for n, p in TOOLS.items() if p is None]
        if UNBOUND is None:
            missing.append("unbound")
        if OPENSSL is None:
            missing.append("openssl")
        if missing:
            self.skipTest("not installed: " + " ".join(missing))
        if os.geteuid() != 0:
            self.skipTest("needs root for a network namespace")
        self.conf = os.path.join(self.tmp, "audit.conf")
        with open(self.conf, "w") as f:
            f.write("listen 127.0.0.1:5300\nupstream 127.0.0.1\n"
                    "list xiaomi %s\n" % os.path.join(
                        HERE, "..", "..", "blocklists", "xiaomi.txt"))

    def audit(self, *args):
        return subprocess.run([HUSHD, "audit", "-c", self.conf] +
                              list(args), capture_output=True, text=True,
                              timeout=60)

    def capture(self):
        """Runs the clients in a namespace; returns the capture's path."""
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                        "key.pem", "-out", "cert.pem", "-days", "1", "-subj",
                        "/CN=www.test"], cwd=self.tmp, check=True,
                       capture_output=True, timeout=30)
        with open(os.path.join(self.tmp, "unbound.conf"), "w") as f:
            f.write(UNBOUND_CONF % {"dir": self.tmp})
        env = dict(os.environ, QUIC_HEX=self.quic_hex_file())
        r = subprocess.run([TOOLS["unshare"], "-n", "sh", "-c",
                            CAPTURE_SCRIPT], cwd=self.tmp, env=env,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        path = os.path.join(self.tmp, "capture.pcap")
        self.assertTrue(os.path.getsize(path) > 1000, r.stderr)
        return path

    def quic_hex_file(self):
        """The RFC vector as plain hex for the script's replayer."""
        path = os.path.join(self.tmp, "initial.hex")
        with open(path, "w") as f:
            f.write("\n\n" + read_hex(RFC9001_A2).hex())
        return path

    def test_capture_of_real_clients(self):
        capture = self.capture()
        r = self.audit(capture)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.split("\n\n", 1)
        events = [json.loads(l) for l in lines[0].splitlines()]
        report = lines[1]
        dns_ = {e["qname"]: e for e in events if e["event"] == "dns"}
        self.assertEqual(dns_["www.test"]["action"], "pass")
        self.assertEqual(dns_["www.test"]["answers"], [{"ip": "127.0.0.1"}])
        self.assertEqual((dns_["tracking.miui.com"]["action"],
                          dns_["tracking.miui.com"]["list"]),
                         ("block", "xiaomi"))
        tls = {e["sni"]: e for e in events if e["event"] == "tls"}
        self.assertEqual(set(tls), {"www.test", "hidden.example",
                                    "tracking.miui.com"})
        self.assertEqual(tls["tracking.miui.com"]["action"], "block")
        self.assertEqual(tls["tracking.miui.com"]["alpn"], "h2")
        self.assertTrue(tls["www.test"]["dns_seen"])
        self.assertEqual(tls["www.test"]["dst"], "127.0.0.1:443")
        quic = [e for e in events if e["event"] == "quic"]
        self.assertEqual(len(quic), 1, events)
        self.assertEqual((quic[0]["sni"], quic[0]["version"],
                          quic[0]["dst"], quic[0]["dns_seen"]),
                         ("example.com", "v1", "127.0.0.2:443", False))
        # Every event carries its packet's time, not the audit's.
        self.assertTrue(all(e["ts"][:4].isdigit() for e in events))
        self.assertIn("2 DNS queries (1 blocked, 0 logged), 4 TLS/QUIC "
                      "connections (1 blocked, 1 to unresolved addresses)",
                      report)
        self.assertRegex(report, r"Names seen only over TLS/QUIC[^\n]*\n"
                         r"(\s+1\s+\S+\n)*\s+1\s+hidden\.example")
        self.assertRegex(report, r"packets read")
        self.assertNotIn("skipped:", report)
        # JSON for machines, HTML for people, from the same report.
        r = self.audit("--json", "--html",
                       os.path.join(self.tmp, "audit.html"), capture)
        self.assertEqual(r.returncode, 0, r.stderr)
        report = json.loads(r.stdout)
        self.assertEqual(report["totals"]["queries"], 2)
        self.assertEqual(report["totals"]["connections"], 4)
        with open(os.path.join(self.tmp, "audit.html")) as f:
            page = f.read()
        self.assertIn("hidden.example", page)
        self.assertNotIn("<script", page)
        with open(os.path.join(self.tmp, "report.txt"), "w") as f:
            f.write(self.audit(capture).stdout)

    def test_bad_captures_reported(self):
        capture = os.path.join(FIXTURES, "audit", "small.pcap")
        with open(capture, "rb") as f:
            data = f.read()
        cut = os.path.join(self.tmp, "cut.pcap")
        with open(cut, "wb") as f:
            f.write(data[:len(data) // 2])
        r = self.audit(cut)
        self.assertEqual(r.returncode, 1)
        self.assertIn("truncated dump file", r.stderr)
        self.assertIn("packets read", r.stdout)
        junk = os.path.join(self.tmp, "junk.pcap")
        with open(junk, "wb") as f:
            f.write(b"\x00" * 100)
        r = self.audit(junk)
        self.assertEqual(r.returncode, 1)
        self.assertIn("junk.pcap", r.stderr)
        # A link type hushd does not read (IEEE 802.11 radiotap).
        radiotap = os.path.join(self.tmp, "radiotap.pcap")
        with open(radiotap, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535,
                                127))
        r = self.audit(radiotap)
        self.assertEqual(r.returncode, 1)
        self.assertIn("is not supported", r.stderr)
        # Packets cut by the snaplen are counted, not read past.
        snap = os.path.join(self.tmp, "snap.pcap")
        header = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 60, 1)
        records = b""
        for ts, frame in self.frames(data):
            records += struct.pack("<IIII", ts[0], ts[1], min(60, len(frame)),
                                   len(frame)) + frame[:60]
        with open(snap, "wb") as f:
            f.write(header + records)
        r = self.audit(snap)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"skipped: \d+ cut short \(snaplen\)")

    def test_hello_split_over_segments(self):
        """A ClientHello cut into three TCP segments (as a small MSS would
        send it), the middle one retransmitted: read back in order."""
        with open(os.path.join(FIXTURES, "audit", "small.pcap"), "rb") as f:
            data = f.read()
        out = data[:24]
        for ts, frame in self.frames(data):
            ip = frame[14:]
            ihl = (ip[0] & 15) * 4
            tcp = ip[ihl:]
            doff = (tcp[12] >> 4) * 4 if ip[9] == 6 else 0
            payload = tcp[doff:] if ip[9] == 6 else b""
            if ip[9] != 6 or struct.unpack("!H", tcp[2:4])[0] != 443 or \
                    not payload.startswith(b"\x16\x03"):
                out += struct.pack("<IIII", ts[0], ts[1], len(frame),
                                   len(frame)) + frame
                continue
            seq = struct.unpack("!I", tcp[4:8])[0]
            cuts = [0, 40, 150, len(payload)]
            pieces = [(cuts[i], cuts[i + 1]) for i in range(3)]
            pieces.insert(2, pieces[1])         # a retransmission
            for start, end in pieces:
                seg = bytearray(tcp[:doff]) + payload[start:end]
                seg[4:8] = struct.pack("!I", (seq + start) & 0xffffffff)
                head = bytearray(ip[:ihl])
                head[2:4] = struct.pack("!H", ihl + len(seg))
                new = frame[:14] + bytes(head) + bytes(seg)
                out += struct.pack("<IIII", ts[0], ts[1], len(new),
                                   len(new)) + new
        split = os.path.join(self.tmp, "split.pcap")
        with open(split, "wb") as f:
            f.write(out)
        whole = self.audit(os.path.join(FIXTURES, "audit", "small.pcap"))
        r = self.audit(split)
        self.assertEqual(r.returncode, 0, r.stderr)
        sni = lambda text: sorted(json.loads(l)["sni"] for l in
                                  text.split("\n\n")[0].splitlines()
                                  if '"event":"tls"' in l)
        self.assertEqual(sni(r.stdout), sni(whole.stdout))
        self.assertEqual(len(sni(r.stdout)), 3)
        self.assertNotIn("skipped", r.stdout)

    @staticmethod
    def frames(data):
        """(ts, frame) of a little-endian pcap's records."""
        off = 24
        while off + 16 <= len(data):
            sec, usec, incl, _ = struct.unpack_from("<IIII", data, off)
            yield (sec, usec), data[off + 16:off + 16 + incl]
            off += 16 + incl
