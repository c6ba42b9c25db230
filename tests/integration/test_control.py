"""Running hushd for months: hushctl against a running hushd (every
request, JSON parsed), Prometheus metrics scraped and parsed, the rate
limit, the privilege drop, an unwritable event log and log rotation."""

import json
import os
import pwd
import re
import signal
import socket
import subprocess
import threading
import time
import unittest
import urllib.request

import dns.message
import dns.query
import dns.rcode

from harness import (HUSHD, ZONE_A, FakeUpstream, HushdTestCase, answer_a,
                     free_port, make_query, wait_for)

HUSHCTL = os.path.join(os.path.dirname(os.path.abspath(HUSHD)), "hushctl")


def parse_prometheus(text):
    """{(name, frozenset(labels)): value} of a text exposition; fails on
    a line that is not a comment, blank or a well-formed sample."""
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? '
                        r'(-?[0-9.e+]+|\+Inf|NaN)$')
    label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = sample.match(line)
        if not m:
            raise AssertionError("not a sample: %r" % line)
        labels = frozenset(label.findall(m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples, types


class Control(HushdTestCase):
    def setUp(self):
        super().setUp()
        if not os.access(HUSHCTL, os.X_OK):
            self.skipTest("hushctl not built")
        self.sock = os.path.join(self.tmp, "ctl.sock")
        self.metrics_port = free_port()
        self.hushd = self.start_hushd(
            lists={"ads": ["ads.test", "tracker.test"],
                   "watch": ["watched.test"]},
            extra=["control %s" % self.sock,
                   "metrics-listen 127.0.0.1:%d" % self.metrics_port,
                   "device laptop 127.0.0.2",
                   "group default {", " block ads", " log watch", "}"])
        # hushd answered a probe when it started: count from here.
        self.base = json.loads(self.ctl("stats", "--json").stdout)

    def ctl(self, *args, check=None):
        r = subprocess.run([HUSHCTL, "-s", self.sock] + list(args),
                           capture_output=True, text=True, timeout=20)
        if check is not None:
            self.assertEqual(r.returncode, check, r.stdout + r.stderr)
        return r

    def scrape(self):
        url = "http://127.0.0.1:%d/metrics" % self.metrics_port
        with urllib.request.urlopen(url, timeout=5) as f:
            self.assertTrue(f.headers["Content-Type"].startswith(
                "text/plain; version=0.0.4"))
            return parse_prometheus(f.read().decode())

    def test_stats_text_and_json(self):
        self.hushd.query("ads.test")
        self.hushd.query("www.test")
        self.hushd.query("www.test")
        self.hushd.query("watched.test")
        text = self.ctl("stats", check=0).stdout
        stats = json.loads(self.ctl("stats", "--json", check=0).stdout)
        b = self.base
        self.assertEqual(stats["queries"] - b["queries"], 4)
        self.assertEqual(stats["blocked"] - b["blocked"], 1)
        self.assertEqual(stats["logged"] - b["logged"], 1)
        self.assertEqual(stats["passed"] - b["passed"], 2)
        self.assertEqual(stats["cache_hits"] - b["cache_hits"], 1)
        self.assertEqual(stats["cache_misses"] - b["cache_misses"], 2)
        lookups = stats["cache_hits"] + stats["cache_misses"]
        self.assertAlmostEqual(stats["cache_hit_rate"],
                               stats["cache_hits"] / lookups, places=3)
        self.assertEqual([l["list"] for l in stats["lists"]],
                         ["ads", "watch"])
        self.assertEqual(stats["lists"][0]["rules"], 2)
        (up,) = stats["upstreams"]
        self.assertEqual(up["upstream"], self.unbound.address)
        self.assertEqual(up["answers"] - b["upstreams"][0]["answers"], 2)
        self.assertGreater(up["latency_avg_ms"], 0)
        self.assertEqual(sum(w["queries"] for w in stats["workers"]),
                         stats["queries"])
        # The table says the same.
        self.assertRegex(text, r"queries\s+%d\n" % stats["queries"])
        self.assertRegex(text, r"blocked\s+%d\n" % stats["blocked"])
        self.assertRegex(text, r"logged\s+%d\n" % stats["logged"])
        self.assertRegex(text, r"ads\s+2\s+0\s+/")
        self.assertGreaterEqual(stats["uptime_seconds"], 0)

    def test_check_explains_with_exit_status(self):
        r = self.ctl("check", "sub.ads.test", "127.0.0.1", check=1)
        self.assertIn("sub.ads.test: block", r.stdout)
        self.assertRegex(r.stdout, r"block\s+ads\s+ads\.test\s+\S+ads\.txt:1")
        r = self.ctl("check", "watched.test", check=2)
        self.assertIn("watched.test: log", r.stdout)
        r = self.ctl("check", "www.test", "127.0.0.2", check=0)
        self.assertIn("device laptop", r.stdout)
        v = json.loads(self.ctl("--json", "check", "tracker.test",
                                check=1).stdout)
        self.assertEqual((v["action"], v["reason"], v["list"], v["rule"]),
                         ("block", "list", "ads", "tracker.test"))
        self.assertEqual(v["rules"][0]["line"], 2)
        self.ctl("check", "not a name!", check=64)
        r = self.ctl("check", "bad..name", check=3)
        self.assertIn("bad..name", r.stdout)

    def test_top_over_the_window(self):
        for _ in range(3):
            self.hushd.query("ads.test")
        self.hushd.query("tracker.test")
        self.hushd.query("www.test")
        dns.query.udp(make_query("ads.test"), "127.0.0.1",
                      port=self.hushd.port, source="127.0.0.2", timeout=3)
        names = json.loads(self.ctl("top", "names", "--json",
                                    check=0).stdout)
        self.assertEqual(names[0], {"name": "ads.test", "count": 4,
                                    "blocked": 4})
        self.assertIn({"name": "www.test", "count": 1, "blocked": 0},
                      names)
        blocked = json.loads(self.ctl("top", "names", "--blocked", "-n",
                                      "5", "--json", check=0).stdout)
        self.assertEqual([n["name"] for n in blocked],
                         ["ads.test", "tracker.test"])
        devices = json.loads(self.ctl("top", "devices", "--json",
                                      check=0).stdout)
        counted = {d["device"]: (d["count"], d["blocked"])
                   for d in devices}
        # The start-up probe came from 127.0.0.1 too.
        self.assertEqual(counted["laptop"], (1, 1))
        self.assertEqual(counted["127.0.0.1"][1], 4)
        self.assertGreaterEqual(counted["127.0.0.1"][0], 5)
        text = self.ctl("top", "devices", check=0).stdout
        self.assertRegex(text, r"laptop\s+1\s+1")
        self.ctl("top", "planets", check=64)

    def test_tail_streams_filtered_events(self):
        proc = subprocess.Popen([HUSHCTL, "-s", self.sock, "tail",
                                 "--action", "block"],
                                stdout=subprocess.PIPE, text=True)
        self.addCleanup(proc.kill)
        lines = []
        reader = threading.Thread(
            target=lambda: lines.extend(
                [proc.stdout.readline(), proc.stdout.readline()]),
            daemon=True)
        reader.start()
        time.sleep(0.3)
        self.hushd.query("www.test")
        self.hushd.query("ads.test")
        self.hushd.query("watched.test")
        self.hushd.query("tracker.test")
        reader.join(5)
        events = [json.loads(l) for l in lines]
        self.assertEqual([e["qname"] for e in events],
                         ["ads.test", "tracker.test"])
        self.assertTrue(all(e["action"] == "block" for e in events))
        proc.kill()
        proc.wait()
        # The tail is gone: hushd goes on, and answers a new request.
        self.hushd.query("ads.test")
        self.ctl("stats", check=0)

    def test_reload_and_update(self):
        self.write_list("ads", ["ads.test", "added.test"])
        r = self.ctl("reload", check=0)
        self.assertIn("configuration reloaded", r.stdout)
        self.assertEqual(self.hushd.query("added.test").answer[0][0]
                         .to_text(), "0.0.0.0")
        with open(self.hushd.conf, "a") as f:
            f.write("frobnicate yes\n")
        r = self.ctl("reload", check=1)
        self.assertRegex(r.stdout, r"reload failed, keeping the running "
                         r"configuration: \S+hushd\.conf:\d+: unknown key")
        r = self.ctl("update", check=0)
        self.assertIn("0 remote lists downloading", r.stdout)
        self.ctl("frobnicate", check=64)

    def test_metrics_scraped_and_parsed(self):
        before, _ = self.scrape()
        self.hushd.query("ads.test")
        self.hushd.query("www.test")
        self.hushd.query("watched.test")
        samples, types = self.scrape()

        def value(name, **labels):
            key = (name, frozenset(labels.items()))
            return samples[key] - before.get(key, 0)

        self.assertEqual(types["hushd_queries_total"], "counter")
        self.assertEqual(types["hushd_upstream_latency_seconds"],
                         "histogram")
        self.assertEqual(value("hushd_queries_total", action="block",
                               group="default"), 1)
        self.assertEqual(value("hushd_queries_total", action="log",
                               group="default"), 1)
        self.assertEqual(value("hushd_queries_total", action="pass",
                               group="default"), 1)
        self.assertEqual(value("hushd_blocked_total", list="ads"), 1)
        self.assertEqual(value("hushd_cache_misses_total"), 2)
        self.assertEqual(samples[("hushd_list_rules",
                                  frozenset({("list", "ads")}))], 2)
        up = self.unbound.address
        self.assertEqual(value("hushd_upstream_latency_seconds_count",
                               upstream=up), 2)
        self.assertEqual(value("hushd_upstream_latency_seconds_bucket",
                               upstream=up, le="+Inf"), 2)
        buckets = sorted((float(dict(k[1])["le"]), v)
                         for k, v in samples.items()
                         if k[0] == "hushd_upstream_latency_seconds_bucket"
                         and dict(k[1])["le"] != "+Inf")
        self.assertEqual([v for _, v in buckets],
                         sorted(v for _, v in buckets), "cumulative")
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen("http://127.0.0.1:%d/other"
                                   % self.metrics_port, timeout=5)
        self.assertEqual(e.exception.code, 404)

    def test_socket_mode_and_garbage(self):
        self.assertEqual(os.stat(self.sock).st_mode & 0o777, 0o660)
        for junk in (b"\n", b"x" * 5000, b"\x00\xff\n"):
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(5)
                s.connect(self.sock)
                s.sendall(junk)
                s.shutdown(socket.SHUT_WR)
                answer = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
                self.assertRegex(answer, rb"^(64|1)\n", junk[:20])
        self.ctl("stats", check=0)


class RateLimit(HushdTestCase):
    def test_burst_refused_then_dropped_other_client_unaffected(self):
        hushd = self.start_hushd(extra=["rate-limit 20 burst 20"])
        counts = {"NOERROR": 0, "REFUSED": 0, "none": 0}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(0.2)
            for i in range(150):
                s.sendto(make_query("www.test").to_wire(),
                         ("127.0.0.1", hushd.port))
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                try:
                    r = dns.message.from_wire(s.recv(4096))
                except socket.timeout:
                    break
                counts[dns.rcode.to_text(r.rcode())] += 1
        answered = counts["NOERROR"] + counts["REFUSED"]
        self.assertGreaterEqual(counts["NOERROR"], 20, counts)
        self.assertLess(counts["NOERROR"], 40, counts)
        self.assertGreater(counts["REFUSED"], 0, counts)
        # Past 4 x 20 a second: silence.
        self.assertLessEqual(answered, 85, counts)
        # Another client is not limited.
        r = dns.query.udp(make_query("www.test"), "127.0.0.1",
                          port=hushd.port, source="127.0.0.2", timeout=3)
        self.assertEqual(r.rcode(), 0)
        self.wait_stderr(hushd, r"client 127\.0\.0\.1 is over rate-limit "
                         r"20/s")
        self.assertEqual(len(re.findall(r"over rate-limit",
                                        hushd.stderr_text())), 1,
                         "logged once a minute, not per query")


class Privileges(HushdTestCase):
    def test_drops_to_user(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        user = pwd.getpwnam("nobody")
        # The test's directory must be readable by the account for reloads.
        os.chmod(self.tmp, 0o755)
        text = self.config(free_port()).replace("user root",
                                                "user nobody")
        port = int(re.search(r"listen 127\.0\.0\.1:(\d+)", text).group(1))
        hushd = self.start_hushd(config_text=text, port=port)
        with open("/proc/%d/status" % hushd.proc.pid) as f:
            status = f.read()
        uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
        gids = re.search(r"^Gid:\s+(.*)$", status, re.M).group(1).split()
        self.assertEqual(set(map(int, uids)), {user.pw_uid})
        self.assertEqual(set(map(int, gids)), {user.pw_gid})
        caps = re.search(r"^CapEff:\s+(\S+)$", status, re.M).group(1)
        self.assertEqual(int(caps, 16), 0)
        self.wait_stderr(hushd, r"running as nobody")
        self.assertEqual(hushd.query("www.test").answer[0][0].to_text(),
                         ZONE_A["www.test"])
        # Reload still works as nobody.
        hushd.signal(signal.SIGHUP)
        self.wait_stderr(hushd, r"configuration reloaded")

    def test_refuses_to_stay_root_unless_told(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        conf = os.path.join(self.tmp, "root.conf")
        with open(conf, "w") as f:
            f.write(self.config(free_port()).replace("user root\n", ""))
        r = subprocess.run([HUSHD, "-f", "-c", conf], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("will not keep running as root", r.stderr)


class EventLog(HushdTestCase):
    def test_unwritable_log_keeps_answering_and_counts(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        hushd = self.start_hushd(events="/dev/full",
                                 extra=["control %s"
                                        % os.path.join(self.tmp, "c")])
        for _ in range(5):
            self.assertEqual(hushd.query("www.test").rcode(), 0)
        self.wait_stderr(hushd, r"event log /dev/full: No space left on "
                         r"device; 1 events dropped so far")
        self.assertEqual(len(re.findall(r"events dropped",
                                        hushd.stderr_text())), 1)
        stats = json.loads(subprocess.run(
            [HUSHCTL, "-s", os.path.join(self.tmp, "c"), "--json", "stats"],
            capture_output=True, text=True, timeout=10).stdout)
        # The five, and the probe answered at start-up.
        self.assertGreaterEqual(stats["events_dropped"], 5)

    def test_rotation_loses_no_line(self):
        hushd = self.start_hushd()
        log = hushd.events_path
        before = len(hushd.events(log))     # the start-up probe's
        stop = threading.Event()
        sent = []

        def ask():
            i = 0
            while not stop.is_set() and i < 3000:
                r = hushd.query("www.test")
                if r.rcode() == 0:
                    sent.append(i)
                i += 1
        worker = threading.Thread(target=ask, daemon=True)
        worker.start()
        rotated = []
        for n in range(3):
            time.sleep(0.3)
            os.rename(log, "%s.%d" % (log, n))
            rotated.append("%s.%d" % (log, n))
            hushd.signal(signal.SIGUSR1)
            wait_for(lambda: os.path.exists(log), 5, "a new event log")
        time.sleep(0.2)
        stop.set()
        worker.join(30)
        time.sleep(0.3)
        lines = 0
        for path in rotated + [log]:
            for line in hushd.events(path):
                lines += 1
        self.assertGreater(len(sent), 50)
        self.assertEqual(lines - before, len(sent))


class Canary(HushdTestCase):
    def test_canary_nxdomain_whatever_the_block_mode(self):
        hushd = self.start_hushd(block_mode="null")
        r = hushd.query("use-application-dns.net")
        self.assertEqual(dns.rcode.to_text(r.rcode()), "NXDOMAIN")
        self.assertEqual(r.answer, [])
        event = [e for e in hushd.events()
                 if e.get("qname") == "use-application-dns.net"][0]
        self.assertEqual((event["action"], event["reason"]),
                         ("block", "canary"))

    def test_canary_switched_off(self):
        fake = FakeUpstream(lambda q: [("main", answer_a(q, "192.0.2.99"))])
        self.addCleanup(fake.close)
        hushd = self.start_hushd(upstreams=[fake.address],
                                 extra=["doh-canary no"])
        r = hushd.query("use-application-dns.net")
        self.assertEqual(r.answer[0][0].to_text(), "192.0.2.99")


class Explain(HushdTestCase):
    needs_unbound = False

    def explain(self, *args):
        return subprocess.run([HUSHD, "-n", "-c", self.conf, "--explain"] +
                              list(args), capture_output=True, text=True,
                              timeout=10)

    def setUp(self):
        super().setUp()
        self.conf = os.path.join(self.tmp, "hushd.conf")
        ads = self.write_list("ads", ["# ads", "ads.test", "*.wild.test",
                                      "@@||ok.ads.test^"])
        watch = self.write_list("watch", ["deep.sub.ads.test"])
        allow = self.write_list("allow", ["fine.ads.test"])
        with open(self.conf, "w") as f:
            f.write("listen 127.0.0.1:5300\nupstream 127.0.0.1\n"
                    "list ads %s\nlist watch %s\nallowlist %s\n"
                    "device tv 10.0.0.5\ngroup tvs {\n clients tv\n"
                    " log ads watch\n}\ngroup default {\n block ads\n}\n"
                    % (ads, watch, allow))

    def test_verdicts_and_exit_status(self):
        r = self.explain("x.sub.ads.test")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stdout, r"block\s+ads\s+ads\.test\s+\S+ads\.txt:2")
        r = self.explain("deep.sub.ads.test", "10.0.0.5")
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn("device tv, group tvs", r.stdout)
        self.assertRegex(r.stdout, r"log\s+ads\s+ads\.test")
        self.assertRegex(r.stdout, r"log\s+watch\s+deep\.sub\.ads\.test\s+"
                         r"\S+watch\.txt:1")
        r = self.explain("deep.sub.ads.test")
        self.assertRegex(r.stdout, r"unused\s+watch\s+deep\.sub\.ads\.test")
        r = self.explain("ok.ads.test")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"exception\s+ads\s+@@ok\.ads\.test\s+"
                         r"\S+ads\.txt:4")
        r = self.explain("fine.ads.test")
        self.assertEqual(r.returncode, 0)
        self.assertIn("on the allowlist", r.stdout)
        r = self.explain("a.wild.test")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"\*\.wild\.test\s+\S+ads\.txt:3")
        self.assertEqual(self.explain("wild.test").returncode, 0)
        self.assertEqual(self.explain("bad..name").returncode, 3)
        self.assertEqual(self.explain("x.test", "not-a-client").returncode,
                         3)
        with open(self.conf, "a") as f:
            f.write("frobnicate yes\n")
        r = self.explain("ads.test")
        self.assertEqual(r.returncode, 3)
        self.assertRegex(r.stderr, r"hushd\.conf:\d+: unknown key")
