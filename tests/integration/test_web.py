"""The web page: its API over HTTP, and the page itself in headless Chromium.

WebApi talks HTTP to hushd's web-listen with http.client: log-in, its rate
limit and cookie, sessions and CSRF on every endpoint, bodies (malformed,
too large), static files (ETag, path traversal), the security headers, and
each action checked by its effect: DNS answers from the real unbound, the
files written, the admin events logged.

WebPage drives the real page in headless Chromium over the DevTools
protocol (a small WebSocket client below, standard library only): log in,
see the devices, pause and resume through the buttons while DNS queries
show the effect, and allowlist a name. Screenshots go to the test's
directory, and also to $HUSHD_WEB_SHOTS when it is set (how doc/web.png is
made). It is skipped when chromium is missing or cannot start.
"""

import base64
import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.parse

import dns.query

from harness import (HERE, HUSHD, ZONE_A, HushdTestCase, a_addresses,
                     free_port, make_query, wait_for)

HUSHCTL = os.path.join(os.path.dirname(os.path.abspath(HUSHD)), "hushctl")
WEB_ROOT = os.path.join(HERE, "..", "..", "web")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "correct horse battery"
BLOCKED = ["0.0.0.0"]		# block-mode null
CSP = "script-src 'self'"

_password_line = None


def password_line():
    """A web-password line made by hushctl passwd (once: PBKDF2 is slow)."""
    global _password_line
    if _password_line is None:
        r = subprocess.run([HUSHCTL, "passwd"], input=PASSWORD + "\n",
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError("hushctl passwd failed: " + r.stderr)
        _password_line = r.stdout.strip()
    return _password_line


class Answer:
    def __init__(self, response, body):
        self.status = response.status
        self.headers = response.headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class WebTestCase(HushdTestCase):
    """hushd with a web page, lists ads (block), watch (log) and mine
    (local, block), an allowlist and three named devices."""

    def setUp(self):
        super().setUp()
        if not os.access(HUSHCTL, os.X_OK):
            self.skipTest("hushctl not built")
        # The page's files are copied beside the configuration, so that a
        # path that escapes web-root would find hushd.conf.
        self.web_root = os.path.join(self.tmp, "web")
        shutil.copytree(WEB_ROOT, self.web_root)
        self.web_port = free_port()
        self.hushd = self.start_hushd(
            lists={"ads": ["ads.test", "tracker.test"],
                   "watch": ["watched.test"],
                   "mine": ["kids.test"]},
            allowlist=[],
            extra=["state-dir state",
                   "device laptop 127.0.0.2",
                   "device living-room-tv 127.0.0.3",
                   "device phone 127.0.0.4",
                   "group default {", " block ads mine", " log watch", "}",
                   "web-listen 127.0.0.1:%d" % self.web_port,
                   "web-root %s" % self.web_root,
                   password_line()])
        self.cookie = None
        self.csrf = None

    # HTTP --------------------------------------------------------------
    def http(self, method, path, body=None, headers=None, session=True,
             source="127.0.0.1"):
        conn = http.client.HTTPConnection("127.0.0.1", self.web_port,
                                          timeout=10,
                                          source_address=(source, 0))
        try:
            h = dict(headers or {})
            if session and self.cookie:
                h["Cookie"] = self.cookie
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
                h.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=h)
            response = conn.getresponse()
            answer = Answer(response, response.read())
        finally:
            conn.close()
        # Every answer of hushd's own carries the security headers.
        self.assertIn(CSP, answer.headers.get("Content-Security-Policy",
                                              ""), (method, path))
        self.assertEqual(answer.headers.get("X-Content-Type-Options"),
                         "nosniff")
        return answer

    def login(self, password=PASSWORD, source="127.0.0.1"):
        return self.http("POST", "/login", "password=" +
                         urllib.parse.quote_plus(password),
                         {"Content-Type":
                          "application/x-www-form-urlencoded"},
                         session=False, source=source)

    def log_in(self):
        answer = self.login()
        self.assertEqual(answer.status, 303, answer.body)
        self.cookie = answer.headers["Set-Cookie"].split(";")[0]
        self.csrf = self.http("GET", "/api/session").json()["csrf"]

    def post(self, path, body, token=True):
        headers = {"X-CSRF-Token": self.csrf} if token else {}
        return self.http("POST", path, body, headers)

    def post_ok(self, path, body):
        answer = self.post(path, body)
        self.assertEqual(answer.status, 200, answer.body)
        return answer.json()

    # DNS ---------------------------------------------------------------
    def resolve(self, name, source="127.0.0.1"):
        r = dns.query.udp(make_query(name), "127.0.0.1",
                          port=self.hushd.port, source=source, timeout=3)
        return a_addresses(r)

    def assert_blocked(self, name):
        self.assertEqual(self.resolve(name), BLOCKED, name)

    def assert_passes(self, name):
        self.assertEqual(self.resolve(name), [ZONE_A[name]], name)

    def admin_events(self, what):
        def found():
            return [e for e in self.hushd.events()
                    if e.get("event") == "admin" and e.get("what") == what]
        return wait_for(found, 5, "an admin event %r" % what)


class WebApi(WebTestCase):
    def test_without_a_session(self):
        reads = ["/api/summary", "/api/devices", "/api/device?name=laptop",
                 "/api/top?kind=names", "/api/lists",
                 "/api/check?name=ads.test", "/api/events", "/api/session"]
        for path in reads:
            answer = self.http("GET", path)
            self.assertEqual(answer.status, 401, path)
            self.assertEqual(answer.json(), {"error": "log in first"})
        for path in ["/api/pause", "/api/resume", "/api/allow", "/api/block",
                     "/api/list-mode", "/api/update"]:
            answer = self.http("POST", path, {"minutes": 15})
            self.assertEqual(answer.status, 401, path)
        answer = self.http("GET", "/")
        self.assertEqual((answer.status, answer.headers["Location"]),
                         (303, "/login"))
        self.assertEqual(self.http("POST", "/logout", "csrf=x").status, 404)
        # A made-up cookie is no session.
        self.cookie = "hushd_session=" + "0" * 32
        self.assertEqual(self.http("GET", "/api/summary").status, 401)
        # The log-in page needs none, and has no script.
        page = self.http("GET", "/login")
        self.assertEqual(page.status, 200)
        self.assertIn(b'name="password"', page.body)
        self.assertNotIn(b"<script", page.body)

    def test_log_in_wrong_passwords_rate_limited(self):
        # From 127.0.0.3, so that 127.0.0.1 can still log in below.
        for attempt in range(5):
            answer = self.login("wrong password", source="127.0.0.3")
            self.assertEqual(answer.status, 401, attempt)
            self.assertNotIn("Set-Cookie", answer.headers)
        self.assertEqual(self.login("wrong password",
                                    source="127.0.0.3").status, 429)
        # The right one too, from there, until the minute is over.
        self.assertEqual(self.login(source="127.0.0.3").status, 429)
        self.assertEqual(len(self.admin_events("login-failed")), 5)

        answer = self.login()
        self.assertEqual((answer.status, answer.headers["Location"]),
                         (303, "/"))
        cookie = answer.headers["Set-Cookie"]
        attributes = [a.strip() for a in cookie.split(";")]
        self.assertRegex(attributes[0], r"^hushd_session=[0-9a-f]{32}$")
        self.assertIn("HttpOnly", attributes)
        self.assertIn("SameSite=Strict", attributes)
        self.assertIn("Path=/", attributes)
        self.cookie = attributes[0]
        page = self.http("GET", "/")
        self.assertEqual(page.status, 200)
        csrf = self.http("GET", "/api/session").json()["csrf"]
        self.assertRegex(csrf, r"^[0-9a-f]{32}$")
        self.assertIn(('<meta name="csrf-token" content="%s">' % csrf)
                      .encode(), page.body)
        self.assertIn(b'<script src="/static/app.js" defer></script>',
                      page.body)
        self.admin_events("login")

        # Logging out ends the session.
        self.assertEqual(self.http("POST", "/logout", "csrf=" + csrf,
                                   {"Content-Type": "application/"
                                    "x-www-form-urlencoded"}).status, 303)
        self.assertEqual(self.http("GET", "/api/summary").status, 401)

    def test_csrf_bodies_and_unknown_paths(self):
        self.log_in()
        for headers in ({}, {"X-CSRF-Token": "0" * 32},
                        {"X-CSRF-Token": self.csrf[:-1]}):
            answer = self.http("POST", "/api/pause", {"minutes": 15},
                               headers)
            self.assertEqual(answer.status, 403, headers)
        self.assert_blocked("ads.test")
        self.assertEqual(self.post("/api/pause", "{not json").status, 400)
        self.assertEqual(self.post("/api/pause", "[15]").status, 400)
        self.assertEqual(self.post("/api/pause", {"minutes": 0}).status, 400)
        self.assertEqual(self.post("/api/pause", {"minutes": "15"}).status,
                         400)
        self.assertEqual(self.post("/api/allow", {"name": "bad..name"})
                         .status, 400)
        self.assertEqual(self.post("/api/check", {}).status, 404)
        self.assertEqual(self.post("/api/nothing", {}).status, 404)
        self.assertEqual(self.http("GET", "/api/nothing").status, 404)
        self.assertEqual(self.http("GET", "/nothing").status, 404)
        self.assertEqual(self.http("GET", "/api/top?kind=bogus").status, 400)
        self.assertEqual(self.http("GET", "/api/device").status, 400)

        # libevent refuses a body beyond the limit itself (its own page,
        # which carries no script), so this one is read with a bare socket.
        with socket.create_connection(("127.0.0.1", self.web_port),
                                      timeout=10) as s:
            body = b"{" + b" " * (100 * 1024) + b"}"
            s.sendall(b"POST /api/pause HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n"
                      b"X-CSRF-Token: %s\r\nContent-Type: application/json"
                      b"\r\nContent-Length: %d\r\n\r\n"
                      % (self.cookie.encode(), self.csrf.encode(),
                         len(body)))
            try:
                s.sendall(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
            reply = s.recv(200)
        self.assertTrue(reply.startswith(b"HTTP/1.1 413"), reply)
        self.assert_blocked("ads.test")

    def test_static_files(self):
        js = self.http("GET", "/static/app.js", session=False)
        self.assertEqual(js.status, 200)
        self.assertTrue(js.headers["Content-Type"].startswith(
            "text/javascript"))
        with open(os.path.join(WEB_ROOT, "app.js"), "rb") as f:
            self.assertEqual(js.body, f.read())
        etag = js.headers["ETag"]
        again = self.http("GET", "/static/app.js",
                          headers={"If-None-Match": etag})
        self.assertEqual((again.status, again.body), (304, b""))
        other = self.http("GET", "/static/app.js",
                          headers={"If-None-Match": '"other"'})
        self.assertEqual(other.status, 200)
        css = self.http("GET", "/static/app.css")
        self.assertTrue(css.headers["Content-Type"].startswith("text/css"))
        self.assertEqual(self.http("GET", "/static/favicon.svg").status, 200)

        # A link in web-root to a file outside it is not followed either.
        os.symlink(self.hushd.conf, os.path.join(self.web_root, "conf.css"))
        for path in ["/static/../hushd.conf", "/static/..%2fhushd.conf",
                     "/static/%2e%2e/hushd.conf", "/static/%2e%2e/x",
                     "/static/app.js/../../hushd.conf",
                     "/static/app.js/../../x", "/static//etc/passwd",
                     "/static/%2fetc%2fpasswd", "/static/.app.js",
                     "/static/APP.JS", "/static/app.txt", "/static/",
                     "/static/conf.css", "/static/web/app.js"]:
            answer = self.http("GET", path)
            self.assertEqual(answer.status, 404, path)
            self.assertNotIn(b"upstream", answer.body, path)
        self.assertEqual(self.http("POST", "/static/app.js").status, 405)

    def test_reads(self):
        self.log_in()
        self.resolve("ads.test", source="127.0.0.2")
        self.resolve("watched.test", source="127.0.0.2")
        self.resolve("www.test", source="127.0.0.2")
        self.resolve("www.test", source="127.0.0.3")

        summary = self.http("GET", "/api/summary").json()
        self.assertEqual(len(summary["hours"]), 24)
        now_hour = summary["hours"][-1]
        self.assertLessEqual(now_hour["start"], summary["now"])
        self.assertGreater(now_hour["start"] + 3600, summary["now"])
        # The current hour counts up to now (probes included).
        self.assertGreaterEqual(now_hour["blocked"], 1)
        self.assertGreaterEqual(now_hour["logged"], 1)
        self.assertGreaterEqual(summary["queries"], 4)
        self.assertEqual(summary["groups"], ["default"])
        self.assertEqual(summary["paused"], {"all_until": 0, "groups": {}})

        devices = {d["device"]: d for d in
                   self.http("GET", "/api/devices").json()}
        laptop = devices["laptop"]
        self.assertEqual((laptop["count"], laptop["passed"], laptop["logged"],
                          laptop["blocked"]), (3, 1, 1, 1))
        self.assertEqual(laptop["group"], "default")
        self.assertLess(laptop["last_seen_s"], 60)
        self.assertEqual(devices["living-room-tv"]["count"], 1)

        recent = self.http("GET", "/api/device?name=laptop").json()
        self.assertEqual([(d["name"], d["action"]) for d in recent],
                         [("www.test", "pass"), ("watched.test", "log"),
                          ("ads.test", "block")])
        self.assertEqual(self.http("GET", "/api/device?name=nobody").json(),
                         [])

        top = self.http("GET", "/api/top?kind=names&filter=blocked&n=5")
        self.assertEqual(top.json()[0]["name"], "ads.test")
        self.assertEqual(top.headers["Cache-Control"], "no-store")

        lists = self.http("GET", "/api/lists").json()
        by_name = {l["name"]: l for l in lists["lists"]}
        self.assertEqual(by_name["ads"]["groups"], {"default": "block"})
        self.assertEqual(by_name["watch"]["groups"], {"default": "log"})
        self.assertEqual(by_name["ads"]["rules"], 2)
        self.assertTrue(lists["allowlist"].endswith("allowlist.txt"))

        check = self.http("GET", "/api/check?name=sub.ads.test&"
                          "client=127.0.0.2").json()
        self.assertEqual((check["action"], check["reason"], check["list"],
                          check["rule"], check["group"], check["device"]),
                         ("block", "list", "ads", "ads.test", "default",
                          "laptop"))
        (rule,) = check["rules"]
        self.assertEqual((rule["list"], rule["role"], rule["rule"],
                          rule["line"]), ("ads", "block", "ads.test", 1))
        self.assertTrue(rule["file"].endswith("lists/ads.txt"))
        self.assertEqual(self.http("GET", "/api/check?name=www.test").json()
                         ["action"], "pass")
        self.assertEqual(self.http("GET", "/api/check?name=x&client=zz")
                         .status, 400)

    def test_pause_and_resume(self):
        self.log_in()
        self.assert_blocked("ads.test")
        before = self.forwarded("ads.test")
        self.assertEqual(self.post_ok("/api/pause", {"minutes": 15}),
                         {"done": "paused"})
        self.assert_passes("ads.test")	# unbound's own answer
        self.assertEqual(self.forwarded("ads.test"), before + 1)
        (event,) = self.admin_events("pause")
        self.assertEqual((event["client"], event["detail"]),
                         ("127.0.0.1", "15 minutes for all"))
        until = self.http("GET", "/api/summary").json()["paused"]["all_until"]
        self.assertAlmostEqual(until, time.time() + 15 * 60, delta=10)

        self.assertEqual(self.post_ok("/api/resume", {}),
                         {"done": "resumed"})
        self.assert_blocked("ads.test")
        self.admin_events("resume")

        # A group's pause.
        self.post_ok("/api/pause", {"minutes": 60, "group": "default"})
        self.assert_passes("tracker.test")
        groups = self.http("GET", "/api/summary").json()["paused"]["groups"]
        self.assertEqual(list(groups), ["default"])
        self.post_ok("/api/resume", {})
        self.assert_blocked("tracker.test")

    def test_allow(self):
        self.log_in()
        path = os.path.join(self.tmp, "lists", "allowlist.txt")
        inode = os.stat(path).st_ino
        self.assert_blocked("ads.test")
        self.assertEqual(self.post_ok("/api/allow", {"name": "ADS.test."}),
                         {"done": "allowed"})
        with open(path) as f:
            self.assertEqual(f.read(), "ads.test\n")
        # Written beside and renamed over: a new file, no temporary left.
        self.assertNotEqual(os.stat(path).st_ino, inode)
        self.assertEqual(sorted(os.listdir(os.path.dirname(path))),
                         ["ads.txt", "allowlist.txt", "mine.txt",
                          "watch.txt"])
        self.assert_passes("ads.test")
        (event,) = self.admin_events("allow")
        self.assertEqual(event["detail"], "ads.test")
        # Twice is once.
        self.post_ok("/api/allow", {"name": "ads.test"})
        with open(path) as f:
            self.assertEqual(f.read(), "ads.test\n")

    def test_block(self):
        self.log_in()
        path = os.path.join(self.tmp, "lists", "mine.txt")
        self.assert_passes("plain.test")
        self.assertEqual(self.post_ok("/api/block", {"name": "plain.test",
                                                     "list": "mine"}),
                         {"done": "added"})
        with open(path) as f:
            self.assertEqual(f.read(), "kids.test\nplain.test\n")
        self.assert_blocked("plain.test")
        self.assert_blocked("sub.plain.test")
        (event,) = self.admin_events("block")
        self.assertEqual(event["detail"], "plain.test to mine")
        self.assertEqual(self.post("/api/block", {"name": "x.test",
                                                  "list": "nosuch"}).status,
                         409)
        self.assertEqual(self.post("/api/block", {"list": "mine"}).status,
                         400)

    def test_list_mode(self):
        self.log_in()
        self.assert_blocked("ads.test")
        self.assertEqual(self.post_ok("/api/list-mode", {
            "group": "default", "list": "ads", "mode": "log"}),
            {"done": "switched"})
        self.assert_passes("ads.test")
        with open(os.path.join(self.tmp, "state", "overrides")) as f:
            lines = [l for l in f.read().splitlines()
                     if not l.startswith("#")]
        self.assertEqual(lines, ["default ads log"])
        lists = self.http("GET", "/api/lists").json()["lists"]
        self.assertEqual(lists[0]["groups"], {"default": "log"})
        (event,) = self.admin_events("list-mode")
        self.assertEqual(event["detail"], "ads log for default")
        dns_events = wait_for(lambda: [
            e for e in self.hushd.events() if e.get("qname") == "ads.test"
            and e.get("action") == "log"], 5, "ads.test logged")
        self.assertEqual(dns_events[-1]["list"], "ads")

        # Back to blocking: the line is replaced, not added.
        self.post_ok("/api/list-mode", {"group": "default", "list": "ads",
                                        "mode": "block"})
        self.assert_blocked("ads.test")
        with open(os.path.join(self.tmp, "state", "overrides")) as f:
            self.assertEqual([l for l in f.read().splitlines()
                              if not l.startswith("#")],
                             ["default ads block"])
        for bad in ({"group": "nobody", "list": "ads", "mode": "log"},
                    {"group": "default", "list": "ads", "mode": "off"},
                    {"group": "default", "list": "nosuch", "mode": "log"}):
            self.assertEqual(self.post("/api/list-mode", bad).status, 400)

    def test_update_without_remote_lists(self):
        self.log_in()
        self.assertEqual(self.post_ok("/api/update", {}),
                         {"done": "downloading", "lists": 0})
        self.admin_events("update")

    def test_live_events(self):
        self.log_in()
        with socket.create_connection(("127.0.0.1", self.web_port),
                                      timeout=5) as s:
            s.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\nCookie: %s"
                      b"\r\nAccept: text/event-stream\r\n\r\n"
                      % self.cookie.encode())
            received = b""
            while b"retry: 5000\n\n" not in received:
                chunk = s.recv(4096)
                self.assertTrue(chunk, "the stream ended: %r" % received)
                received += chunk
            head = received.split(b"\r\n\r\n", 1)[0].decode()
            self.assertIn("200 OK", head.splitlines()[0])
            self.assertIn("Content-Type: text/event-stream", head)
            self.assertIn(CSP, head)
            # A query made after connecting arrives as one data: line.
            self.resolve("watched.test", source="127.0.0.2")
            deadline = time.monotonic() + 5
            event = None
            while event is None:
                self.assertLess(time.monotonic(), deadline, received)
                chunk = s.recv(4096)
                self.assertTrue(chunk, "the stream ended: %r" % received)
                received += chunk
                for line in received.decode("utf-8", "replace").split("\n"):
                    if line.startswith("data: {") and "watched.test" in line:
                        event = json.loads(line[6:])
            self.assertEqual((event["event"], event["device"],
                              event["action"], event["list"]),
                             ("dns", "laptop", "log", "watch"))

    def test_many_live_streams_each_get_every_event(self):
        """More streams than the event log has taps: one tap serves all."""
        self.log_in()
        streams = []
        for _ in range(24):
            s = socket.create_connection(("127.0.0.1", self.web_port),
                                         timeout=5)
            self.addCleanup(s.close)
            s.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\nCookie: %s"
                      b"\r\n\r\n" % self.cookie.encode())
            streams.append([s, b""])
        for entry in streams:
            while b"retry: 5000" not in entry[1]:
                chunk = entry[0].recv(4096)
                self.assertTrue(chunk, entry[1])
                entry[1] += chunk
            self.assertIn(b"200 OK", entry[1].split(b"\r\n", 1)[0])
        self.resolve("watched.test", source="127.0.0.2")
        for entry in streams:
            deadline = time.monotonic() + 5
            while b"watched.test" not in entry[1]:
                self.assertLess(time.monotonic(), deadline, entry[1])
                chunk = entry[0].recv(4096)
                self.assertTrue(chunk, entry[1])
                entry[1] += chunk
            lines = [l for l in entry[1].split(b"\n")
                     if l.startswith(b"data: ") and b"watched.test" in l]
            self.assertEqual(len(lines), 1, entry[1])


# ------------------------------------------------------ Chrome DevTools
class DevTools:
    """A minimal client of the Chrome DevTools protocol over a WebSocket
    (RFC 6455: masked text frames out, unmasked frames in)."""

    def __init__(self, url, timeout=20):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port),
                                             timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n"
                           % (u.path, u.hostname, u.port, key)).encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            byte = self.sock.recv(1)
            if not byte:
                raise AssertionError("DevTools closed: %r" % head)
            head += byte
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise AssertionError("no WebSocket: %r" % head)
        self.next_id = 0

    def close(self):
        self.sock.close()

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise AssertionError("DevTools closed the WebSocket")
            data += chunk
        return data

    def _send(self, text):
        payload = text.encode()
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def _receive(self):
        message = b""
        while True:
            first, second = self._read(2)
            n = second & 0x7f
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(n)
            opcode = first & 0x0f
            if opcode == 8:
                raise AssertionError("DevTools closed the WebSocket")
            if opcode in (0, 1, 2):
                message += payload
                if first & 0x80:
                    return json.loads(message)

    def call(self, method, **params):
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method,
                               "params": params}))
        while True:
            message = self._receive()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError("%s: %s" % (method,
                                                     message["error"]))
                return message.get("result", {})

    def evaluate(self, expression):
        """The value of a JavaScript expression (awaited if a promise)."""
        result = self.call("Runtime.evaluate", expression=expression,
                           awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError("%s: %s" % (expression,
                                             result["exceptionDetails"]))
        return result["result"].get("value")


class Chromium:
    """chromium --headless with a DevTools port, in a profile of its own."""

    def __init__(self, workdir):
        self.profile = os.path.join(workdir, "chromium-profile")
        os.makedirs(self.profile)
        self.stderr = open(os.path.join(workdir, "chromium.stderr"), "wb")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking",
             "--remote-debugging-address=127.0.0.1",
             "--remote-debugging-port=0", "--user-data-dir=" + self.profile,
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.stderr, env=dict(os.environ, HOME=workdir))

    def devtools(self, timeout=30):
        """A DevTools connection to the page, or None if it never came."""
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with open(port_file) as f:
                    port = int(f.readline())
                conn = http.client.HTTPConnection("127.0.0.1", port,
                                                  timeout=5)
                conn.request("GET", "/json/list")
                targets = json.loads(conn.getresponse().read())
                conn.close()
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return DevTools(pages[0]["webSocketDebuggerUrl"])
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


class WebPage(WebTestCase):
    def setUp(self):
        super().setUp()
        if CHROMIUM is None:
            self.skipTest("chromium is not installed (Debian: apt install "
                          "chromium)")
        self.browser = Chromium(self.tmp)
        self.addCleanup(self.browser.stop)
        self.page = self.browser.devtools()
        if self.page is None:
            self.skipTest("chromium did not start with a DevTools port")
        self.addCleanup(self.page.close)
        self.page.call("Page.enable")
        self.page.call("Runtime.enable")
        self.shots = []

    def go(self, path):
        self.page.call("Page.navigate",
                       url="http://127.0.0.1:%d%s" % (self.web_port, path))

    def js(self, expression):
        return self.page.evaluate(expression)

    def wait_js(self, expression, what, timeout=10):
        return wait_for(lambda: self.js(expression), timeout,
                        lambda: "%s (%s); page text:\n%s" % (
                            what, expression,
                            self.js("document.body ? document.body."
                                    "innerText : ''")[-1500:]))

    def click(self, selector):
        self.wait_js("!!document.querySelector(%s)" % json.dumps(selector),
                     selector + " on the page")
        self.js("document.querySelector(%s).click()" % json.dumps(selector))

    def screenshot(self, name, width=1200, height=1500, mobile=False):
        self.page.call("Emulation.setDeviceMetricsOverride", width=width,
                       height=height, deviceScaleFactor=1, mobile=mobile)
        time.sleep(0.3)	# a frame at the new size
        png = base64.b64decode(self.page.call(
            "Page.captureScreenshot", format="png",
            captureBeyondViewport=False)["data"])
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        paths = [os.path.join(self.tmp, name)]
        if os.environ.get("HUSHD_WEB_SHOTS"):
            os.makedirs(os.environ["HUSHD_WEB_SHOTS"], exist_ok=True)
            paths.append(os.path.join(os.environ["HUSHD_WEB_SHOTS"], name))
        for path in paths:
            with open(path, "wb") as f:
                f.write(png)
        self.shots.append(paths[0])

    def test_page_end_to_end(self):
        # Three devices look things up, so the overview has something.
        for name in ("www.test", "ads.test", "ads.test", "tracker.test",
                     "watched.test"):
            self.resolve(name, source="127.0.0.3")
        for name in ("www.test", "plain.test", "ads.test", "watched.test"):
            self.resolve(name, source="127.0.0.2")
        self.resolve("www.test", source="127.0.0.4")

        # Log in through the form, as a person would.
        self.go("/")
        self.wait_js("location.pathname === '/login' && "
                     "!!document.querySelector('input[name=password]')",
                     "the log-in page")
        self.js("document.querySelector('input[name=password]').value = %s;"
                "document.querySelector('form').submit()"
                % json.dumps(PASSWORD))
        self.wait_js("document.body && document.body.dataset.ready === "
                     "'yes'", "the overview, enhanced by app.js")

        # The devices, most blocked first, and the chart.
        devices = self.js("Array.from(document.querySelectorAll("
                          "'#device-table .device-link'), a => "
                          "a.textContent)")
        self.assertEqual(devices[:2], ["living-room-tv", "laptop"])
        self.assertIn("phone", devices)
        self.assertGreaterEqual(self.js("document.querySelectorAll("
                                        "'#chart svg rect.bar').length"), 1)
        self.assertEqual(self.js("document.getElementById('list-table')"
                                 ".tBodies[0].rows.length"), 3)
        self.screenshot("overview.png")
        self.screenshot("overview-phone.png", width=390, height=1600,
                        mobile=True)
        self.page.call("Emulation.clearDeviceMetricsOverride")

        # A device's page shows its live events as they happen.
        self.click("a.device-link[data-device='laptop']")
        self.wait_js("document.getElementById('detail-title') && "
                     "document.getElementById('detail-title').textContent"
                     " === 'laptop' && document.querySelectorAll("
                     "'#recent tbody tr').length === 4",
                     "laptop's recent decisions")
        self.resolve("watched.test", source="127.0.0.3")
        self.resolve("kids.test", source="127.0.0.2")
        self.wait_js("Array.from(document.querySelectorAll('#live-list "
                     ".name'), e => e.textContent).includes('kids.test')",
                     "kids.test among laptop's live events")
        self.assertFalse(self.js(
            "Array.from(document.querySelectorAll('#live-list .who'), "
            "e => e.textContent).some(w => w !== 'laptop')"))
        self.screenshot("device.png")
        self.page.call("Emulation.clearDeviceMetricsOverride")

        # "Why?" for a name, explained with its rule and file:line.
        self.js("document.getElementById('why-name').value = 'sub.ads.test'")
        self.click("#why-form button[type=submit]")
        self.wait_js("!!document.querySelector('#why-result .rules .file')",
                     "the explanation")
        self.assertRegex(self.js("document.querySelector('#why-result "
                                 ".rules .file').textContent"),
                         r"lists/ads\.txt:1$")
        self.assertEqual(self.js("document.querySelector('#why-result "
                                 ".badge').textContent"), "Blocked")

        # Pause through the button: a blocked name passes; resume.
        self.assert_blocked("ads.test")
        self.click("#pause-15")
        self.wait_js("document.getElementById('pause-status').textContent"
                     ".includes('paused for everyone')", "the pause")
        self.assert_passes("ads.test")
        self.click("#resume")
        self.wait_js("document.getElementById('pause-status').textContent"
                     " === 'Blocking is on.'", "blocking back on")
        self.assert_blocked("ads.test")

        # Allowlist a name through the form.
        self.js("document.getElementById('allow-name').value = 'ads.test'")
        self.click("#allow-submit")
        self.wait_js("document.getElementById('notice').textContent === "
                     "'ads.test is now always let through.'",
                     "the allowlist's answer")
        self.assert_passes("ads.test")
        with open(os.path.join(self.tmp, "lists", "allowlist.txt")) as f:
            self.assertEqual(f.read(), "ads.test\n")
        self.assertEqual([e["what"] for e in self.hushd.events()
                          if e.get("event") == "admin"],
                         ["login", "pause", "resume", "allow"])
        self.assertEqual(len(self.shots), 3)
