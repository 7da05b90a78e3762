#!/usr/bin/env python3
"""Host integration tests of the D-Bus API and iscsictl.

A private dbus-daemon (generated configuration that lets the test user own and
call anything) is started for each test, DBUS_SYSTEM_BUS_ADDRESS points at it,
and the daemon under test is started on it. Every process is started by PID and
stopped by that PID, also when a test fails. Nothing is mocked on the bus; the
one test double is the session list of iscsi-dbus-harness --test-sessions,
because the host has no kernel data path (the guest tests cover real sessions).
"""
import argparse
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import introspection  # noqa: E402

ARGS = None
BUS_NAME = "org.iscsictl.target1"
ROOT = "/org/iscsictl/target1"
MANAGER = "org.iscsictl.target1.Manager"
TARGET = "iqn.2003-01.org.example:disk1"
INITIATOR = "iqn.1994-05.com.example:client"

EXIT = {"ok": 0, "failed": 1, "usage": 2, "not_running": 3, "not_found": 4, "exists": 5, "invalid": 6,
        "busy": 7, "denied": 8}

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
</busconfig>
"""


# Like Debian's system.conf: deny by default, then the shipped policy file.
SHIPPED_POLICY_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"""


def free_port():
    """A TCP port free on loopback now (the real daemon listens on the portals tests create)."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(process, timeout=5):
    """Stops a process we started, by its PID: SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


class BusTest(unittest.TestCase):
    """A private bus and the daemon under test, fresh for every test."""

    daemon_extra_args = []
    use_harness = False
    bus_config = BUS_CONFIG

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="iscsi-dbus-test-")
        os.chmod(self.dir, 0o755)  # the unprivileged-caller test connects as nobody
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.config = os.path.join(self.dir, "config.json")
        self.secrets = os.path.join(self.dir, "secrets.json")
        self.state = os.path.join(self.dir, "state")
        os.mkdir(self.state)
        socket = os.path.join(self.dir, "bus")
        with open(os.path.join(self.dir, "bus.conf"), "w") as f:
            f.write(self.bus_config.format(socket=socket, policy=os.path.join(os.path.abspath(ARGS.packaging), "dbus",
                                                                               "org.iscsictl.target1.conf")))
        self.env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=" + socket)
        self.bus = subprocess.Popen(["dbus-daemon", "--config-file=" + os.path.join(self.dir, "bus.conf"), "--nofork"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(stop_process, self.bus)
        deadline = time.time() + 10
        while not os.path.exists(socket):
            self.assertIsNone(self.bus.poll(), "dbus-daemon exited; is its configuration valid?")
            self.assertLess(time.time(), deadline, "dbus-daemon did not create its socket")
            time.sleep(0.05)
        with open(self.config, "w") as f:
            f.write("{}\n")  # an empty configuration; the daemon requires the file
        self.port = str(free_port())
        self.daemon = None
        self.start_daemon()

    def start_daemon(self, extra=None):
        binary = ARGS.harness if self.use_harness else ARGS.daemon
        command = [binary, "--foreground", "--config", self.config, "--secrets", self.secrets,
                   "--state-dir", self.state] + self.daemon_extra_args + (extra or [])
        self.daemon_log = open(os.path.join(self.dir, "daemon.log"), "ab")
        self.addCleanup(self.daemon_log.close)
        self.daemon = subprocess.Popen(command, env=self.env, stdout=self.daemon_log, stderr=self.daemon_log)
        self.addCleanup(stop_process, self.daemon)
        deadline = time.time() + 10
        while not self.name_has_owner():
            if self.daemon.poll() is not None or time.time() > deadline:
                with open(os.path.join(self.dir, "daemon.log")) as log:
                    self.fail("the daemon did not take its bus name; its log:\n" + log.read())
            time.sleep(0.05)

    def stop_daemon(self):
        stop_process(self.daemon)

    def name_has_owner(self):
        out = subprocess.run(["busctl", "--system", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus",
                              "org.freedesktop.DBus", "NameHasOwner", "s", BUS_NAME],
                             env=self.env, capture_output=True, text=True)
        return out.stdout.strip() == "b true"

    def ctl(self, *args, input=None, as_nobody=False):
        command = [ARGS.iscsictl] + list(args)
        if as_nobody:
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + command
        return subprocess.run(command, env=self.env, capture_output=True, text=True, input=input, timeout=30)

    def ok(self, *args, input=None):
        result = self.ctl(*args, input=input)
        self.assertEqual(result.returncode, 0, f"iscsictl {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def ctl_json(self, *args):
        return json.loads(self.ok(*args, "--json"))

    def fails(self, expected, *args, input=None, message=None):
        result = self.ctl(*args, input=input)
        self.assertEqual(result.returncode, EXIT[expected],
                         f"iscsictl {' '.join(args)}: expected exit {EXIT[expected]} ({expected}), got "
                         f"{result.returncode}: {result.stdout}{result.stderr}")
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, "one line says why: " + result.stderr)
        if message:
            self.assertIn(message, result.stderr)
        return result

    def busctl(self, *args):
        return subprocess.run(["busctl", "--system"] + list(args), env=self.env, capture_output=True, text=True,
                              timeout=30)

    def call(self, method, signature="", *args):
        return self.busctl("call", BUS_NAME, ROOT, MANAGER, method, *([signature] + list(args) if signature else []))

    def dbus_send_error(self, method, *args):
        """The D-Bus error name of a failed Manager call (dbus-send prints it)."""
        result = subprocess.run(["dbus-send", "--system", "--print-reply", "--dest=" + BUS_NAME, ROOT,
                                 MANAGER + "." + method] + list(args), env=self.env, capture_output=True, text=True)
        match = re.search(r"Error (\S+):", result.stderr)
        return match.group(1) if match else None

    def stored(self):
        """The configuration files as bytes (absent: None)."""
        contents = []
        for path in (self.config, self.secrets):
            if os.path.exists(path):
                with open(path, "rb") as f:
                    contents.append(f.read())
            else:
                contents.append(None)
        return tuple(contents)

    def make_file(self, name, size=1 << 20):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.truncate(size)
        return path

    def start_monitor(self):
        """A busctl monitor of the service's signals, writing to a file (a pipe could fill and stall it)."""
        log_path = os.path.join(self.dir, "monitor-%d.log" % len(os.listdir(self.dir)))
        log = open(log_path, "w")
        self.addCleanup(log.close)
        monitor = subprocess.Popen(["busctl", "--system", "monitor", "--match", "type='signal'"], env=self.env,
                                   stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(stop_process, monitor)
        time.sleep(0.5)
        return monitor, log_path

    def stop_monitor(self, monitor, log_path):
        time.sleep(0.5)
        stop_process(monitor)
        with open(log_path) as f:
            return f.read()

    def as_nobody_dbus_send(self, path, interface, method, *args):
        """(exit status, D-Bus error name or None, stdout) of a call made by uid 65534."""
        result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "dbus-send",
                                 "--system", "--print-reply", "--dest=" + BUS_NAME, path, interface + "." + method]
                                + list(args), env=self.env, capture_output=True, text=True, timeout=30)
        match = re.search(r"Error (\S+):", result.stderr)
        return result.returncode, match.group(1) if match else None, result.stdout

    def every_read_as_nobody(self):
        """Each read the setting covers, made by uid 65534: {what: (status, error name, stdout)}."""
        props = "org.freedesktop.DBus.Properties"
        return {
            "Get Version": self.as_nobody_dbus_send(ROOT, props, "Get", "string:" + MANAGER, "string:Version"),
            "GetAll target": self.as_nobody_dbus_send(self.target_path(), props, "GetAll",
                                                      "string:org.iscsictl.target1.Target"),
            "GetManagedObjects": self.as_nobody_dbus_send(ROOT, "org.freedesktop.DBus.ObjectManager",
                                                          "GetManagedObjects"),
            "ListSessions": self.as_nobody_dbus_send(ROOT, MANAGER, "ListSessions"),
            "Introspect": self.as_nobody_dbus_send(ROOT, "org.freedesktop.DBus.Introspectable", "Introspect"),
        }

    def target_path(self):
        """The first Target object's path, read as root."""
        objects = json.loads(self.busctl("call", BUS_NAME, ROOT, "org.freedesktop.DBus.ObjectManager",
                                         "GetManagedObjects", "--json=short").stdout)["data"][0]
        return next(p for p, i in objects.items() if "org.iscsictl.target1.Target" in i)

    def every_change_as_nobody(self):
        """Changes by uid 65534, each must be refused: {what: (status, error name, stdout)}."""
        return {
            "CreateLun": self.as_nobody_dbus_send(ROOT, MANAGER, "CreateLun", "string:" + TARGET, "uint32:5",
                                                  "string:disk1"),
            "DeleteTarget": self.as_nobody_dbus_send(ROOT, MANAGER, "DeleteTarget", "string:" + TARGET),
            "SaveConfiguration": self.as_nobody_dbus_send(ROOT, MANAGER, "SaveConfiguration"),
            "Reload": self.as_nobody_dbus_send(ROOT, MANAGER, "Reload"),
        }

    def configure_basic(self):
        """A target with a portal group, portal, backstore, LUN and ACL."""
        self.ok("target", "create", TARGET, "--alias", "disk one")
        self.ok("tpg", "create", TARGET, "1")
        self.ok("portal", "create", TARGET, "127.0.0.1", "--port", self.port)
        self.ok("backstore", "create", "disk1", "--type", "fileio", "--path", self.make_file("disk1.img"))
        self.ok("lun", "create", TARGET, "0", "disk1")
        self.ok("acl", "create", TARGET, INITIATOR, "--map", "0=0", "--network", "127.0.0.0/8")


class CommandLineTest(BusTest):
    def test_help_on_every_level(self):
        nouns = {"target": ["create", "delete", "list", "show", "redirect", "unredirect"],
                 "tpg": ["create", "delete", "list"], "portal": ["create", "delete", "list"],
                 "lun": ["create", "delete", "list"], "backstore": ["create", "delete", "list", "show"],
                 "acl": ["create", "delete", "list"], "auth": ["set", "clear", "show"],
                 "session": ["list", "show", "logout", "terminate"], "connection": ["list", "terminate"],
                 "config": ["save", "reload", "show"], "status": []}
        self.assertIn("Exit codes", self.ok("--help"))
        for noun, verbs in nouns.items():
            self.assertIn("Usage", self.ok(noun, "--help"))
            for verb in verbs:
                self.assertIn("Usage", self.ok(noun, verb, "--help"), f"{noun} {verb} --help")
        self.assertEqual(self.ctl("frobnicate").returncode, EXIT["usage"])
        self.assertEqual(self.ctl("target", "create").returncode, EXIT["usage"], "a missing argument is a usage error")

    def test_not_running_is_one_line(self):
        self.stop_daemon()
        for args in (["status"], ["target", "list"], ["session", "list", "--json"], ["target", "create", TARGET]):
            result = self.ctl(*args)
            self.assertEqual(result.returncode, EXIT["not_running"], args)
            self.assertEqual(result.stderr, "iscsictl: iscsi-targetd is not running\n")
            self.assertEqual(result.stdout, "")

    def test_configure_list_show_delete(self):
        self.configure_basic()
        targets = self.ctl_json("target", "list")
        self.assertEqual([t["Name"] for t in targets], [TARGET])
        self.assertEqual(targets[0]["Alias"], "disk one")
        self.assertEqual(targets[0]["PortalGroups"], [1])
        self.assertEqual(targets[0]["Luns"], [[0, "disk1"]])
        self.assertEqual(targets[0]["Acls"], [INITIATOR])
        self.assertEqual(self.ctl_json("target", "show", TARGET)["Name"], TARGET)
        self.assertEqual(self.ctl_json("tpg", "list")[0]["Portals"], [["127.0.0.1", int(self.port)]])
        self.assertEqual(self.ctl_json("portal", "list", TARGET)[0]["Port"], int(self.port))
        self.assertEqual(self.ctl_json("lun", "list")[0]["Backstore"], "disk1")
        backstore = self.ctl_json("backstore", "show", "disk1")
        self.assertEqual(backstore["Type"], "fileio")
        self.assertEqual(len(backstore["UsedBy"]), 1)
        acl = self.ctl_json("acl", "list", TARGET)[0]
        self.assertEqual(acl["MappedLuns"], [[0, 0, False]])
        self.assertEqual(acl["AllowedNetworks"], ["127.0.0.0/8"])
        self.assertEqual(self.ctl_json("session", "list"), [])
        self.assertEqual(self.ctl_json("connection", "list"), [])
        status = self.ctl_json("status")
        self.assertEqual(status["Objects"]["Target"], 1)
        self.assertIn("DataPath", status)
        self.assertIn(TARGET, self.ok("target", "list"))  # the table for people
        self.assertIn("/lun/0", self.ok("config", "show"))
        self.assertIn(ROOT + "/backstore/disk1", self.ctl_json("config", "show"))

        self.ok("target", "redirect", TARGET, "192.0.2.1", "--port", "3260", "--permanent")
        self.assertEqual(self.ctl_json("target", "show", TARGET)["Redirect"], "192.0.2.1:3260,1 permanent")
        self.ok("target", "redirect", TARGET, "2001:db8::1", "--portal-group", "1")
        self.assertEqual(self.ctl_json("tpg", "list")[0]["Redirect"], "[2001:db8::1]:3260,1 temporary")
        self.ok("target", "unredirect", TARGET, "--portal-group", "1")
        self.ok("target", "unredirect", TARGET)
        self.assertEqual(self.ctl_json("target", "show", TARGET)["Redirect"], "")

        self.ok("acl", "delete", TARGET, INITIATOR)
        self.ok("lun", "delete", TARGET, "0")
        self.ok("backstore", "delete", "disk1")
        self.ok("portal", "delete", TARGET, "127.0.0.1", "--port", self.port)
        self.ok("tpg", "delete", TARGET, "1")
        self.ok("target", "delete", TARGET)
        self.assertEqual(self.ctl_json("target", "list"), [])
        self.assertEqual(self.ctl_json("backstore", "list"), [])
        with open(self.config) as f:
            self.assertNotIn(TARGET, f.read(), "deletions are persisted")

    def test_bad_input_is_a_named_error_and_changes_nothing(self):
        self.configure_basic()
        self.ok("backstore", "create", "spare", "--type", "ramdisk", "--size", "16M")
        before = self.stored()
        self.fails("invalid", "target", "create", "disk1", message="iqn., eui. or naa.")
        self.fails("invalid", "target", "create", "iqn.2003-13.org.example:x")
        self.fails("invalid", "target", "create", "eui.12345")
        self.fails("invalid", "target", "create", "iqn.2003-01.org.example:" + "x" * 220, message="223")
        self.fails("invalid", "target", "create", "iqn.2003-01.org.Example:upper")
        self.fails("exists", "target", "create", TARGET, message="already exists")
        self.fails("not_found", "target", "delete", "iqn.2003-01.org.example:nothere")
        self.fails("not_found", "target", "show", "iqn.2003-01.org.example:nothere",
                   message="no target iqn.2003-01.org.example:nothere")
        self.fails("not_found", "backstore", "show", "nothere", message="no backstore nothere")
        self.fails("not_found", "lun", "create", TARGET, "1", "missing", message="no backstore missing")
        self.fails("exists", "lun", "create", TARGET, "0", "spare")
        self.fails("invalid", "backstore", "create", "b2", "--path", os.path.join(self.dir, "missing.img"),
                   message="does not exist")
        self.fails("invalid", "backstore", "create", "b3", "--type", "block", "--path", self.config,
                   message="not a block device")
        self.fails("invalid", "backstore", "create", "bad/name", "--path", self.config)
        self.fails("invalid", "backstore", "create", "rd", "--type", "ramdisk")
        self.fails("exists", "backstore", "create", "disk1", "--type", "ramdisk", "--size", "1M")
        self.fails("busy", "backstore", "delete", "disk1", message="in use")
        self.fails("busy", "lun", "delete", TARGET, "0", message="mapped")
        self.fails("invalid", "acl", "create", TARGET, "not-a-name")
        self.fails("exists", "acl", "create", TARGET, INITIATOR)
        self.fails("not_found", "acl", "create", TARGET, "iqn.1994-05.com.example:other", "--map", "0=9")
        self.fails("invalid", "acl", "create", TARGET, "iqn.1994-05.com.example:other", "--network", "10.0.0.0/33")
        self.fails("not_found", "portal", "create", TARGET, "127.0.0.1", "--tpgt", "9")
        self.fails("invalid", "portal", "create", TARGET, "localhost")
        self.fails("exists", "portal", "create", TARGET, "127.0.0.1", "--port", self.port)
        self.fails("exists", "tpg", "create", TARGET, "1")
        self.fails("invalid", "tpg", "create", TARGET, "0")
        self.fails("invalid", "auth", "set", "target", "--target", TARGET, "--user", "u", input="short\n",
                   message="12 bytes")
        self.fails("invalid", "auth", "set", "target", "--target", TARGET, "--user", "u", "--mutual-user", "m",
                   input="same-secret-123\nsame-secret-123\n", message="differ")
        self.fails("not_found", "auth", "set", "acl", "--target", TARGET, "--initiator", "iqn.1994-05.com.example:x",
                   "--user", "u", input="long-enough-secret\n")
        self.fails("not_found", "auth", "clear", "target", "--target", TARGET)
        self.fails("not_found", "session", "terminate", "5")
        self.fails("not_found", "session", "logout", "5")
        self.fails("not_found", "connection", "terminate", "5", "1")
        self.fails("usage", "backstore", "create", "x", "--size", "12Q")
        self.assertEqual(self.stored(), before, "a failed change leaves config.json and secrets.json untouched")

    def test_changes_persist_across_restart(self):
        self.configure_basic()
        self.ok("auth", "set", "target", "--target", TARGET, "--user", "alice", "--mutual-user", "target-bob",
                input="alice-secret-123\nbob-secret-4567\n")
        secret_file = os.path.join(self.dir, "discovery.secret")
        with open(secret_file, "w") as f:
            f.write("discovery-secret-1\n")
        self.ok("auth", "set", "discovery", "--user", "disco", "--secret-file", secret_file)
        self.assertEqual(stat.S_IMODE(os.stat(self.secrets).st_mode), 0o600, "secrets.json is 0600")
        with open(self.config) as f:
            config_text = f.read()
        with open(self.secrets) as f:
            secrets_text = f.read()
        for secret in ("alice-secret-123", "bob-secret-4567", "discovery-secret-1"):
            self.assertNotIn(secret, config_text)
            self.assertIn(secret, secrets_text)
        before = {noun: self.ctl_json(noun, "list") for noun in ("target", "tpg", "portal", "lun", "backstore", "acl")}
        auth_before = self.ctl_json("auth", "show")
        self.stop_daemon()
        self.start_daemon()
        for noun, listing in before.items():
            self.assertEqual(self.ctl_json(noun, "list"), listing, f"{noun} objects are restored at start")
        self.assertEqual(self.ctl_json("auth", "show"), auth_before)
        # Clearing CHAP forgets the secrets.
        self.ok("auth", "clear", "target", "--target", TARGET)
        with open(self.secrets) as f:
            self.assertNotIn("alice-secret-123", f.read())
        # No temporary files are left behind.
        self.assertEqual([n for n in os.listdir(self.dir) if ".tmp." in n], [])

    def test_secrets_are_write_only(self):
        self.configure_basic()
        self.ok("auth", "set", "acl", "--target", TARGET, "--initiator", INITIATOR, "--user", "carol",
                input="carol-secret-9876\n")
        shown = self.ok("auth", "show", "--json") + self.ok("config", "show", "--json") + self.ok("status", "--json")
        shown += self.busctl("call", BUS_NAME, ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                             "--json=short").stdout
        shown += self.busctl("introspect", BUS_NAME, ROOT).stdout
        self.assertIn("carol", shown)
        self.assertNotIn("carol-secret-9876", shown)
        self.assertEqual(self.ctl_json("acl", "list")[0]["ChapUser"], "carol")

    def test_save_and_reload(self):
        self.configure_basic()
        saved = self.stored()
        os.remove(self.config)
        self.ok("config", "save")
        self.assertEqual(self.stored(), saved, "SaveConfiguration writes the running configuration")
        shutil.copy(self.config, self.config + ".keep")
        shutil.copy(self.secrets, self.secrets + ".keep")
        self.ok("target", "create", "iqn.2003-01.org.example:second")
        self.assertEqual(len(self.ctl_json("target", "list")), 2)
        shutil.copy(self.config + ".keep", self.config)
        shutil.copy(self.secrets + ".keep", self.secrets)
        self.ok("config", "reload")
        self.assertEqual([t["Name"] for t in self.ctl_json("target", "list")], [TARGET], "Reload applies the files")
        with open(self.config, "w") as f:
            f.write("{ this is not json")
        result = self.ctl("config", "reload")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("config.json", result.stderr)
        self.assertEqual([t["Name"] for t in self.ctl_json("target", "list")], [TARGET],
                         "a bad file leaves the running configuration as it was")


class UnprivilegedReadsOffTest(BusTest):
    """The default: another uid may neither read nor change; root does both."""

    def test_reads_refused_by_default_with_the_named_error(self):
        self.configure_basic()
        for what, (status, error, _) in self.every_read_as_nobody().items():
            self.assertNotEqual(status, 0, what)
            self.assertEqual(error, "org.iscsictl.target1.Error.PermissionDenied", what)
        result = self.ctl("target", "list", "--json", as_nobody=True)
        self.assertEqual(result.returncode, EXIT["denied"], result.stderr)
        self.assertIn("--allow-unprivileged-reads", result.stderr, "the refusal names the setting")
        result = self.ctl("session", "list", as_nobody=True)
        self.assertEqual(result.returncode, EXIT["denied"], result.stderr)
        before = self.stored()
        for what, (status, error, _) in self.every_change_as_nobody().items():
            self.assertEqual(error, "org.iscsictl.target1.Error.PermissionDenied", what)
        self.assertEqual(self.stored(), before)
        self.assertEqual(self.ctl_json("target", "list")[0]["Name"], TARGET, "root still reads")


class UnprivilegedReadsOnTest(BusTest):
    """iscsi-targetd --allow-unprivileged-reads: every uid reads, changes still need root or polkit."""
    daemon_extra_args = ["--allow-unprivileged-reads"]

    def test_reads_allowed_changes_refused_secrets_never_read(self):
        self.configure_basic()
        secret = "nobody-must-read-this-1"
        self.ok("auth", "set", "target", "--target", TARGET, "--user", "dave", input=secret + "\n")
        for what, (status, error, out) in self.every_read_as_nobody().items():
            self.assertEqual(status, 0, f"{what}: {error}")
            self.assertNotIn(secret, out, what)
        self.assertIn(TARGET, self.every_read_as_nobody()["GetManagedObjects"][2])
        result = self.ctl("target", "list", "--json", as_nobody=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)[0]["Name"], TARGET)
        for args in (("session", "list", "--json"), ("status",), ("auth", "show", "--json")):
            result = self.ctl(*args, as_nobody=True)
            self.assertEqual(result.returncode, 0, f"{args}: {result.stderr}")
            self.assertNotIn(secret, result.stdout)
        before = self.stored()
        # No polkit on the private bus: a change by uid 65534 is refused, and says why.
        for what, (status, error, _) in self.every_change_as_nobody().items():
            self.assertEqual(error, "org.iscsictl.target1.Error.PermissionDenied", what)
        result = self.ctl("target", "create", "iqn.2003-01.org.example:x", as_nobody=True)
        self.assertEqual(result.returncode, EXIT["denied"], result.stderr)
        self.assertIn("polkit", result.stderr)
        result = self.ctl("target", "delete", TARGET, as_nobody=True)
        self.assertEqual(result.returncode, EXIT["denied"], result.stderr)
        self.assertEqual(self.stored(), before)


class SessionReadsTest(BusTest):
    """Session and Connection objects under both settings (harness: test sessions)."""
    use_harness = True
    daemon_extra_args = ["--test-sessions", TARGET, "1"]

    def test_session_objects_refused_then_allowed(self):
        sessions = self.ctl_json("session", "list")
        path = sessions[0]["Path"]
        status, error, _ = self.as_nobody_dbus_send(path, "org.freedesktop.DBus.Properties", "GetAll",
                                                    "string:org.iscsictl.target1.Session")
        self.assertEqual(error, "org.iscsictl.target1.Error.PermissionDenied")
        status, error, _ = self.as_nobody_dbus_send(path, "org.iscsictl.target1.Session", "Terminate")
        self.assertEqual(error, "org.iscsictl.target1.Error.PermissionDenied")
        self.stop_daemon()
        self.start_daemon(["--allow-unprivileged-reads"])
        status, error, out = self.as_nobody_dbus_send(path, "org.freedesktop.DBus.Properties", "GetAll",
                                                      "string:org.iscsictl.target1.Session")
        self.assertEqual(status, 0, error)
        self.assertIn("Isid", out)
        status, error, _ = self.as_nobody_dbus_send(path, "org.iscsictl.target1.Session", "Terminate")
        self.assertEqual(error, "org.iscsictl.target1.Error.PermissionDenied", "a change is never open")
        self.assertEqual(len(self.ctl_json("session", "list")), 1)


class DBusMethodTest(BusTest):
    def test_every_manager_method(self):
        image = self.make_file("m.img")
        self.assertIn(ROOT + "/target/", self.call("CreateTarget", "sa{sv}", TARGET, "2", "Alias", "s", "m",
                                                   "MaxSessions", "u", "4").stdout)
        self.assertIn("/tpg/2", self.call("CreatePortalGroup", "sqa{sv}", TARGET, "2", "1", "DemoMode", "b",
                                          "true").stdout)
        self.assertIn("/portal/", self.call("CreatePortal", "sqsq", TARGET, "2", "::1", self.port).stdout)
        self.assertIn("/backstore/m", self.call("CreateBackstore", "ssa{sv}", "m", "fileio", "2", "Path", "s", image,
                                                "WriteBack", "b", "true").stdout)
        new_file = os.path.join(self.dir, "created-by-kernel.img")
        self.assertIn("/backstore/big", self.call("CreateBackstore", "ssa{sv}", "big", "fileio", "2", "Path", "s",
                                                  new_file, "SizeBytes", "t", "1048576").stdout)
        self.assertIn("/lun/3", self.call("CreateLun", "sus", TARGET, "3", "m").stdout)
        self.assertIn("/acl/", self.call("CreateAcl", "ssa{sv}", TARGET, INITIATOR, "1", "MappedLuns", "a(uub)",
                                         "1", "0", "3", "true").stdout)
        self.assertEqual(self.call("SetChap", "sssssss", "target", TARGET, "", "dave", "dave-secret-12", "", "")
                         .returncode, 0)
        self.assertEqual(self.call("SetRedirect", "sqsqqb", TARGET, "0", "198.51.100.7", "3260", "1", "false")
                         .returncode, 0)
        self.assertEqual(self.call("ClearRedirect", "sq", TARGET, "0").returncode, 0)
        self.assertEqual(self.call("ClearChap", "sss", "target", TARGET, "").returncode, 0)
        self.assertEqual(self.call("ListSessions").stdout.strip(), "aa{sv} 0")
        self.assertEqual(self.call("SaveConfiguration").returncode, 0)
        self.assertEqual(self.call("Reload").returncode, 0)
        version = self.busctl("get-property", BUS_NAME, ROOT, MANAGER, "Version").stdout
        self.assertRegex(version, r'^s "\d+\.\d+')
        # One version: the client's --version names the daemon's.
        ctl_version = self.ctl("--version")
        self.assertEqual(ctl_version.returncode, 0)
        self.assertEqual(ctl_version.stdout.strip(), "iscsictl " + version.split('"')[1])
        self.assertTrue(self.busctl("get-property", BUS_NAME, ROOT, MANAGER, "DataPath").stdout.startswith("s "))
        self.assertEqual(self.call("DeleteAcl", "ss", TARGET, INITIATOR).returncode, 0)
        self.assertEqual(self.call("DeleteLun", "su", TARGET, "3").returncode, 0)
        self.assertEqual(self.call("DeleteBackstore", "s", "m").returncode, 0)
        self.assertEqual(self.call("DeletePortal", "sqsq", TARGET, "2", "::1", self.port).returncode, 0)
        self.assertEqual(self.call("DeletePortalGroup", "sq", TARGET, "2").returncode, 0)
        self.assertEqual(self.call("DeleteTarget", "s", TARGET).returncode, 0)
        self.assertEqual(json.loads(self.busctl("call", BUS_NAME, ROOT, "org.freedesktop.DBus.ObjectManager",
                                                "GetManagedObjects", "--json=short").stdout)["data"][0].keys()
                         - {ROOT + "/backstore/big"}, set())

    def test_errors_are_named(self):
        prefix = "org.iscsictl.target1.Error."
        self.assertEqual(self.dbus_send_error("DeleteTarget", "string:" + TARGET), prefix + "NotFound")
        self.assertEqual(self.dbus_send_error("CreateLun", "string:" + TARGET, "uint32:0", "string:x"),
                         prefix + "NotFound")
        self.assertEqual(self.dbus_send_error("ClearChap", "string:bogus", "string:", "string:"),
                         prefix + "InvalidArgument")
        self.call("CreateTarget", "sa{sv}", TARGET, "0")
        self.assertEqual(self.dbus_send_error("SetRedirect", "string:" + TARGET, "uint16:0", "string:", "uint16:3260",
                                              "uint16:1", "boolean:false"), prefix + "InvalidArgument")
        self.assertEqual(self.dbus_send_error("DeletePortalGroup", "string:" + TARGET, "uint16:1"), prefix + "NotFound")
        # Options are typed and known: a wrong type or an unknown key is refused, not ignored.
        wrong_type = self.call("CreateTarget", "sa{sv}", "iqn.2003-01.org.example:y", "1", "Alias", "u", "5")
        self.assertNotEqual(wrong_type.returncode, 0)
        self.assertIn("type s", wrong_type.stderr)
        unknown = self.call("CreateTarget", "sa{sv}", "iqn.2003-01.org.example:y", "1", "Colour", "s", "red")
        self.assertNotEqual(unknown.returncode, 0)
        self.assertIn("unknown option 'Colour'", unknown.stderr)
        self.assertEqual(len(json.loads(self.ok("target", "list", "--json"))), 1)

    def test_signals_for_objects_that_come_and_go(self):
        monitor, log_path = self.start_monitor()
        self.ok("target", "create", TARGET)
        self.ok("auth", "set", "target", "--target", TARGET, "--user", "erin", input="erin-secret-1234\n")
        self.ok("target", "delete", TARGET)
        seen = self.stop_monitor(monitor, log_path)
        target_path = ROOT + "/target/iqn_2e2003_2d01_2eorg_2eexample_3adisk1"
        self.assertRegex(seen, r"Member=InterfacesAdded")
        self.assertRegex(seen, r"Member=InterfacesRemoved")
        self.assertIn(f"Path={target_path}  Interface=org.freedesktop.DBus.Properties  Member=PropertiesChanged", seen)
        self.assertIn(target_path, seen)

    def test_introspection_matches_shipped_xml(self):
        self.configure_basic()
        with open(ARGS.xml) as f:
            shipped = introspection.interfaces(f.read())
        compared = compare_with_running_service(self, shipped)
        self.assertEqual(compared, {"Manager", "Target", "PortalGroup", "Portal", "Lun", "Backstore", "Acl"})


def compare_with_running_service(test, shipped):
    """Introspects every object and compares each of our interfaces with the shipped XML."""
    compared = set()
    paths = test.busctl("tree", "--list", BUS_NAME).stdout.split()
    for path in paths:
        xml = test.busctl("introspect", "--xml-interface", BUS_NAME, path).stdout
        for name, text in introspection.interfaces(xml).items():
            test.assertIn(name, shipped, f"{name} at {path} is not in dbus/org.iscsictl.target1.xml")
            test.assertEqual(text, shipped[name], f"{name} differs from dbus/org.iscsictl.target1.xml")
            compared.add(name.rsplit(".", 1)[1])
    return compared


class SessionTest(BusTest):
    """Session and Connection objects, over the harness's test double of the kernel's session list."""
    use_harness = True
    daemon_extra_args = ["--test-sessions", TARGET, "2"]

    def session_path(self, tsih):
        return f"{ROOT}/session/iqn_2e2003_2d01_2eorg_2eexample_3adisk1/1/{tsih}"

    def test_session_list_has_every_field(self):
        sessions = self.ctl_json("session", "list")
        self.assertEqual([s["Tsih"] for s in sessions], [1, 2])
        first = sessions[0]
        for field in ("InitiatorName", "InitiatorAlias", "Isid", "Tsih", "TargetName", "Tpgt", "SessionType",
                      "ChapUser", "State", "MaxBurstLength", "FirstBurstLength", "InitialR2T", "ImmediateData",
                      "MaxOutstandingR2T", "DataPDUInOrder", "DataSequenceInOrder", "ErrorRecoveryLevel",
                      "DefaultTime2Wait", "DefaultTime2Retain", "MaxConnections", "Commands", "ReadBytes",
                      "WriteBytes", "Errors", "StartTime", "Connections", "Path"):
            self.assertIn(field, first)
        self.assertEqual(first["Isid"], "0x801234560001", "ISID in the RFC 7143 s.6.1 hex form")
        self.assertEqual(first["MaxBurstLength"], 1048576)
        connection = first["Connections"][0]
        for field in ("Cid", "PeerAddress", "PeerPort", "LocalAddress", "LocalPort", "State", "HeaderDigest",
                      "DataDigest", "MaxRecvDataSegmentLength", "MaxXmitDataSegmentLength", "Commands"):
            self.assertIn(field, connection)
        self.assertEqual((connection["PeerAddress"], connection["PeerPort"]), ("127.0.0.1", 40011))
        self.assertEqual(connection["HeaderDigest"], "CRC32C")
        self.assertEqual(len(self.ctl_json("connection", "list")), 4)
        self.assertEqual(self.ctl_json("session", "show", "2")["InitiatorName"], "iqn.1994-05.com.example:initiator2")
        tsih = self.busctl("get-property", BUS_NAME, self.session_path(2), "org.iscsictl.target1.Session", "Tsih")
        self.assertEqual(tsih.stdout.strip(), "q 2")

    def test_logout_terminate_and_signals(self):
        self.ok("target", "create", TARGET)
        self.fails("busy", "target", "delete", TARGET, message="live session")
        monitor, log_path = self.start_monitor()
        self.ok("session", "logout", "1")
        self.assertEqual(self.ctl_json("session", "show", "1")["State"], "logout-requested")
        self.ok("connection", "terminate", "1", "2")
        self.assertEqual([c["Cid"] for c in self.ctl_json("session", "show", "1")["Connections"]], [1])
        self.ok("session", "terminate", "2")
        self.assertEqual([s["Tsih"] for s in self.ctl_json("session", "list")], [1])
        seen = self.stop_monitor(monitor, log_path)
        self.assertIn("Member=InterfacesRemoved", seen)
        self.assertIn(f"Path={self.session_path(1)}  Interface=org.freedesktop.DBus.Properties  "
                      "Member=PropertiesChanged", seen)
        self.fails("not_found", "session", "terminate", "2")

    def test_session_interfaces_match_shipped_xml(self):
        with open(ARGS.xml) as f:
            shipped = introspection.interfaces(f.read())
        compared = compare_with_running_service(self, shipped)
        self.assertTrue({"Session", "Connection", "Manager"} <= compared, compared)


class ShippedBusPolicyTest(BusTest):
    """The daemon under packaging/dbus/org.iscsictl.target1.conf on a deny-by-default bus."""
    bus_config = SHIPPED_POLICY_BUS_CONFIG
    daemon_extra_args = ["--allow-unprivileged-reads"]

    def test_root_owns_and_changes_others_read(self):
        self.ok("target", "create", TARGET)
        result = self.ctl("target", "list", "--json", as_nobody=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)[0]["Name"], TARGET)
        result = self.ctl("session", "list", "--json", as_nobody=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        result = self.ctl("target", "delete", TARGET, as_nobody=True)
        self.assertEqual(result.returncode, EXIT["denied"], result.stderr)
        owner = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "busctl", "--system",
                                "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                "RequestName", "su", "org.iscsictl.target1", "4"],
                               env=self.env, capture_output=True, text=True)
        self.assertNotEqual(owner.returncode, 0, "only root may own the name")


class PackagingTest(unittest.TestCase):
    def test_polkit_action_is_the_one_the_daemon_asks_for(self):
        import xml.etree.ElementTree as ET
        tree = ET.parse(os.path.join(ARGS.packaging, "polkit", "org.iscsictl.target1.policy"))
        self.assertEqual([a.get("id") for a in tree.getroot().iter("action")], ["org.iscsictl.target1.manage"])

    def test_man_page_renders_and_covers_every_noun(self):
        page = os.path.join(ARGS.packaging, "man", "iscsictl.8")
        if shutil.which("man") is None:
            self.skipTest("man is not installed")
        out = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True,
                             env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING=""))
        self.assertEqual(out.stderr, "", "groff warnings")
        for noun in ("target", "tpg", "portal", "lun", "backstore", "acl", "auth", "session", "connection",
                     "config", "status", "EXIT STATUS"):
            self.assertIn(noun, out.stdout)


class CompletionTest(unittest.TestCase):
    def test_bash_completion_offers_nouns_and_verbs(self):
        script = (f"source {ARGS.completion}; COMP_WORDS=(iscsictl ta); COMP_CWORD=1; _iscsictl; "
                  "echo ${COMPREPLY[@]}; COMP_WORDS=(iscsictl session ''); COMP_CWORD=2; _iscsictl; "
                  "echo ${COMPREPLY[@]}")
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["target"])
        self.assertEqual(sorted(lines[1].split()), ["list", "logout", "show", "terminate"])


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    for option in ("--daemon", "--harness", "--iscsictl", "--xml", "--completion", "--packaging"):
        parser.add_argument(option, required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
