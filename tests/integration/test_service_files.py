"""The files that run hushd as a service: systemd, OpenWrt, logrotate.

They are checked against each other and against what make install writes
(paths, the account, the directories, the control socket), with the tools
that read them where those are installed (systemd-analyze, systemd-sysusers,
systemd-tmpfiles, logrotate), and against hushd itself: it must start, twice,
within the unit's capability bounding set, and follow a real log rotation.
"""

import grp
import os
import pwd
import re
import shutil
import stat
import subprocess

from harness import HUSHD, Hushd, HushdTestCase, free_port, make_query, \
    udp_exchange, wait_for

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(
    __file__)), "..", ".."))
UNIT_IN = os.path.join(TOP, "conf", "hushd.service.in")
SYSUSERS = os.path.join(TOP, "conf", "sysusers.d", "hushd.conf")
TMPFILES = os.path.join(TOP, "conf", "tmpfiles.d", "hushd.conf")
LOGROTATE = os.path.join(TOP, "conf", "logrotate.d", "hushd")
OPENWRT = os.path.join(TOP, "conf", "openwrt", "hushd.init")
SHIPPED_CONF = os.path.join(TOP, "conf", "hushd.conf")
MAKEFILE_AM = os.path.join(TOP, "Makefile.am")
HUSHCTL_C = os.path.join(TOP, "src", "hushctl.c")


def read(path):
    with open(path) as f:
        return f.read()


def unit_settings(text):
    """Key to list of values of a unit file (continuation lines joined)."""
    settings = {}
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line[0] in "#;[":
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def tool(name):
    return shutil.which(name) or next(
        (p for p in ("/usr/sbin/" + name, "/sbin/" + name)
         if os.access(p, os.X_OK)), None)


def run(args, **kwargs):
    return subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=30, **kwargs)


class ServiceFiles(HushdTestCase):
    needs_unbound = False

    def setUp(self):
        super().setUp()
        self.unit = unit_settings(read(UNIT_IN))

    def render_unit(self, sbindir, sysconfdir):
        """The unit as the Makefile rule makes it, with these paths."""
        rule = re.search(r"^conf/hushd\.service:.*\n((?:\t.*\n)+)",
                         read(MAKEFILE_AM), re.M)
        self.assertIsNotNone(rule, "Makefile.am: no rule for hushd.service")
        edits = re.findall(r"-e '(s\|[^']*)'", rule.group(1))
        self.assertEqual(len(edits), 2, rule.group(1))
        text = read(UNIT_IN)
        values = {"$(sbindir)": sbindir, "$(sysconfdir)": sysconfdir}
        for edit in edits:
            _, pattern, replacement, flags = edit.split("|")
            self.assertEqual(flags, "g", edit)
            text = text.replace(pattern.replace("[@]", "@"),
                                values[replacement])
        self.assertNotIn("@", re.sub(r"(?m)^#.*$", "", text))
        return text

    # ---------------------------------------------------------- paths
    def test_unit_runs_the_installed_configuration(self):
        """ExecStart names hushd and hushd.conf where make install puts them."""
        makefile = read(MAKEFILE_AM)
        self.assertRegex(makefile, r"(?m)^sbin_PROGRAMS = .*\bsrc/hushd\b")
        self.assertRegex(makefile,
                         r"(?m)^hushdconfdir = \$\(sysconfdir\)/hushd$")
        self.assertRegex(makefile, r"> '\$\(DESTDIR\)\$\(hushdconfdir\)/"
                         r"hushd\.conf'")
        self.assertEqual(self.unit["ExecStart"],
                         ["@sbindir@/hushd -f -c @sysconfdir@/hushd/hushd.conf"])
        text = self.render_unit("/usr/local/sbin", "/usr/local/etc")
        self.assertIn("\nExecStart=/usr/local/sbin/hushd -f -c "
                      "/usr/local/etc/hushd/hushd.conf\n", text)
        self.assertEqual(self.unit["ExecReload"], ["/bin/kill -HUP $MAINPID"])
        self.assertEqual(self.unit["Type"], ["simple"])

    def test_unit_and_files_agree(self):
        """Account, directories and control socket are the same everywhere."""
        users = re.findall(r"(?m)^u\s+(\S+)", read(SYSUSERS))
        self.assertEqual(users, ["hushd"])
        dirs = {m.group(1): (m.group(2), m.group(3), m.group(4))
                for m in re.finditer(r"(?m)^d\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)",
                                     read(TMPFILES))}
        self.assertEqual(dirs["/var/lib/hushd"], ("0750", "hushd", "hushd"))
        self.assertEqual(dirs["/var/log/hushd"], ("0750", "root", "hushd"))
        writable = " ".join(self.unit["ReadWritePaths"]).split()
        self.assertEqual(sorted(p.lstrip("-") for p in writable),
                         sorted(dirs))

        rotate = read(LOGROTATE)
        self.assertRegex(rotate, r"(?m)^/var/log/hushd/\*\.jsonl \{")
        self.assertRegex(rotate, r"(?m)^\s*create 0640 hushd hushd$")

        # The example control socket lives in the unit's RuntimeDirectory,
        # and hushctl looks there when not told otherwise.
        runtime = self.unit["RuntimeDirectory"]
        self.assertEqual(runtime, ["hushd"])
        example = re.search(r"(?m)^#\s+control (\S+)$", read(SHIPPED_CONF))
        self.assertIsNotNone(example)
        self.assertEqual(os.path.dirname(example.group(1)), "/run/hushd")
        self.assertRegex(read(HUSHCTL_C), r'#define DEFAULT_SOCKET\s+"%s"'
                         % re.escape(example.group(1)))

        caps = set(" ".join(self.unit["CapabilityBoundingSet"]).split())
        self.assertEqual(caps, {"CAP_NET_BIND_SERVICE", "CAP_SETUID",
                                "CAP_SETGID", "CAP_SYS_CHROOT", "CAP_CHOWN",
                                "CAP_DAC_OVERRIDE"})
        self.assertIn("AF_NETLINK", " ".join(
            self.unit["RestrictAddressFamilies"]).split())

    def test_openwrt_init_script(self):
        proc = run(["sh", "-n", OPENWRT])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        text = read(OPENWRT)
        self.assertTrue(text.startswith("#!/bin/sh /etc/rc.common\n"))
        self.assertRegex(text, r"(?m)^START=19$")
        self.assertRegex(text, r"(?m)^USE_PROCD=1$")
        self.assertRegex(text, r'(?m)^PROG=/usr/sbin/hushd$')
        self.assertRegex(text, r'(?m)^CONF=/etc/hushd/hushd\.conf$')
        self.assertRegex(text, r'procd_set_param command "\$PROG" -f -c '
                         r'"\$CONF"')
        self.assertRegex(text, r"procd_set_param respawn\b")
        self.assertRegex(text, r"(?s)reload_service\(\) \{\s*"
                         r"procd_send_signal hushd '\*' HUP\s*\}")
        self.assertTrue(os.stat(OPENWRT).st_mode & stat.S_IXUSR)

    # ---------------------------------------------------------- tools
    def test_systemd_analyze_verify(self):
        analyze = tool("systemd-analyze")
        if analyze is None:
            self.skipTest("systemd-analyze is not installed")
        path = os.path.join(self.tmp, "hushd.service")
        with open(path, "w") as f:
            f.write(self.render_unit(os.path.dirname(os.path.abspath(HUSHD)),
                                     self.tmp))
        # --man=no: the manuals are not installed where man would look.
        proc = run([analyze, "verify", "--man=no", path])
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(proc.stderr.strip(), "")

    def test_sysusers_and_tmpfiles(self):
        """The account and the directories, made in a scratch root."""
        sysusers, tmpfiles = tool("systemd-sysusers"), tool("systemd-tmpfiles")
        if sysusers is None or tmpfiles is None:
            self.skipTest("systemd-sysusers or systemd-tmpfiles is not "
                          "installed")
        root = os.path.join(self.tmp, "root")
        os.makedirs(os.path.join(root, "etc"))
        proc = run([sysusers, "--root=" + root, SYSUSERS])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        passwd = read(os.path.join(root, "etc", "passwd"))
        entry = re.search(r"(?m)^hushd:x:(\d+):(\d+):[^:]*:([^:]*):([^:]*)$",
                          passwd)
        self.assertIsNotNone(entry, passwd)
        uid, gid = int(entry.group(1)), int(entry.group(2))
        self.assertEqual(entry.group(3), "/var/lib/hushd")
        self.assertIn("nologin", entry.group(4))

        proc = run([tmpfiles, "--root=" + root, "--create", TMPFILES])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        state = os.stat(os.path.join(root, "var", "lib", "hushd"))
        logs = os.stat(os.path.join(root, "var", "log", "hushd"))
        self.assertEqual((state.st_uid, state.st_gid,
                          stat.S_IMODE(state.st_mode)), (uid, gid, 0o750))
        self.assertEqual((logs.st_uid, logs.st_gid,
                          stat.S_IMODE(logs.st_mode)), (0, gid, 0o750))

    def logrotate_config(self, logdir):
        """The shipped rotation, for logdir and the account running this."""
        me = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        text = read(LOGROTATE).replace("/var/log/hushd/", logdir + "/")
        text = text.replace("create 0640 hushd hushd",
                            "create 0640 %s %s" % (me, group))
        path = os.path.join(self.tmp, "logrotate.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def test_logrotate_debug(self):
        logrotate = tool("logrotate")
        if logrotate is None:
            self.skipTest("logrotate is not installed")
        logdir = os.path.join(self.tmp, "log")
        os.mkdir(logdir, 0o750)
        with open(os.path.join(logdir, "events.jsonl"), "w") as f:
            f.write("{}\n")
        proc = run([logrotate, "-d", "-f", "-s",
                    os.path.join(self.tmp, "state"),
                    self.logrotate_config(logdir)])
        output = proc.stdout + proc.stderr
        self.assertEqual(proc.returncode, 0, output)
        self.assertNotRegex(output, r"(?m)^error:")
        self.assertIn("events.jsonl", output)

    def test_logrotate_rotates_a_running_hushd(self):
        """logrotate -f with the shipped script: hushd moves to the new file.

        systemctl and pkill are stand-ins on PATH: systemctl fails as it
        does without systemd, pkill signals only the hushd started here.
        """
        logrotate = tool("logrotate")
        if logrotate is None:
            self.skipTest("logrotate is not installed")
        logdir = os.path.join(self.tmp, "log")
        os.mkdir(logdir, 0o750)
        events = os.path.join(logdir, "events.jsonl")
        hushd = self.start_block_all(events)

        self.ask(hushd, "before.hushd.test")
        wait_for(lambda: "before.hushd.test" in read(events), 5,
                 "the first event")

        shims = os.path.join(self.tmp, "bin")
        os.mkdir(shims)
        calls = os.path.join(self.tmp, "pkill-calls")
        self.write_script(os.path.join(shims, "systemctl"), "exit 1\n")
        self.write_script(os.path.join(shims, "pkill"),
                          'echo "$*" >> %s\n'
                          '[ "$*" = "-USR1 -x hushd" ] && '
                          'exec kill -USR1 %d\nexit 2\n'
                          % (calls, hushd.proc.pid))
        env = dict(os.environ, PATH=shims + ":" + os.environ["PATH"])
        proc = run([logrotate, "-f", "-s", os.path.join(self.tmp, "state"),
                    self.logrotate_config(logdir)], env=env)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(read(calls), "-USR1 -x hushd\n")
        rotated = events + ".1"
        self.assertIn("before.hushd.test", read(rotated))
        self.assertEqual(stat.S_IMODE(os.stat(events).st_mode), 0o640)

        # The reopen happens in hushd's main thread, soon after the signal.
        n = [0]

        def in_new_file():
            n[0] += 1
            self.ask(hushd, "after%d.hushd.test" % n[0])
            return "after" in read(events)
        wait_for(in_new_file, 5, "an event in the new file", interval=0.2)
        self.assertNotIn("before.hushd.test", read(events))
        self.assertTrue(hushd.running())

    # ------------------------------------------------- the unit's bounds
    def test_starts_twice_within_the_capability_bounds(self):
        """As root, limited to CapabilityBoundingSet, dropping to nobody.

        The second start is the one that matters: by then the event log
        belongs to the account hushd runs as, and root opens it again.
        """
        setpriv = tool("setpriv")
        if os.geteuid() != 0 or setpriv is None:
            self.skipTest("needs root and setpriv")
        caps = " ".join(self.unit["CapabilityBoundingSet"]).split()
        bounds = "-all," + ",".join("+" + c[len("CAP_"):].lower()
                                    for c in caps)
        wrapper = os.path.join(self.tmp, "hushd-bounded")
        self.write_script(wrapper, 'exec %s --bounding-set %s --inh-caps=-all '
                          '%s "$@"\n' % (setpriv, bounds,
                                         os.path.abspath(HUSHD)))
        logdir = os.path.join(self.tmp, "log")
        os.mkdir(logdir, 0o755)
        os.chmod(self.tmp, 0o755)
        events = os.path.join(logdir, "events.jsonl")
        nobody = pwd.getpwnam("nobody")
        for attempt in ("first", "second"):
            hushd = self.start_block_all(
                events, binary=wrapper, extra=("user nobody", "control %s"
                                               % os.path.join(self.tmp,
                                                              "ctl.sock")))
            self.ask(hushd, attempt + ".hushd.test")
            wait_for(lambda: attempt in read(events), 5, "the event")
            self.assertRegex(hushd.stderr_text(), r"running as nobody")
            hushd.stop_and_check()
            self.assertEqual(os.stat(events).st_uid, nobody.pw_uid)

    # ---------------------------------------------------------- helpers
    def write_script(self, path, body):
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(path, 0o755)

    def start_block_all(self, events, binary=None, extra=()):
        """hushd that blocks hushd.test and below: no upstream needed."""
        port = free_port()
        text = self.config(port, upstreams=["127.0.0.1:9"],
                           lists={"all": ["hushd.test"]}, events=events,
                           extra=extra)
        if binary is not None:
            text = text.replace("user root\n", "")
        hushd = Hushd(self.tmp, text, port, binary=binary)
        self.addCleanup(hushd.stop_and_check)
        hushd.start()
        return hushd

    @staticmethod
    def ask(hushd, name):
        udp_exchange(make_query(name).to_wire(), "127.0.0.1", hushd.port)
