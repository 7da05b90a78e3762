#!/usr/bin/env python3
"""ih_tool - a small test client for iscsi_handoff.ko, for use inside the VM guest.

It speaks the ISCSI_HANDOFF generic netlink family directly (no libnl), so
it can check the kernel contract without the C++ client:

  ih_tool.py version                 GET_VERSION
  ih_tool.py limits                  GET_LIMITS
  ih_tool.py list                    SESSION_LIST dump (prints one line per session)
  ih_tool.py refusals --target T --tpgt N
                                     HANDOFF requests that must be refused, each with
                                     the errno and the extack message it must carry
  ih_tool.py serve --target T --tpgt N [--port 3260] [--count K] [--initial-r2t yes|no]
                                     [--digest none|crc32c] [--first-burst B] [--max-burst B]
      A minimal login responder standing in for iscsi-targetd: it accepts a
      TCP connection, answers the login (no authentication), hands the socket
      to the kernel with HANDOFF *before* sending the final Login Response
      (the daemon's order), and then forgets the socket. It also answers a
      discovery session's SendTargets=All itself, so open-iscsi can discover.
  ih_tool.py terminate --handle H    SESSION_TERMINATE
  ih_tool.py logout --handle H --deadline S
                                     SESSION_LOGOUT

Exit status is 0 on success and 1 on any failed check, with a message that
names what was expected.
"""
import argparse
import errno
import os
import socket
import struct
import sys

# ---- the uapi contract (kmod-glue/include/uapi/iscsi_handoff.h) ----------
GENL_NAME = b"ISCSI_HANDOFF"
CMD = dict(HANDOFF=1, SESSION_LIST=2, CONN_TERMINATE=3, SESSION_TERMINATE=4,
           SESSION_LOGOUT=5, GET_LIMITS=6, GET_VERSION=7, SET_DISCOVERY_TEXT=10)
A = dict(FD=1, TARGET_NAME=2, TPGT=3, INITIATOR_NAME=4, INITIATOR_ALIAS=5, ISID=6,
         TSIH=7, CID=8, SESSION_TYPE=9, PEER_ADDR=10, LOCAL_ADDR=11, CMDSN=12,
         STATSN=13, EXP_STATSN=14, NEGOTIATED=15, CHAP_USER=16, SESSION_HANDLE=17,
         CONN_HANDLE=18, REASON=19, LOGOUT_DEADLINE=20, SESSION_STATE=21,
         EXP_CMDSN=22, MAX_CMDSN=23, STATS=24, CONNECTIONS=25, CONNECTION=26,
         VERSION_MAJOR=27, VERSION_MINOR=28, VERSION_STRING=29,
         LIMIT_MAX_SESSIONS=30, LIMIT_MAX_CONNECTIONS=31, LIMIT_MAX_DSL=32,
         LIMIT_MAX_BURST=33, LIMIT_QUEUE_DEPTH=34, START_TIME=35, DISCOVERY_TEXT=36)
P = dict(HEADER_DIGEST=1, DATA_DIGEST=2, MAX_RECV_DSL=3, MAX_XMIT_DSL=4,
         MAX_BURST_LENGTH=5, FIRST_BURST_LENGTH=6, INITIAL_R2T=7, IMMEDIATE_DATA=8,
         MAX_OUTSTANDING_R2T=9, DATA_PDU_IN_ORDER=10, DATA_SEQUENCE_IN_ORDER=11,
         ERROR_RECOVERY_LEVEL=12, DEFAULT_TIME2WAIT=13, DEFAULT_TIME2RETAIN=14,
         MAX_CONNECTIONS=15)

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_CAPPED, NLM_F_ACK_TLVS = 0x100, 0x200
GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 0x10, 3, 1, 2
NLA_F_NESTED = 0x8000


def nla(atype, payload):
    hdr = struct.pack("=HH", 4 + len(payload), atype)
    return hdr + payload + b"\0" * ((4 - len(payload) % 4) % 4)


def u8(t, v): return nla(t, struct.pack("=B", v))
def u16(t, v): return nla(t, struct.pack("=H", v))
def u32(t, v): return nla(t, struct.pack("=I", v))
def u64(t, v): return nla(t, struct.pack("=Q", v))
def string(t, s): return nla(t, s.encode() + b"\0")
def nest(t, *parts): return nla(t | NLA_F_NESTED, b"".join(parts))


def parse_attrs(buf):
    out = {}
    off = 0
    while off + 4 <= len(buf):
        ln, t = struct.unpack_from("=HH", buf, off)
        if ln < 4:
            break
        out.setdefault(t & 0x3FFF, buf[off + 4:off + ln])
        off += (ln + 3) & ~3
    return out


class NetlinkError(Exception):
    def __init__(self, err, msg):
        super().__init__(f"{errno.errorcode.get(err, err)}: {msg}")
        self.err = err
        self.msg = msg


class Genl:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.bind((0, 0))
        self.seq = 1
        self.family = self._resolve()

    def _send(self, ftype, flags, cmd, attrs, version=1):
        payload = struct.pack("=BBH", cmd, version, 0) + attrs
        self.seq += 1
        msg = struct.pack("=IHHII", 16 + len(payload), ftype, flags, self.seq, 0) + payload
        self.sock.send(msg)
        return self.seq

    def _recv_all(self, seq):
        """Yields (type, genl attrs) until ACK/DONE; raises NetlinkError on error."""
        while True:
            data = self.sock.recv(1 << 20)
            off = 0
            while off + 16 <= len(data):
                ln, mtype, mflags, mseq, _ = struct.unpack_from("=IHHII", data, off)
                body = data[off + 16:off + ln]
                off += (ln + 3) & ~3
                if mtype == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", body, 0)[0]
                    if err == 0:
                        return
                    msg = ""
                    if mflags & NLM_F_ACK_TLVS:
                        olen = struct.unpack_from("=I", body, 4)[0]
                        tlv_off = 4 + (16 if mflags & NLM_F_CAPPED else olen)
                        tl = parse_attrs(body[tlv_off:])
                        if 1 in tl:
                            msg = tl[1].rstrip(b"\0").decode()
                    raise NetlinkError(err, msg)
                if mtype == NLMSG_DONE:
                    return
                yield mtype, body[4:]

    def _resolve(self):
        seq = self._send(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, CTRL_CMD_GETFAMILY,
                         nla(CTRL_ATTR_FAMILY_NAME, GENL_NAME + b"\0"))
        fam = None
        for _, body in self._recv_all(seq):
            fam = struct.unpack("=H", parse_attrs(body)[CTRL_ATTR_FAMILY_ID][:2])[0]
        if fam is None:
            raise RuntimeError("ISCSI_HANDOFF family not registered (module not loaded?)")
        return fam

    def do(self, cmd, attrs=b""):
        seq = self._send(self.family, NLM_F_REQUEST | NLM_F_ACK, cmd, attrs)
        replies = [parse_attrs(body) for _, body in self._recv_all(seq)]
        return replies[0] if replies else {}

    def dump(self, cmd):
        seq = self._send(self.family, NLM_F_REQUEST | NLM_F_DUMP, cmd, b"")
        return [parse_attrs(body) for _, body in self._recv_all(seq)]


def get_u(attrs, key, fmt):
    return struct.unpack("=" + fmt, attrs[key][:struct.calcsize(fmt)])[0]


# ---- HANDOFF request builder ---------------------------------------------

def negotiated(**kw):
    v = dict(HEADER_DIGEST=0, DATA_DIGEST=0, MAX_RECV_DSL=262144, MAX_XMIT_DSL=262144,
             MAX_BURST_LENGTH=262144, FIRST_BURST_LENGTH=65536, INITIAL_R2T=1,
             IMMEDIATE_DATA=1, MAX_OUTSTANDING_R2T=1, DATA_PDU_IN_ORDER=1,
             DATA_SEQUENCE_IN_ORDER=1, ERROR_RECOVERY_LEVEL=0, DEFAULT_TIME2WAIT=2,
             DEFAULT_TIME2RETAIN=0, MAX_CONNECTIONS=1)
    v.update(kw)
    parts = []
    for k, val in v.items():
        if val is None:
            continue
        if k in ("HEADER_DIGEST", "DATA_DIGEST", "INITIAL_R2T", "IMMEDIATE_DATA",
                 "DATA_PDU_IN_ORDER", "DATA_SEQUENCE_IN_ORDER", "ERROR_RECOVERY_LEVEL"):
            parts.append(u8(P[k], val))
        else:
            parts.append(u32(P[k], val))
    return nest(A["NEGOTIATED"], *parts)


def handoff_attrs(fd, target, tpgt, initiator, isid, tsih, cid, cmdsn, statsn, exp_statsn,
                  neg=None, peer=None, local=None, alias=None, omit=()):
    parts = dict(
        FD=u32(A["FD"], fd), TARGET_NAME=string(A["TARGET_NAME"], target),
        TPGT=u16(A["TPGT"], tpgt), INITIATOR_NAME=string(A["INITIATOR_NAME"], initiator),
        ISID=nla(A["ISID"], isid), TSIH=u16(A["TSIH"], tsih), CID=u16(A["CID"], cid),
        SESSION_TYPE=u8(A["SESSION_TYPE"], 1), CMDSN=u32(A["CMDSN"], cmdsn),
        STATSN=u32(A["STATSN"], statsn), EXP_STATSN=u32(A["EXP_STATSN"], exp_statsn),
        NEGOTIATED=neg if neg is not None else negotiated())
    if alias:
        parts["INITIATOR_ALIAS"] = string(A["INITIATOR_ALIAS"], alias)
    if peer:
        parts["PEER_ADDR"] = nla(A["PEER_ADDR"], peer)
    if local:
        parts["LOCAL_ADDR"] = nla(A["LOCAL_ADDR"], local)
    return b"".join(v for k, v in parts.items() if k not in omit)


def sockaddr_bytes(addr):
    host, port = addr[0], addr[1]
    if ":" in host:
        return struct.pack("=H", socket.AF_INET6) + struct.pack("!HI", port, 0) + \
            socket.inet_pton(socket.AF_INET6, host) + struct.pack("=I", 0)
    return struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + \
        socket.inet_aton(host) + b"\0" * 8


# ---- commands ------------------------------------------------------------

def cmd_version(g, args):
    r = g.do(CMD["GET_VERSION"])
    print("version %d.%d %s" % (get_u(r, A["VERSION_MAJOR"], "I"), get_u(r, A["VERSION_MINOR"], "I"),
                                r[A["VERSION_STRING"]].rstrip(b"\0").decode()))
    return 0 if get_u(r, A["VERSION_MAJOR"], "I") == 1 else 1


def cmd_limits(g, args):
    r = g.do(CMD["GET_LIMITS"])
    for k in ("LIMIT_MAX_SESSIONS", "LIMIT_MAX_CONNECTIONS", "LIMIT_MAX_DSL", "LIMIT_MAX_BURST",
              "LIMIT_QUEUE_DEPTH"):
        print("%s=%d" % (k.lower(), get_u(r, A[k], "I")))
    return 0


def cmd_list(g, args):
    sessions = g.dump(CMD["SESSION_LIST"])
    for s in sessions:
        stats = parse_attrs(s[A["STATS"]])
        neg = parse_attrs(s[A["NEGOTIATED"]])
        print("session handle=%d tsih=%d initiator=%s isid=%s state=%d exp_cmdsn=%d max_cmdsn=%d "
              "commands=%d read=%d written=%d errors=%d in_flight=%d rejects=%d "
              "hd=%d dd=%d mrdsl=%d mxdsl=%d mbl=%d fbl=%d ir2t=%d imm=%d mor2t=%d" % (
                  get_u(s, A["SESSION_HANDLE"], "Q"), get_u(s, A["TSIH"], "H"),
                  s[A["INITIATOR_NAME"]].rstrip(b"\0").decode(), s[A["ISID"]].hex(),
                  get_u(s, A["SESSION_STATE"], "B"), get_u(s, A["EXP_CMDSN"], "I"),
                  get_u(s, A["MAX_CMDSN"], "I"), get_u(stats, 1, "Q"), get_u(stats, 2, "Q"),
                  get_u(stats, 3, "Q"), get_u(stats, 4, "Q"), get_u(stats, 5, "I"),
                  get_u(stats, 7, "Q"), get_u(neg, P["HEADER_DIGEST"], "B"),
                  get_u(neg, P["DATA_DIGEST"], "B"), get_u(neg, P["MAX_RECV_DSL"], "I"),
                  get_u(neg, P["MAX_XMIT_DSL"], "I"), get_u(neg, P["MAX_BURST_LENGTH"], "I"),
                  get_u(neg, P["FIRST_BURST_LENGTH"], "I"), get_u(neg, P["INITIAL_R2T"], "B"),
                  get_u(neg, P["IMMEDIATE_DATA"], "B"), get_u(neg, P["MAX_OUTSTANDING_R2T"], "I")))
    print("sessions=%d" % len(sessions))
    if args.expect is not None and len(sessions) != args.expect:
        print("FAIL: expected %d sessions" % args.expect)
        return 1
    return 0


def expect_refusal(g, name, attrs, want_errno, want_msg_part, cmd="HANDOFF"):
    try:
        g.do(CMD[cmd], attrs)
    except NetlinkError as e:
        ok = e.err == want_errno and want_msg_part.lower() in e.msg.lower()
        print("%s %s: %s (%s)" % ("ok  " if ok else "FAIL", name, errno.errorcode.get(e.err), e.msg))
        return ok
    print("FAIL %s: accepted, expected %s" % (name, errno.errorcode[want_errno]))
    return False


def cmd_refusals(g, args):
    t, n = args.target, args.tpgt
    ini, isid = "iqn.2026-12.org.example:refusal", b"\x80\x12\x34\x56\x78\x9a"
    ok = True
    devnull = os.open("/dev/null", os.O_RDONLY)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    unconnected = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    cli = socket.create_connection(lst.getsockname())
    srv, _ = lst.accept()

    def h(fd, **kw):
        base = dict(fd=fd, target=t, tpgt=n, initiator=ini, isid=isid, tsih=7, cid=0, cmdsn=1,
                    statsn=1, exp_statsn=1)
        base.update(kw)
        return handoff_attrs(**base)

    ok &= expect_refusal(g, "closed fd", h(9999), errno.EBADF, "not an open file")
    ok &= expect_refusal(g, "not a socket", h(devnull), errno.ENOTSOCK, "not a socket")
    ok &= expect_refusal(g, "UDP socket", h(udp.fileno()), errno.EPROTONOSUPPORT, "not a TCP")
    ok &= expect_refusal(g, "unconnected TCP", h(unconnected.fileno()), errno.ENOTCONN, "not connected")
    ok &= expect_refusal(g, "unknown target", h(srv.fileno(), target="iqn.2026-12.org.example:nope"),
                         errno.ENOENT, "no such target")
    ok &= expect_refusal(g, "unknown tpgt", h(srv.fileno(), tpgt=n + 1), errno.ENOENT, "no such target")
    ok &= expect_refusal(g, "target not an iSCSI name", h(srv.fileno(), target="Bad Name"),
                         errno.EINVAL, "not an iSCSI name")
    ok &= expect_refusal(g, "tpgt 0", h(srv.fileno(), tpgt=0), errno.ERANGE, "")
    ok &= expect_refusal(g, "tsih 0", h(srv.fileno(), tsih=0), errno.ERANGE, "")
    ok &= expect_refusal(g, "ISID too short", h(srv.fileno(), isid=b"\x80\x00"), errno.ERANGE, "size")
    ok &= expect_refusal(g, "FirstBurstLength > MaxBurstLength",
                         h(srv.fileno(), neg=negotiated(FIRST_BURST_LENGTH=262144, MAX_BURST_LENGTH=65536)),
                         errno.EINVAL, "FirstBurstLength")
    ok &= expect_refusal(g, "MRDSL below 512", h(srv.fileno(), neg=negotiated(MAX_RECV_DSL=100)),
                         errno.ERANGE, "")
    ok &= expect_refusal(g, "MRDSL above module limit",
                         h(srv.fileno(), neg=negotiated(MAX_RECV_DSL=16777215)), errno.ERANGE, "limit")
    ok &= expect_refusal(g, "ERL 1", h(srv.fileno(), neg=negotiated(ERROR_RECOVERY_LEVEL=1)),
                         errno.EOPNOTSUPP, "ErrorRecoveryLevel")
    ok &= expect_refusal(g, "ERL 3", h(srv.fileno(), neg=negotiated(ERROR_RECOVERY_LEVEL=3)),
                         errno.ERANGE, "")
    ok &= expect_refusal(g, "digest 2", h(srv.fileno(), neg=negotiated(HEADER_DIGEST=2)), errno.ERANGE, "")
    ok &= expect_refusal(g, "missing MaxConnections",
                         h(srv.fileno(), neg=negotiated(MAX_CONNECTIONS=None)), errno.EINVAL, "MaxConnections")
    ok &= expect_refusal(g, "missing FD", handoff_attrs(srv.fileno(), t, n, ini, isid, 7, 0, 1, 1, 1,
                                                        omit=("FD",)), errno.EINVAL, "missing")
    ok &= expect_refusal(g, "unknown session handle", u64(A["SESSION_HANDLE"], 0xdeadbeef),
                         errno.ENOENT, "no live session", cmd="SESSION_TERMINATE")
    ok &= expect_refusal(g, "handle 0", u64(A["SESSION_HANDLE"], 0), errno.ERANGE, "",
                         cmd="SESSION_TERMINATE")
    if args.no_acl_initiator:
        ok &= expect_refusal(g, "initiator without ACL (demo mode off)",
                             h(srv.fileno(), initiator=args.no_acl_initiator), errno.EACCES, "no node ACL")
    for s in (udp, unconnected, cli, srv, lst):
        s.close()
    os.close(devnull)
    print("refusals: %s" % ("all ok" if ok else "FAILED"))
    return 0 if ok else 1


def cmd_terminate(g, args):
    g.do(CMD["SESSION_TERMINATE"], u64(A["SESSION_HANDLE"], args.handle))
    return 0


def cmd_discovery_text(g, args):
    """SET_DISCOVERY_TEXT: key=value pairs given one per argument, NUL-separated on the wire."""
    text = b"".join(kv.encode() + b"\0" for kv in args.pairs)
    g.do(CMD["SET_DISCOVERY_TEXT"], string(A["TARGET_NAME"], args.target) + u16(A["TPGT"], args.tpgt) +
         nla(A["DISCOVERY_TEXT"], text))
    return 0


def cmd_logout(g, args):
    g.do(CMD["SESSION_LOGOUT"], u64(A["SESSION_HANDLE"], args.handle) +
         u32(A["LOGOUT_DEADLINE"], args.deadline))
    return 0


# ---- a minimal login responder (stands in for iscsi-targetd) --------------

def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed during login")
        buf += chunk
    return buf


def recv_pdu(s):
    bhs = recv_exact(s, 48)
    ahs = bhs[4] * 4
    dlen = int.from_bytes(bhs[5:8], "big")
    rest = recv_exact(s, ahs + dlen + ((4 - dlen % 4) % 4))
    return bhs, rest[ahs:ahs + dlen]


def keys_of(data):
    out = {}
    for kv in data.split(b"\0"):
        if b"=" in kv:
            k, v = kv.split(b"=", 1)
            out[k.decode()] = v.decode()
    return out


def text_of(pairs):
    return b"".join(("%s=%s" % kv).encode() + b"\0" for kv in pairs)


def send_pdu(s, bhs, data=b""):
    bhs = bytearray(bhs)
    bhs[5:8] = len(data).to_bytes(3, "big")
    s.sendall(bytes(bhs) + data + b"\0" * ((4 - len(data) % 4) % 4))


class LoginState:
    def __init__(self, args):
        self.args = args
        self.statsn = 0x1000
        self.keys = {}
        self.answers = {}


def negotiate_operational(st, k):
    a = st.args
    ans = []
    neg = {}
    for key, val in k.items():
        if key in ("InitiatorName", "InitiatorAlias", "SessionType", "TargetName", "AuthMethod"):
            continue
        if key == "HeaderDigest" or key == "DataDigest":
            want = "CRC32C" if a.digest == "crc32c" and "CRC32C" in val.split(",") else "None"
            ans.append((key, want))
            neg[key] = 1 if want == "CRC32C" else 0
        elif key == "MaxRecvDataSegmentLength":
            neg["xmit"] = int(val)	# declarative: the initiator's receive limit
        elif key == "MaxBurstLength":
            v = min(int(val), a.max_burst)
            ans.append((key, str(v)))
            neg["mbl"] = v
        elif key == "FirstBurstLength":
            v = min(int(val), a.first_burst)
            ans.append((key, str(v)))
            neg["fbl"] = v
        elif key == "InitialR2T":
            v = "Yes" if (val == "Yes" or a.initial_r2t == "yes") else "No"
            ans.append((key, v))
            neg["ir2t"] = v == "Yes"
        elif key == "ImmediateData":
            v = "Yes" if (val == "Yes" and a.immediate_data == "yes") else "No"
            ans.append((key, v))
            neg["imm"] = v == "Yes"
        elif key == "MaxConnections":
            ans.append((key, "1"))
        elif key == "MaxOutstandingR2T":
            v = min(int(val), a.max_r2t)
            ans.append((key, str(v)))
            neg["mor2t"] = v
        elif key in ("DataPDUInOrder", "DataSequenceInOrder"):
            ans.append((key, "Yes"))
        elif key == "ErrorRecoveryLevel":
            ans.append((key, "0"))
        elif key == "DefaultTime2Wait":
            ans.append((key, str(max(int(val), 2))))
        elif key == "DefaultTime2Retain":
            ans.append((key, "0"))
        elif key in ("IFMarker", "OFMarker"):
            ans.append((key, "No"))
        else:
            ans.append((key, "NotUnderstood"))
    return ans, neg


def serve_one(g, conn, args, tsih):
    st = LoginState(args)
    neg = dict(xmit=8192, mbl=262144, fbl=65536, ir2t=True, imm=True, mor2t=1)
    neg["HeaderDigest"] = neg["DataDigest"] = 0
    allkeys = {}
    while True:
        bhs, data = recv_pdu(conn)
        op = bhs[0] & 0x3F
        if op == 0x04:	# Text (discovery session): SendTargets
            itt = bhs[16:20]
            # The portal the initiator reached (RFC 7143 s.13.8 TargetAddress).
            here = conn.getsockname()
            body = text_of([("TargetName", args.target),
                            ("TargetAddress", "%s:%d,%d" % (here[0], here[1], args.tpgt))])
            rsp = bytearray(48)
            rsp[0], rsp[1] = 0x24, 0x80
            rsp[16:20] = itt
            rsp[20:24] = b"\xff\xff\xff\xff"
            rsp[24:28] = st.statsn.to_bytes(4, "big")
            st.statsn += 1
            cmdsn = int.from_bytes(bhs[24:28], "big")
            rsp[28:32] = (cmdsn + 1).to_bytes(4, "big")
            rsp[32:36] = (cmdsn + 8).to_bytes(4, "big")
            send_pdu(conn, rsp, body)
            continue
        if op == 0x06:	# Logout of a discovery session
            rsp = bytearray(48)
            rsp[0], rsp[1] = 0x26, 0x80
            rsp[16:20] = bhs[16:20]
            rsp[24:28] = st.statsn.to_bytes(4, "big")
            cmdsn = int.from_bytes(bhs[24:28], "big")
            rsp[28:32] = (cmdsn + 1).to_bytes(4, "big")
            rsp[32:36] = (cmdsn + 8).to_bytes(4, "big")
            send_pdu(conn, rsp)
            conn.close()
            return None
        if op != 0x03:
            raise RuntimeError("unexpected opcode 0x%02x during login" % op)
        flags = bhs[1]
        transit, csg, nsg = flags & 0x80, (flags >> 2) & 3, flags & 3
        k = keys_of(data)
        allkeys.update(k)
        if args.verbose:
            print("login pdu flags=0x%02x keys=%s" % (bhs[1], k), flush=True)
        isid, itt, cid = bhs[8:14], bhs[16:20], int.from_bytes(bhs[20:22], "big")
        cmdsn, exp_statsn = int.from_bytes(bhs[24:28], "big"), int.from_bytes(bhs[28:32], "big")
        ans = []
        if csg == 0:
            if "AuthMethod" in k:
                ans.append(("AuthMethod", "None"))
            if allkeys.get("SessionType", "Normal") == "Normal" and "TargetName" in k:
                ans.append(("TargetPortalGroupTag", str(args.tpgt)))
        ops, n = negotiate_operational(st, k)
        ans += ops
        neg.update(n)
        final = transit and nsg == 3
        rsp = bytearray(48)
        rsp[0] = 0x23
        rsp[1] = (0x80 if transit else 0) | (csg << 2) | (nsg if transit else 0)
        rsp[8:14] = isid
        rsp[16:20] = itt
        rsp[24:28] = st.statsn.to_bytes(4, "big")
        rsp[28:32] = cmdsn.to_bytes(4, "big")
        rsp[32:36] = cmdsn.to_bytes(4, "big")
        body = text_of(ans)
        if final and allkeys.get("SessionType", "Normal") == "Discovery":
            rsp[14:16] = (0x8000 | tsih).to_bytes(2, "big")
            send_pdu(conn, rsp, body)
            st.statsn += 1
            continue
        if not final:
            send_pdu(conn, rsp, body)
            st.statsn += 1
            continue
        # Final response of a Normal session: hand off FIRST, then send it.
        rsp[14:16] = tsih.to_bytes(2, "big")
        nego = negotiated(HEADER_DIGEST=neg["HeaderDigest"], DATA_DIGEST=neg["DataDigest"],
                          MAX_RECV_DSL=262144, MAX_XMIT_DSL=neg["xmit"],
                          MAX_BURST_LENGTH=neg["mbl"], FIRST_BURST_LENGTH=min(neg["fbl"], neg["mbl"]),
                          INITIAL_R2T=int(neg["ir2t"]), IMMEDIATE_DATA=int(neg["imm"]),
                          MAX_OUTSTANDING_R2T=neg["mor2t"])
        r = g.do(CMD["HANDOFF"], handoff_attrs(
            conn.fileno(), allkeys.get("TargetName", args.target), args.tpgt,
            allkeys["InitiatorName"], bytes(isid), tsih, cid, cmdsn, st.statsn + 1, exp_statsn,
            neg=nego, peer=sockaddr_bytes(conn.getpeername()),
            local=sockaddr_bytes(conn.getsockname()), alias=allkeys.get("InitiatorAlias")))
        # Our own MRDSL is declared to the initiator (RFC 7143 s.13.12).
        body = text_of(ans + [("MaxRecvDataSegmentLength", "262144")])
        send_pdu(conn, rsp, body)
        handle = get_u(r, A["SESSION_HANDLE"], "Q")
        print("handed off tsih=%d cid=%d initiator=%s session_handle=%d conn_handle=%d" % (
            tsih, cid, allkeys["InitiatorName"], handle, get_u(r, A["CONN_HANDLE"], "Q")), flush=True)
        conn.close()	# the kernel holds its own reference on the socket
        return handle


def cmd_serve(g, args):
    """One thread per connection: an initiator may keep its discovery session
    open while it logs in elsewhere (iscsi-ls does)."""
    import threading
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((args.bind, args.port))
    lst.listen(16)
    print("READY port %d" % args.port, flush=True)
    lock = threading.Lock()	# the netlink socket and the TSIH counter
    state = dict(tsih=1, served=0)

    class LockedGenl:
        def do(self, *a):
            with lock:
                return g.do(*a)

    def one(conn):
        with lock:
            tsih = state["tsih"]
            state["tsih"] += 1
        try:
            if serve_one(LockedGenl(), conn, args, tsih) is not None:
                with lock:
                    state["served"] += 1
        except NetlinkError as e:
            print("HANDOFF refused: %s" % e, flush=True)
            conn.close()
        except (ConnectionError, RuntimeError, OSError, KeyError) as e:
            print("login failed: %s" % e, flush=True)
            conn.close()

    threads = []
    while args.count == 0 or state["served"] < args.count:
        lst.settimeout(1.0)
        try:
            conn, _ = lst.accept()
        except socket.timeout:
            continue
        conn.settimeout(None)
        t = threading.Thread(target=one, args=(conn,), daemon=True)
        t.start()
        threads.append(t)
        if args.count:
            t.join()	# counted runs stay sequential and deterministic
    lst.close()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("version")
    sub.add_parser("limits")
    p = sub.add_parser("list")
    p.add_argument("--expect", type=int)
    p = sub.add_parser("refusals")
    p.add_argument("--target", required=True)
    p.add_argument("--tpgt", type=int, default=1)
    p.add_argument("--no-acl-initiator")
    p = sub.add_parser("serve")
    p.add_argument("--target", required=True)
    p.add_argument("--tpgt", type=int, default=1)
    p.add_argument("--port", type=int, default=3260)
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--count", type=int, default=0, help="Normal sessions to serve, 0 = forever")
    p.add_argument("--initial-r2t", choices=("yes", "no"), default="yes")
    p.add_argument("--immediate-data", choices=("yes", "no"), default="yes")
    p.add_argument("--digest", choices=("none", "crc32c"), default="none")
    p.add_argument("--first-burst", type=int, default=65536)
    p.add_argument("--max-burst", type=int, default=262144)
    p.add_argument("--max-r2t", type=int, default=1)
    p.add_argument("--verbose", action="store_true")
    p = sub.add_parser("discovery-text")
    p.add_argument("--target", required=True)
    p.add_argument("--tpgt", type=int, default=1)
    p.add_argument("pairs", nargs="*", help="key=value, e.g. TargetName=iqn... TargetAddress=*:3260,1")
    p = sub.add_parser("terminate")
    p.add_argument("--handle", type=int, required=True)
    p = sub.add_parser("logout")
    p.add_argument("--handle", type=int, required=True)
    p.add_argument("--deadline", type=int, default=5)
    args = ap.parse_args()
    g = Genl()
    try:
        return globals()["cmd_" + args.cmd.replace("-", "_")](g, args)
    except NetlinkError as e:
        print("error: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
