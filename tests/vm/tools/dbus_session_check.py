#!/usr/bin/env python3
"""dbus_session_check - compares what iscsictl says about a live session with
what the initiator (open-iscsi, in the same guest) negotiated, and checks the
D-Bus signals a subscriber recorded. Used by scenarios/handoff-dbus.sh.

  dbus_session_check.py session --list L.json --show S.json --connections C.json
                                --iscsiadm P3.txt --socket LOCAL,PEER --logins W.jsonl
      L.json: `iscsictl session list --json`; S.json: `iscsictl session show
      TSIH --json`; C.json: `iscsictl connection list --json`; P3.txt:
      `iscsiadm -m session -P 3`; LOCAL,PEER: the initiator's TCP socket as
      `ss` shows it (address:port each); W.jsonl: the Login PDUs on the wire
      (login_sniff.py), for the ISID sent and the TSIH received, which
      open-iscsi shows nowhere. The initiator's iSCSI sysfs is read directly.
  dbus_session_check.py signals --monitor M.jsonl --session PATH --phase added|removed
      M.jsonl: `busctl monitor --json=short` output; PATH: the session's
      object path. "added": InterfacesAdded for the session (interface
      org.iscsictl.target1.Session) and for each of its connections
      (org.iscsictl.target1.Connection); "removed": InterfacesRemoved for both.

Every mismatch is printed with both sides; exit status 1 if there is any.
"""
import argparse
import glob
import json
import os
import re
import sys

SESSION_IF = "org.iscsictl.target1.Session"
CONNECTION_IF = "org.iscsictl.target1.Connection"
problems = []
# Counters and sequence numbers: they move with every command and NOP.
MOVING = {"Commands", "ReadBytes", "WriteBytes", "Errors", "DigestErrors", "Rejects", "InFlight", "StatSN",
          "ExpCmdSN", "MaxCmdSN"}


def check(what, ours, theirs, names=("iscsictl says", "the initiator")):
    """ours: iscsictl's value; theirs: the initiator's (or names[1]'s)."""
    if ours != theirs:
        problems.append(f"{what}: {names[0]} {ours!r}, {names[1]} {theirs!r}")
    else:
        print(f"  ok {what} = {ours!r}")


def load(path):
    with open(path) as f:
        return json.load(f)


def read_sysfs(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def parse_iscsiadm(text):
    """The fields of `iscsiadm -m session -P 3` for the one session listed."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"\s*([A-Za-z][A-Za-z0-9 ]*?):\s*(.*?)\s*$", line)
        if m and m.group(1) not in out:
            out[m.group(1)] = m.group(2)
    return out


def yes_no(text):
    return {"Yes": True, "No": False}.get(text, text)


def split_endpoint(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def cmd_session(args):
    sessions = load(args.list)
    if len(sessions) != 1:
        problems.append(f"iscsictl session list shows {len(sessions)} sessions, expected 1")
        return None
    s = sessions[0]
    shown = load(args.show)
    # Counters and sequence numbers move between the two calls (NOP-Out/In).
    moving = MOVING

    def steady(entry):
        out = {k: v for k, v in entry.items() if k not in moving}
        out["Connections"] = [{k: v for k, v in c.items() if k not in moving} for c in entry.get("Connections", [])]
        return out
    check("session show --json equals the list entry (but counters)", steady(shown), steady(s))
    with open(args.iscsiadm) as f:
        p3 = parse_iscsiadm(f.read())

    # The initiator's own session, as the kernel's iSCSI transport class shows it.
    sysfs = sorted(glob.glob("/sys/class/iscsi_session/session*"))
    if len(sysfs) != 1:
        problems.append(f"the initiator has {len(sysfs)} sessions in sysfs, expected 1")
        return None
    ses = sysfs[0]
    print(f"initiator session {os.path.basename(ses)}; iscsictl session TSIH {s.get('Tsih')}")

    check("TargetName", s["TargetName"], read_sysfs(ses + "/targetname"))
    check("TargetName (iscsiadm Target)", s["TargetName"], p3.get("Target", "").split(" ")[0])
    check("InitiatorName", s["InitiatorName"], read_sysfs(ses + "/initiatorname"))
    check("InitiatorName (iscsiadm)", s["InitiatorName"], p3.get("Iface Initiatorname"))
    check("Tpgt", s["Tpgt"], int(read_sysfs(ses + "/tpgt")))
    check("State", s["State"], "active")
    # RFC 7143 s.11.12/s.11.13: the ISID the initiator sent and the TSIH the
    # final Login Response gave it, as they crossed the wire.
    local, peer = args.socket.split(",")
    ini_port = split_endpoint(local)[1]
    logins = [json.loads(line) for line in open(args.logins) if line.startswith("{")]
    logins = [r for r in logins if r.get("initiator_port") == ini_port]
    requests = [r for r in logins if r["pdu"] == "request"]
    final = [r for r in logins if r["pdu"] == "response" and r["transit"] and r["nsg"] == 3 and r["status"] == 0]
    if not requests or len(final) != 1:
        problems.append(f"the capture has {len(requests)} Login Requests and {len(final)} successful final Login "
                        f"Responses from port {ini_port}, expected at least 1 and exactly 1")
    else:
        check("Isid (the initiator's Login Request)", s["Isid"], "0x" + requests[0]["isid"])
        check("Tsih (the final Login Response)", s["Tsih"], final[0]["tsih"])
        check("Cid (the initiator's Login Request)", s["Connections"][0]["Cid"] if s["Connections"] else None,
              requests[0]["cid"])
        # open-iscsi's ISID: its OUI-format prefix 00023d and the session's SID (iscsiadm "SID: N").
        if "SID" in p3:
            check("Isid (open-iscsi's 00023d + SID)", s["Isid"], "0x00023d%06x" % int(p3["SID"]))

    # Session-wide negotiated values (RFC 7143 s.13), as iscsiadm reports them.
    check("MaxBurstLength", s["MaxBurstLength"], int(p3["MaxBurstLength"]))
    check("FirstBurstLength", s["FirstBurstLength"], int(p3["FirstBurstLength"]))
    check("ImmediateData", s["ImmediateData"], yes_no(p3["ImmediateData"]))
    check("InitialR2T", s["InitialR2T"], yes_no(p3["InitialR2T"]))
    check("MaxOutstandingR2T", s["MaxOutstandingR2T"], int(p3["MaxOutstandingR2T"]))
    for key, attr in (("DataPDUInOrder", "data_pdu_in_order"), ("DataSequenceInOrder", "data_seq_in_order")):
        value = read_sysfs(f"{ses}/{attr}")
        if value is not None:
            check(key, s[key], value == "1")
    value = read_sysfs(ses + "/erl")
    if value is not None:
        check("ErrorRecoveryLevel", s["ErrorRecoveryLevel"], int(value))

    # The one connection.
    if len(s["Connections"]) != 1:
        problems.append(f"the session has {len(s['Connections'])} connections, expected 1")
        return None
    c = s["Connections"][0]
    connections = load(args.connections)
    if len(connections) != 1:
        problems.append(f"iscsictl connection list shows {len(connections)} connections, expected 1")
    else:
        listed = connections[0]
        for key, value in c.items():
            if key not in moving:
                check(f"connection list {key}", listed.get(key), value)
        check("connection list Tsih", listed.get("Tsih"), s["Tsih"])
        check("connection list TargetName", listed.get("TargetName"), s["TargetName"])
    check("connection State", c["State"], "full-feature")
    # open-iscsi's first connection has CID 0 (iscsid's conn->id).
    conns = sorted(glob.glob("/sys/class/iscsi_connection/connection*"))
    check("Cid", c["Cid"], int(os.path.basename(conns[0]).split(":")[-1]) if conns else None)
    ini_addr, ini_port = split_endpoint(local)
    tgt_addr, tgt_port = split_endpoint(peer)
    # The target's peer is the initiator's local end, and the other way round.
    check("PeerAddress", c["PeerAddress"], ini_addr)
    check("PeerPort", c["PeerPort"], ini_port)
    check("LocalAddress", c["LocalAddress"], tgt_addr)
    check("LocalPort", c["LocalPort"], tgt_port)
    portal = p3.get("Current Portal", "")
    m = re.match(r"\[?([^\]]*?)\]?:(\d+),(\d+)$", portal)
    if not m:
        problems.append(f"iscsiadm's Current Portal {portal!r} is not address:port,tpgt")
    else:
        check("LocalAddress (iscsiadm Current Portal)", c["LocalAddress"], m.group(1))
        check("LocalPort (iscsiadm Current Portal)", c["LocalPort"], int(m.group(2)))
        check("Tpgt (iscsiadm Current Portal)", s["Tpgt"], int(m.group(3)))
    check("PeerAddress (iscsiadm Iface IPaddress)", c["PeerAddress"], p3.get("Iface IPaddress"))
    check("HeaderDigest", c["HeaderDigest"], p3["HeaderDigest"])
    check("DataDigest", c["DataDigest"], p3["DataDigest"])
    # The target's MaxRecvDataSegmentLength is what the initiator may send,
    # its MaxXmit... what the initiator declared it can receive.
    check("MaxRecvDataSegmentLength (initiator's MaxXmit)", c["MaxRecvDataSegmentLength"],
          int(p3["MaxXmitDataSegmentLength"]))
    check("MaxXmitDataSegmentLength (initiator's MaxRecv)", c["MaxXmitDataSegmentLength"],
          int(p3["MaxRecvDataSegmentLength"]))
    return s


def signals(path):
    """(member, object path, interfaces) for each ObjectManager signal recorded."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue
            member = message.get("member")
            if message.get("type") != "signal" or member not in ("InterfacesAdded", "InterfacesRemoved"):
                continue
            data = message.get("payload", {}).get("data", [])
            if len(data) < 2:
                continue
            if isinstance(data[1], dict):
                # busctl --json=short: {"Iface": {"Prop": {"type": .., "data": ..}}}
                interfaces = {i: {k: v.get("data") if isinstance(v, dict) else v for k, v in props.items()}
                              for i, props in data[1].items()}
            else:
                interfaces = {i: {} for i in data[1]}
            out.append((member, data[0], interfaces))
    return out


def cmd_signals(args):
    seen = signals(args.monitor)
    for member, path, interfaces in seen:
        print(f"  {member} {path} {sorted(interfaces)}")
    if args.list:
        # What InterfacesAdded announced must be what the service says later:
        # its constant properties get no PropertiesChanged to correct them.
        session = load(args.list)[0]
        wanted = {session["Path"]: (SESSION_IF, session)}
        for c in session["Connections"]:
            wanted[c["Path"]] = (CONNECTION_IF, c)
        for member, path, interfaces in seen:
            if member != "InterfacesAdded" or path not in wanted:
                continue
            interface, entry = wanted[path]
            for key, value in interfaces.get(interface, {}).items():
                if key in entry and key not in MOVING and not isinstance(entry[key], (list, dict)):
                    check(f"{interface.rsplit('.', 1)[-1]} {key}", value, entry[key],
                          ("InterfacesAdded announced", "iscsictl shows later"))
    member = "InterfacesAdded" if args.phase == "added" else "InterfacesRemoved"
    session = [(p, i) for m, p, i in seen if m == member and p == args.session]
    if not any(SESSION_IF in i for _, i in session):
        problems.append(f"no {member} for {args.session} with {SESSION_IF}")
    connections = [(p, i) for m, p, i in seen if m == member and p.startswith(args.session + "/")]
    if not any(CONNECTION_IF in i for _, i in connections):
        problems.append(f"no {member} for a connection under {args.session} with {CONNECTION_IF}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("session")
    p.add_argument("--list", required=True)
    p.add_argument("--show", required=True)
    p.add_argument("--connections", required=True)
    p.add_argument("--iscsiadm", required=True)
    p.add_argument("--socket", required=True)
    p.add_argument("--logins", required=True)
    p = sub.add_parser("signals")
    p.add_argument("--monitor", required=True)
    p.add_argument("--session", required=True)
    p.add_argument("--phase", choices=("added", "removed"), required=True)
    p.add_argument("--list", help="iscsictl session list --json: InterfacesAdded must agree with it")
    args = parser.parse_args()
    if args.command == "session":
        cmd_session(args)
    else:
        cmd_signals(args)
    for problem in problems:
        print("MISMATCH: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
