"""Remote lists: downloaded over HTTPS from a server the test starts on
loopback with a certificate it makes; the last good copy kept in
state-dir across failures and restarts; conditional requests; every kind
of bad download refused with its reason."""

import http.server
import os
import shutil
import socket
import ssl
import tempfile
import threading
import time
import unittest

from harness import (OPENSSL, HushdTestCase, free_port, make_certificates,
                     wait_for)

GOOD_LIST = ("# a list in Pi-hole/hosts/AdGuard syntax\n"
             "0.0.0.0 ads.test\n"
             "||tracker.test^\n"
             "@@||ok.tracker.test^\n"
             "this line is no rule\n")


class ListServer:
    """An HTTPS server whose paths each misbehave in one way."""

    def __init__(self, certfile, keyfile):
        self.requests = []          # (path, headers) of every request
        self.lock = threading.Lock()
        self.etag = '"v1"'
        self.body = GOOD_LIST
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send_body(self, code, body, length=None, extra=()):
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length",
                                 str(len(data) if length is None
                                     else length))
                for k, v in extra:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

            def do_GET(self):
                with server.lock:
                    server.requests.append((self.path, dict(self.headers)))
                path = self.path
                if path == "/good.txt":
                    if self.headers.get("If-None-Match") == server.etag:
                        self.send_response(304)
                        self.send_header("ETag", server.etag)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_body(200, server.body,
                                   extra=[("ETag", server.etag)])
                elif path == "/moved":
                    self.send_response(302)
                    self.send_header("Location", "/good.txt")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif path == "/truncated.txt":
                    self.send_body(200, "kept.test\n" * 10, length=5000)
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif path == "/big.txt":
                    self.send_body(200, "".join("n%d.test\n" % i
                                                for i in range(2000)))
                elif path == "/page.html":
                    self.send_body(200, "<html>\n<head><title>Login"
                                   "</title></head>\n<body>\n<p>Sign in"
                                   "</p>\n</body>\n</html>\n")
                elif path == "/slow.txt":
                    time.sleep(3)
                    self.send_body(200, "late.test\n")
                else:
                    self.send_body(404, "not found\n")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        # Clients that hang up (as hushd does on a bad download) are normal.
        self.httpd.handle_error = lambda request, address: None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        self.httpd.socket = context.wrap_socket(self.httpd.socket,
                                                server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def requests_for(self, path):
        with self.lock:
            return [h for p, h in self.requests if p == path]


@unittest.skipIf(OPENSSL is None, "openssl is not installed")
class RemoteLists(HushdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.certs = tempfile.mkdtemp(prefix="hushd-remote-")
        cls.addClassCleanup(shutil.rmtree, cls.certs, True)
        make_certificates(cls.certs, names=("IP:127.0.0.1",))
        # A second CA and a certificate from it: valid, but not trusted.
        make_certificates(cls.certs, names=("IP:127.0.0.1",),
                          ca_name="other-ca", server_name="other")

    def setUp(self):
        super().setUp()
        self.server = ListServer(os.path.join(self.certs, "server.pem"),
                                 os.path.join(self.certs, "server.key"))
        self.addCleanup(self.server.stop)
        self.state = os.path.join(self.tmp, "state")
        self.port = free_port()

    def url(self, path, port=None):
        return "https://127.0.0.1:%d%s" % (port or self.server.port, path)

    def remote(self, name, path, options="", port=None):
        return "list %s %s ca %s %s" % (
            name, self.url(path, port), os.path.join(self.certs, "ca.pem"),
            options)

    def start(self, lines):
        text = self.config(self.port, extra=["state-dir %s" % self.state] +
                           lines)
        return self.start_hushd(config_text=text, port=self.port)

    def blocked(self, hushd, name):
        r = hushd.query(name, "A")
        return [rd.to_text() for rrset in r.answer for rd in rrset] == [
            "0.0.0.0"]

    def seed(self, name, text):
        """A last good copy, as an earlier run would have left it."""
        os.makedirs(os.path.join(self.state, "lists"), exist_ok=True)
        with open(os.path.join(self.state, "lists", name), "w") as f:
            f.write(text)

    def test_downloaded_loaded_and_kept_across_restarts(self):
        hushd = self.start([self.remote("r", "/good.txt")])
        self.wait_stderr(hushd, r"list r: downloaded \d+ bytes .*: 3 rules, "
                         r"1 lines skipped")
        wait_for(lambda: self.blocked(hushd, "ads.test"), 5,
                 "ads.test blocked after the download")
        self.assertTrue(self.blocked(hushd, "sub.ads.test"))
        self.assertTrue(self.blocked(hushd, "tracker.test"))
        self.assertFalse(self.blocked(hushd, "ok.tracker.test"))
        self.assertFalse(self.blocked(hushd, "www.test"))
        headers = self.server.requests_for("/good.txt")[0]
        self.assertTrue(headers.get("User-Agent", "").startswith("hushd/"))
        self.assertNotIn("If-None-Match", headers)
        hushd.stop_and_check()
        # A copy confirmed within its refresh is not downloaded at start.
        hushd = self.start([self.remote("r", "/good.txt")])
        self.assertTrue(self.blocked(hushd, "ads.test"))
        time.sleep(0.5)
        self.assertEqual(len(self.server.requests_for("/good.txt")), 1)
        hushd.stop_and_check()
        # Nor is it lost when the server is gone.
        self.server.stop()
        hushd = self.start([self.remote("r", "/good.txt", "refresh 1s")])
        self.assertTrue(self.blocked(hushd, "ads.test"))
        self.wait_stderr(hushd, r"list r: download .* failed, keeping the "
                         r"last good copy")
        self.assertTrue(self.blocked(hushd, "ads.test"))

    def test_conditional_request_answered_not_modified(self):
        hushd = self.start([self.remote("r", "/good.txt", "refresh 1s")])
        self.wait_stderr(hushd, r"list r: downloaded")
        mark = len(hushd.stderr_text())
        self.wait_stderr(hushd, r"list r: not modified", mark)
        second = self.server.requests_for("/good.txt")[1]
        self.assertEqual(second.get("If-None-Match"), '"v1"')
        self.assertTrue(self.blocked(hushd, "ads.test"))
        # A changed list is picked up on the next refresh.
        self.server.etag = '"v2"'
        self.server.body = "watched.test\n"
        wait_for(lambda: self.blocked(hushd, "watched.test"), 8,
                 "watched.test blocked after the list changed")
        self.assertFalse(self.blocked(hushd, "ads.test"))

    def test_redirect_followed(self):
        hushd = self.start([self.remote("r", "/moved")])
        self.wait_stderr(hushd, r"list r: redirected to .*/good\.txt")
        wait_for(lambda: self.blocked(hushd, "ads.test"), 5,
                 "ads.test blocked after a redirected download")

    def test_bad_downloads_keep_the_last_good_copy(self):
        cases = {
            "missing": ("/missing.txt", "", r"HTTP 404"),
            "truncated": ("/truncated.txt", "", r"truncated"),
            "big": ("/big.txt", "max-size 1k", r"larger than max-size"),
            "page": ("/page.html", "", r"not rules|no rule"),
            "slow": ("/slow.txt", "timeout 1s",
                     r"not done within 1s|no data within the timeout"),
        }
        lines = []
        for i, (name, (path, options, _)) in enumerate(cases.items()):
            self.seed(name, "kids.test\n" if name == "slow" else
                      "%s.test\n" % ["added", "removed", "before", "after",
                                     "kids"][i])
            lines.append(self.remote(name, path, options))
        hushd = self.start(lines)
        for name, (path, _, why) in cases.items():
            self.wait_stderr(hushd, r"list %s: download of \S+%s failed, "
                             r"keeping the last good copy: .*(%s)"
                             % (name, path.replace(".", r"\."), why),
                             timeout=8)
        for name in ("added.test", "removed.test", "before.test",
                     "after.test", "kids.test"):
            self.assertTrue(self.blocked(hushd, name), name)
        self.assertFalse(self.blocked(hushd, "kept.test"))
        self.assertFalse(self.blocked(hushd, "late.test"))
        self.assertTrue(hushd.running())

    def test_untrusted_certificate_refused(self):
        other = ListServer(os.path.join(self.certs, "other.pem"),
                           os.path.join(self.certs, "other.key"))
        self.addCleanup(other.stop)
        hushd = self.start([self.remote("r", "/good.txt", port=other.port)])
        self.wait_stderr(hushd, r"list r: download .* failed, keeping the "
                         r"last good copy: certificate refused")
        self.assertEqual(other.requests_for("/good.txt"), [])
        self.assertFalse(self.blocked(hushd, "ads.test"))

    def test_wrong_host_name_refused(self):
        hushd = self.start(["list r https://localhost:%d/good.txt ca %s"
                            % (self.server.port,
                               os.path.join(self.certs, "ca.pem"))])
        self.wait_stderr(hushd, r"list r: download .* failed, keeping the "
                         r"last good copy: (certificate refused|.*"
                         r"resolve|.*connect)")
        self.assertEqual(self.server.requests_for("/good.txt"), [])

    def test_no_copy_yet_is_a_warning_not_an_error(self):
        port = free_port()      # nothing listens there
        text = self.config(self.port, extra=[
            "state-dir %s" % self.state,
            self.remote("r", "/good.txt", port=port)])
        hushd = self.start_hushd(config_text=text, port=self.port)
        self.wait_stderr(hushd, r"list r: no copy of \S+ downloaded yet")
        self.wait_stderr(hushd, r"list r: download .* failed")
        self.assertFalse(self.blocked(hushd, "ads.test"))


class RemoteListConfig(HushdTestCase):
    needs_unbound = False

    def check(self, line):
        path = os.path.join(self.tmp, "c.conf")
        with open(path, "w") as f:
            f.write("listen 127.0.0.1:5300\nupstream 127.0.0.1\n%s\n" % line)
        import subprocess
        from harness import HUSHD
        return subprocess.run([HUSHD, "-n", "-c", path], capture_output=True,
                              text=True, timeout=10)

    def test_options_checked(self):
        bad = {
            "list r http://example.org/x": "only https://",
            "list r https:///x": "not an https://HOST/PATH",
            "list r https://e.org/x refresh": "needs a value",
            "list r https://e.org/x refresh 0s": "at least 1s",
            "list r https://e.org/x max-size 2G": "between 1 and",
            "list r https://e.org/x max-size lots": "bad size",
            "list r https://e.org/x colour blue": "unknown option",
            "list r local.txt refresh 1h": "remote lists only",
            "list .. https://e.org/x": "may not start with",
        }
        for line, why in bad.items():
            r = self.check(line)
            self.assertEqual(r.returncode, 1, line)
            self.assertRegex(r.stderr, r"c\.conf:3: .*%s" % why, line)
        r = self.check("state-dir %s\nlist r https://e.org/x refresh 12h "
                       "timeout 30s max-size 8M" % self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no copy of https://e.org/x downloaded yet", r.stderr)
