"""Devices by MAC, through the kernel's neighbour table: the test builds
two network namespaces joined by a veth pair, gives the client side one
MAC with an IPv4 and two IPv6 addresses (as a phone with privacy
addresses has), runs hushd in the other, and checks that every address is
the same device, in the same group, with its MAC and vendor in events."""

import json
import os
import shutil
import subprocess
import time
import unittest

from harness import HUSHD, HushdTestCase, free_port, wait_for

IP = shutil.which("ip")
DIG = shutil.which("dig")
PHONE_MAC = "64:09:80:12:34:56"          # an OUI registered to Xiaomi
OTHER_MAC = "02:00:00:00:00:99"          # locally administered: no vendor


def run(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True,
                          text=True, timeout=20)


class NeighbourDevices(HushdTestCase):
    needs_unbound = False

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0 or IP is None or DIG is None:
            self.skipTest("needs root, ip (iproute2) and dig")
        tag = "%d-%d" % (os.getpid(), time.monotonic_ns() % 100000)
        self.srv, self.cli = "hushd-s" + tag, "hushd-c" + tag
        for ns in (self.srv, self.cli):
            run(IP, "netns", "add", ns)
            self.addCleanup(run, IP, "netns", "del", ns, check=False)
        run(IP, "link", "add", "vs" + tag[-6:], "netns", self.srv, "type",
            "veth", "peer", "name", "vc" + tag[-6:], "netns", self.cli)
        self.vs, self.vc = "vs" + tag[-6:], "vc" + tag[-6:]
        s = [IP, "-n", self.srv]
        c = [IP, "-n", self.cli]
        run(*c, "link", "set", self.vc, "address", PHONE_MAC)
        for cmd, dev in ((s, self.vs), (c, self.vc)):
            run(*cmd, "link", "set", "lo", "up")
            run(*cmd, "link", "set", dev, "up")
        run(*s, "addr", "add", "10.99.0.1/24", "dev", self.vs)
        run(*s, "addr", "add", "fd99::1/64", "dev", self.vs, "nodad")
        run(*c, "addr", "add", "10.99.0.2/24", "dev", self.vc)
        run(*c, "addr", "add", "10.99.0.3/24", "dev", self.vc)
        run(*c, "addr", "add", "fd99::2/64", "dev", self.vc, "nodad")
        run(*c, "addr", "add", "fd99::a1b2:c3d4/64", "dev", self.vc, "nodad")
        # The server's view: the phone's three addresses share its MAC;
        # 10.99.0.3 is another device behind the same cable.
        for addr in ("10.99.0.2", "fd99::2", "fd99::a1b2:c3d4"):
            run(*s, "neigh", "replace", addr, "lladdr", PHONE_MAC, "dev",
                self.vs, "nud", "permanent")
        run(*s, "neigh", "replace", "10.99.0.3", "lladdr", OTHER_MAC, "dev",
            self.vs, "nud", "permanent")

    def start_in_namespace(self, config):
        with open(os.path.join(self.tmp, "ads.txt"), "w") as f:
            f.write("ads.test\n")
        self.port = free_port()
        path = os.path.join(self.tmp, "hushd.conf")
        with open(path, "w") as f:
            f.write(config % {"port": self.port})
        self.events_path = os.path.join(self.tmp, "events.jsonl")
        self.stderr = open(os.path.join(self.tmp, "hushd.stderr"), "wb")
        self.proc = subprocess.Popen(
            [IP, "netns", "exec", self.srv, HUSHD, "-f", "-c", path],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.stderr)
        self.addCleanup(self.stop)
        wait_for(lambda: self.dig("10.99.0.2", "10.99.0.1", "ready.test")
                 is not None, 10, "hushd to answer in its namespace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.stderr.close()
        self.assertEqual(self.proc.returncode, 0, self.stderr_text())

    def stderr_text(self):
        with open(self.stderr.name, errors="replace") as f:
            return f.read()

    def dig(self, source, server, name):
        out = run(IP, "netns", "exec", self.cli, DIG, "+short", "+tries=1",
                  "+time=1", "-b", source, "-p", str(self.port), "@" + server,
                  name, "A", check=False)
        return out.stdout.strip() if out.returncode == 0 else None

    def events(self):
        with open(self.events_path) as f:
            return [json.loads(line) for line in f]

    def test_one_device_over_ipv4_and_ipv6(self):
        self.start_in_namespace(
            "listen 10.99.0.1:%(port)d\nlisten [fd99::1]:%(port)d\n"
            "upstream 127.0.0.1:9\nquery-timeout 1s\nupstream-timeout 1s\n"
            "allow-clients 10.99.0.0/24 fd99::/64\nworkers 1\nuser root\n"
            "events events.jsonl\nlist ads ads.txt\n"
            "device phone " + PHONE_MAC + "\n"
            "group kids {\n clients phone\n block ads\n}\n"
            "group default {\n}\n")
        # Blocked for the phone from each of its addresses...
        self.assertEqual(self.dig("10.99.0.2", "10.99.0.1", "ads.test"),
                         "0.0.0.0")
        self.assertEqual(self.dig("fd99::2", "fd99::1", "ads.test"),
                         "0.0.0.0")
        self.assertEqual(self.dig("fd99::a1b2:c3d4", "fd99::1", "ads.test"),
                         "0.0.0.0")
        # ...and not for the other device on the same link.
        self.assertNotEqual(self.dig("10.99.0.3", "10.99.0.1", "ads.test"),
                            "0.0.0.0")
        events = [e for e in self.events() if e["qname"] == "ads.test"]
        phone = [e for e in events if e["client"] != "10.99.0.3"]
        self.assertEqual(sorted(e["client"] for e in phone),
                         ["10.99.0.2", "fd99::2", "fd99::a1b2:c3d4"])
        for e in phone:
            self.assertEqual(e["device"], "phone", e)
            self.assertEqual(e["group"], "kids", e)
            self.assertEqual(e["mac"], PHONE_MAC, e)
            self.assertEqual(e["action"], "block", e)
            if os.path.exists("/usr/share/ieee-data/oui.txt"):
                self.assertIn("xiaomi", e["vendor"].lower(), e)
        other = [e for e in events if e["client"] == "10.99.0.3"]
        self.assertEqual(other[0]["mac"], OTHER_MAC)
        self.assertEqual(other[0]["group"], "default")
        self.assertNotIn("device", other[0])
        self.assertNotIn("vendor", other[0])

    def test_device_by_address_follows_its_mac_to_ipv6(self):
        self.start_in_namespace(
            "listen 10.99.0.1:%(port)d\nlisten [fd99::1]:%(port)d\n"
            "upstream 127.0.0.1:9\nquery-timeout 1s\nupstream-timeout 1s\n"
            "allow-clients 10.99.0.0/24 fd99::/64\nworkers 1\nuser root\n"
            "events events.jsonl\nlist ads ads.txt\n"
            "device phone 10.99.0.2\n"
            "group kids {\n clients 10.99.0.2\n block ads\n}\n"
            "group default {\n}\n")
        self.assertEqual(self.dig("fd99::a1b2:c3d4", "fd99::1", "ads.test"),
                         "0.0.0.0")
        e = [e for e in self.events() if e["qname"] == "ads.test"][0]
        self.assertEqual((e["device"], e["group"]), ("phone", "kids"), e)


if __name__ == "__main__":
    unittest.main()
