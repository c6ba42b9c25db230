"""quic-queue end to end: in a private network namespace, nftables queues
udp/443 to hushd, which judges the RFC 9001 client Initial (a ClientHello
for example.com) and lets the kernel pass or drop the flow by its mark.
Needs a kernel with nft queue support; skips with the reason elsewhere."""

import os
import shutil
import subprocess
import sys
import textwrap

from harness import HUSHD, HushdTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
INITIAL = os.path.join(HERE, "..", "fixtures", "quic",
                       "rfc9001-a2-client-initial.hex")
NFT = shutil.which("nft")
UNSHARE = shutil.which("unshare")

# The rules of conf/nftables-hushd-quic.nft, on the output hook: inside
# the namespace the client is local.
RULES = """
table inet hushd_quic {
	chain output {
		type filter hook output priority filter; policy accept;
		udp dport 443 meta mark 0x20000 ct mark set meta mark drop
		udp dport 443 meta mark 0x10000 ct mark set meta mark accept
		udp dport 443 ct mark 0x20000 drop
		udp dport 443 ct mark 0x10000 accept
		udp dport 443 queue num 7 bypass
	}
}
"""

# Runs inside the namespace: hushd, a UDP server on 127.0.0.2:443, the
# Initial sent twice (the second after hushd judged the flow); prints how
# many datagrams the server got.
SCRIPT = textwrap.dedent("""
    import os, socket, subprocess, sys, time
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["nft", "-f", sys.argv[1]], check=True)
    hushd = subprocess.Popen([sys.argv[2], "-f", "-c", sys.argv[3]],
                             stderr=open(sys.argv[5], "wb"))
    try:
        for _ in range(100):
            if b"judging QUIC" in open(sys.argv[5], "rb").read():
                break
            time.sleep(0.05)
        text = open(sys.argv[4]).read()
        data = bytes.fromhex("".join(l for l in text.splitlines()
                                     if not l.startswith("#")))
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        server.bind(("127.0.0.2", 443))
        server.settimeout(0.5)
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.bind(("127.0.0.1", 50000))
        got = 0
        for _ in range(2):
            client.sendto(data, ("127.0.0.2", 443))
            try:
                server.recv(2048)
                got += 1
            except socket.timeout:
                pass
        print(got)
    finally:
        hushd.terminate()
        hushd.wait(5)
""")


class QuicQueue(HushdTestCase):
    needs_unbound = False

    def setUp(self):
        super().setUp()
        if NFT is None or UNSHARE is None or os.geteuid() != 0:
            self.skipTest("needs root, nft and unshare")
        self.rules = os.path.join(self.tmp, "rules.nft")
        with open(self.rules, "w") as f:
            f.write(RULES)
        r = subprocess.run([UNSHARE, "-n", NFT, "-f", self.rules],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            self.skipTest("this kernel has no nft queue support: %s"
                          % r.stderr.strip().splitlines()[0])

    def run_flow(self, extra):
        conf = os.path.join(self.tmp, "hushd.conf")
        with open(os.path.join(self.tmp, "quic.txt"), "w") as f:
            f.write("example.com\n")
        with open(conf, "w") as f:
            f.write("listen 127.0.0.1:5300\nupstream 127.0.0.1:9\n"
                    "user root\nworkers 1\nevents events.jsonl\n"
                    "quic-queue 7\n" + extra)
        script = os.path.join(self.tmp, "flow.py")
        with open(script, "w") as f:
            f.write(SCRIPT)
        stderr = os.path.join(self.tmp, "hushd.stderr")
        r = subprocess.run([UNSHARE, "-n", sys.executable, script,
                            self.rules, HUSHD, conf, INITIAL, stderr],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(self.tmp, "events.jsonl")) as f:
            events = f.read()
        return int(r.stdout.strip()), events

    def test_listed_name_dropped(self):
        got, events = self.run_flow("list quic quic.txt\n")
        self.assertEqual(got, 0)
        self.assertIn('"event":"quic"', events)
        self.assertIn('"sni":"example.com"', events)
        self.assertIn('"action":"block"', events)

    def test_other_name_passes(self):
        got, events = self.run_flow("")
        self.assertEqual(got, 2)
        self.assertIn('"action":"pass"', events)
