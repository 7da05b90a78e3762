#!/usr/bin/env python3
"""ih_fault - send malformed PDUs to an iscsi_handoff target after login.

Each case logs in afresh (through `ih_tool.py serve`, which hands the socket
to the kernel), sends one kind of bad input and checks the RFC 7143 answer:

  nop            NOP-Out ping with data -> NOP-In echoing it (s.11.18/11.19)
  bad-opcode     opcode 0x1a -> Reject "command not supported" (s.11.17.1), connection stays
  too-long       DataSegmentLength > MaxRecvDataSegmentLength -> Reject "protocol error", close
  login-in-ffp   Login Request in the FFP -> Reject "protocol error", close
  stray-data     Data-Out for an unknown ITT -> ignored, connection stays (NOP still answered)
  bad-datasn     solicited Data-Out with a wrong DataSN (and F) -> the task ends in CHECK CONDITION,
                 ABORTED COMMAND / protocol service CRC error (47h/05h), connection stays
  datasn-waits   the same error in the middle of a burst: no answer until the burst's last
                 Data-Out (F bit), then that CHECK CONDITION; connection stays
  bad-offset     solicited Data-Out beyond the R2T's range -> Reject "protocol error", close
  cmdsn-window   SCSI command with CmdSN beyond MaxCmdSN -> silently ignored (s.4.2.2.1)
  immediate-w-nodata  READ with immediate data -> Reject "protocol error", connection stays
  logout         Logout (close session) -> Logout Response "success", then close

Usage: ih_fault.py --target IQN [--port 3260] [case ...]   (default: every case)
Exit 0 when every case got its expected answer.
"""
import argparse
import socket
import struct
import sys

OP_NOP_OUT, OP_SCSI, OP_LOGIN, OP_DATA_OUT, OP_LOGOUT = 0x00, 0x01, 0x03, 0x05, 0x06
OP_NOP_IN, OP_SCSI_RSP, OP_LOGIN_RSP, OP_LOGOUT_RSP, OP_R2T, OP_REJECT = 0x20, 0x21, 0x23, 0x26, 0x31, 0x3F


def pad(b):
    return b + b"\0" * ((4 - len(b) % 4) % 4)


def pdu(bhs, data=b""):
    bhs = bytearray(bhs)
    bhs[5:8] = len(data).to_bytes(3, "big")
    return bytes(bhs) + pad(data)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        c = s.recv(n - len(buf))
        if not c:
            raise ConnectionError("closed")
        buf += c
    return buf


def recv_pdu(s, timeout=5.0):
    s.settimeout(timeout)
    bhs = recv_exact(s, 48)
    dlen = int.from_bytes(bhs[5:8], "big")
    data = recv_exact(s, bhs[4] * 4 + dlen + ((4 - dlen % 4) % 4))
    return bhs, data[bhs[4] * 4:bhs[4] * 4 + dlen]


class Session:
    def __init__(self, args, isid_tail):
        self.s = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        self.itt = 0x100
        keys = [("InitiatorName", "iqn.2026-12.org.example:fault"), ("TargetName", args.target),
                ("SessionType", "Normal"), ("AuthMethod", "None")]
        bhs = bytearray(48)
        bhs[0] = OP_LOGIN | 0x40
        bhs[1] = 0x80 | (0 << 2) | 1	# T, CSG security -> NSG operational
        bhs[8:14] = bytes([0x80, 0, 0, 0, 0, isid_tail])
        bhs[16:20] = (1).to_bytes(4, "big")
        bhs[24:28] = (10).to_bytes(4, "big")
        self.s.sendall(pdu(bhs, b"".join(("%s=%s" % kv).encode() + b"\0" for kv in keys)))
        rsp, _ = recv_pdu(self.s)
        assert rsp[0] & 0x3F == OP_LOGIN_RSP and rsp[36] == 0, "security stage refused"
        ops = [("HeaderDigest", "None"), ("DataDigest", "None"), ("MaxRecvDataSegmentLength", "8192"),
               ("InitialR2T", "Yes"), ("ImmediateData", "Yes"), ("MaxBurstLength", "16384"),
               ("FirstBurstLength", "8192"), ("MaxOutstandingR2T", "1"), ("ErrorRecoveryLevel", "0")]
        bhs[1] = 0x80 | (1 << 2) | 3
        bhs[28:32] = (int.from_bytes(rsp[24:28], "big") + 1).to_bytes(4, "big")
        self.s.sendall(pdu(bhs, b"".join(("%s=%s" % kv).encode() + b"\0" for kv in ops)))
        rsp, data = recv_pdu(self.s)
        assert rsp[0] & 0x3F == OP_LOGIN_RSP and rsp[36] == 0 and rsp[1] & 0x80, "login refused"
        self.cmdsn = 10
        self.statsn = int.from_bytes(rsp[24:28], "big") + 1
        self.max_cmdsn = int.from_bytes(rsp[32:36], "big")

    def bhs(self, op, immediate=False):
        b = bytearray(48)
        b[0] = op | (0x40 if immediate else 0)
        self.itt += 1
        b[16:20] = self.itt.to_bytes(4, "big")
        b[28:32] = self.statsn.to_bytes(4, "big")
        return b

    def nop(self, data=b"ping"):
        b = self.bhs(OP_NOP_OUT, immediate=True)
        b[1] = 0x80
        b[20:24] = b"\xff\xff\xff\xff"
        b[24:28] = self.cmdsn.to_bytes(4, "big")
        self.s.sendall(pdu(b, data))
        return b

    def write10(self, lba, blocks, edtl, immediate=b"", final=True):
        b = self.bhs(OP_SCSI)
        b[1] = (0x80 if final else 0) | 0x20 | 1
        b[20:24] = edtl.to_bytes(4, "big")
        b[24:28] = self.cmdsn.to_bytes(4, "big")
        self.cmdsn += 1
        b[32] = 0x2A
        b[34:38] = lba.to_bytes(4, "big")
        b[39:41] = blocks.to_bytes(2, "big")
        self.s.sendall(pdu(b, immediate))
        return b

    def expect(self, op, what):
        while True:
            bhs, data = recv_pdu(self.s)
            if bhs[0] & 0x3F == op:
                return bhs, data
            raise AssertionError("%s: got opcode 0x%02x" % (what, bhs[0] & 0x3F))

    def expect_closed(self, what):
        try:
            self.s.settimeout(5)
            while self.s.recv(4096):
                pass
        except socket.timeout:
            raise AssertionError("%s: connection still open" % what)
        except ConnectionError:
            pass

    def still_alive(self, what):
        self.nop(b"alive")
        bhs, data = self.expect(OP_NOP_IN, what)
        assert data == b"alive", "%s: NOP-In did not echo the ping data" % what


def case_nop(s):
    s.nop(b"hello iscsi")
    bhs, data = s.expect(OP_NOP_IN, "nop")
    assert data == b"hello iscsi" and bhs[20:24] == b"\xff\xff\xff\xff", "NOP-In must echo data, TTT ffffffff"


def case_bad_opcode(s):
    b = s.bhs(0x1A)
    s.s.sendall(pdu(b))
    bhs, data = s.expect(OP_REJECT, "bad-opcode")
    assert bhs[2] == 0x05 and data[:48] == bytes(b), "Reject reason 5 with the BHS"
    s.still_alive("bad-opcode")


def case_too_long(s):
    b = s.bhs(OP_NOP_OUT, immediate=True)
    b[1] = 0x80
    b[5:8] = (300000).to_bytes(3, "big")	# beyond our 262144
    s.s.sendall(bytes(b))
    bhs, _ = s.expect(OP_REJECT, "too-long")
    assert bhs[2] == 0x04, "Reject reason protocol error"
    s.expect_closed("too-long")


def case_login_in_ffp(s):
    b = s.bhs(OP_LOGIN, immediate=True)
    s.s.sendall(pdu(b))
    bhs, _ = s.expect(OP_REJECT, "login-in-ffp")
    assert bhs[2] == 0x04
    s.expect_closed("login-in-ffp")


def case_stray_data(s):
    b = s.bhs(OP_DATA_OUT)
    b[1] = 0x80
    b[16:20] = (0xABCDEF).to_bytes(4, "big")
    b[20:24] = (77).to_bytes(4, "big")
    s.s.sendall(pdu(b, b"x" * 512))
    s.still_alive("stray-data")


def solicited(s, datasn, offset):
    s.write10(0, 4, 2048, immediate=b"", final=True)
    r2t, _ = s.expect(OP_R2T, "R2T")
    ttt = r2t[20:24]
    b = bytearray(48)
    b[0] = OP_DATA_OUT
    b[1] = 0x80
    b[16:20] = r2t[16:20]
    b[20:24] = ttt
    b[36:40] = datasn.to_bytes(4, "big")
    b[40:44] = offset.to_bytes(4, "big")
    s.s.sendall(pdu(b, b"d" * 512))


def data_out(s, r2t, datasn, offset, data, final):
    b = bytearray(48)
    b[0] = OP_DATA_OUT
    b[1] = 0x80 if final else 0
    b[16:20] = r2t[16:20]
    b[20:24] = r2t[20:24]
    b[36:40] = datasn.to_bytes(4, "big")
    b[40:44] = offset.to_bytes(4, "big")
    s.s.sendall(pdu(b, data))


def expect_crc_condition(s, what):
    """RFC 7143 "Sequence Errors" -> "Digest Errors" option b) at ERL 0 (s.11.4.7.2 sense)."""
    bhs, data = s.expect(OP_SCSI_RSP, what)
    assert bhs[2] == 0x00 and bhs[3] == 0x02, "%s: want CHECK CONDITION, got response %d status %d" % (
        what, bhs[2], bhs[3])
    sense = data[2:]
    assert len(sense) >= 14 and sense[2] & 0x0F == 0x0B and sense[12:14] == b"\x47\x05", \
        "%s: want ABORTED COMMAND 47h/05h, got sense %s" % (what, sense.hex())


def case_bad_datasn(s):
    solicited(s, 5, 0)
    expect_crc_condition(s, "bad-datasn")
    s.still_alive("bad-datasn")


def case_datasn_waits(s):
    s.write10(0, 4, 2048, immediate=b"", final=True)
    r2t, _ = s.expect(OP_R2T, "R2T")
    data_out(s, r2t, 1, 0, b"d" * 512, final=False)
    # The NOP-In must come first: the task waits for the rest of its burst.
    s.still_alive("datasn-waits")
    data_out(s, r2t, 2, 512, b"d" * 1536, final=True)
    expect_crc_condition(s, "datasn-waits")
    s.still_alive("datasn-waits")


def case_bad_offset(s):
    solicited(s, 0, 4096)
    bhs, _ = s.expect(OP_REJECT, "bad-offset")
    assert bhs[2] == 0x04
    s.expect_closed("bad-offset")


def case_cmdsn_window(s):
    s.cmdsn = s.max_cmdsn + 100
    s.write10(0, 1, 512, immediate=b"z" * 512)
    s.cmdsn = 10
    s.still_alive("cmdsn-window")	# the command must not have been answered
    s.s.settimeout(1)
    try:
        extra = s.s.recv(48)
        assert not extra, "a command outside the CmdSN window was answered"
    except socket.timeout:
        pass


def case_immediate_read(s):
    b = s.bhs(OP_SCSI)
    b[1] = 0x80 | 0x40 | 1
    b[20:24] = (512).to_bytes(4, "big")
    b[24:28] = s.cmdsn.to_bytes(4, "big")
    b[32] = 0x28
    b[39:41] = (1).to_bytes(2, "big")
    s.s.sendall(pdu(b, b"q" * 16))
    bhs, _ = s.expect(OP_REJECT, "immediate-w-nodata")
    assert bhs[2] == 0x04
    s.cmdsn += 1
    s.still_alive("immediate-w-nodata")


def case_logout(s):
    b = s.bhs(OP_LOGOUT, immediate=True)
    b[1] = 0x80
    b[24:28] = s.cmdsn.to_bytes(4, "big")
    s.s.sendall(pdu(b))
    bhs, _ = s.expect(OP_LOGOUT_RSP, "logout")
    assert bhs[2] == 0, "Logout Response success"
    s.expect_closed("logout")


CASES = {
    "nop": case_nop, "bad-opcode": case_bad_opcode, "too-long": case_too_long,
    "login-in-ffp": case_login_in_ffp, "stray-data": case_stray_data,
    "bad-datasn": case_bad_datasn, "datasn-waits": case_datasn_waits, "bad-offset": case_bad_offset,
    "cmdsn-window": case_cmdsn_window, "immediate-w-nodata": case_immediate_read,
    "logout": case_logout,
}


def run_cases(doc, cases, label, isid_base, add_arguments=None, cleanup=None, with_args=False, errors=()):
    """The command line every ih_* checker shares: --target, --port, [case ...].

    Each case runs on a fresh login (its own ISID, isid_base + i) and prints
    "ok" or "FAIL"; cleanup(args) runs at the end whatever happened. Returns
    the exit status: 0 when every case passed.
    """
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True)
    ap.add_argument("--port", type=int, default=3260)
    if add_arguments:
        add_arguments(ap)
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    ok = True
    try:
        for i, name in enumerate(args.cases or list(cases)):
            try:
                s = Session(args, isid_base + i)
                s.args = args
                if with_args:
                    cases[name](s, args)
                else:
                    cases[name](s)
                s.s.close()
                print("ok   %s" % name, flush=True)
            except (AssertionError, ConnectionError, socket.timeout, OSError) + tuple(errors) as e:
                ok = False
                print("FAIL %s: %s" % (name, e), flush=True)
    finally:
        if cleanup:
            cleanup(args)
    print("%s: %s" % (label, "all ok" if ok else "FAILED"))
    return 0 if ok else 1


def main():
    return run_cases(__doc__, CASES, "faults", 1)


if __name__ == "__main__":
    sys.exit(main())
