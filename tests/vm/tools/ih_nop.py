#!/usr/bin/env python3
"""ih_nop - NOP-In pings and their timeout on an iscsi_handoff connection.

Sets the TPG's attrib/nopin_interval and attrib/nopin_timeout (configfs) for
each case, logs in through `ih_tool.py serve` like ih_fault.py, says one
NOP-Out (the target sends nothing before the initiator's first PDU) and then:

  silent     interval 2 s, timeout 2 s, the client never answers: a NOP-In with
             ITT 0xffffffff and a valid TTT arrives after ~2 s idle (RFC 7143
             s.11.19), then the connection is closed ~2 s later
  answering  same settings, the client echoes each ping's TTT in a NOP-Out
             (s.11.18): several pings in 9 s, the connection stays, a READ works
  off        interval 0: nothing arrives in 5 s idle, the connection stays

The TPG attributes are set back to 15/30 (the defaults) at the end.
Usage: ih_nop.py --target IQN --attrib DIR [--port 3260] [case ...]
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ih_fault import Session, pdu, recv_pdu, OP_NOP_IN, OP_NOP_OUT, run_cases  # noqa: E402
from ih_tmf import read_ok  # noqa: E402


def set_nop(args, interval, timeout):
    for name, value in (("nopin_interval", interval), ("nopin_timeout", timeout)):
        with open(os.path.join(args.attrib, name), "w") as f:
            f.write("%d\n" % value)


def next_ping(s, limit, what):
    bhs, _ = recv_pdu(s.s, timeout=limit)
    assert bhs[0] & 0x3F == OP_NOP_IN, "%s: got opcode 0x%02x" % (what, bhs[0] & 0x3F)
    assert bhs[16:20] == b"\xff\xff\xff\xff", "%s: a ping must carry ITT 0xffffffff" % what
    assert bhs[20:24] != b"\xff\xff\xff\xff", "%s: a ping must carry a valid TTT" % what
    return bhs


def answer(s, ping):
    b = bytearray(48)
    b[0] = OP_NOP_OUT | 0x40
    b[1] = 0x80
    b[8:16] = ping[8:16]
    b[16:20] = b"\xff\xff\xff\xff"
    b[20:24] = ping[20:24]
    b[24:28] = s.cmdsn.to_bytes(4, "big")
    b[28:32] = s.statsn.to_bytes(4, "big")
    s.s.sendall(pdu(b))


def case_silent(s, args):
    set_nop(args, 2, 2)
    s.still_alive("silent")
    t0 = time.monotonic()
    next_ping(s, 10, "silent")
    t_ping = time.monotonic() - t0
    assert 1.0 <= t_ping <= 6.0, "silent: ping after %.1f s idle, expected ~2 s" % t_ping
    t1 = time.monotonic()
    s.expect_closed("silent")
    t_close = time.monotonic() - t1
    assert 1.0 <= t_close <= 6.0, "silent: closed %.1f s after the ping, expected ~2 s" % t_close
    print("     ping after %.1f s idle, closed %.1f s later" % (t_ping, t_close))


def case_answering(s, args):
    set_nop(args, 2, 2)
    s.still_alive("answering")
    pings, end = 0, time.monotonic() + 9
    while time.monotonic() < end:
        try:
            ping = next_ping(s, max(0.1, end - time.monotonic()), "answering")
        except socket.timeout:
            break
        answer(s, ping)
        pings += 1
    assert pings >= 2, "answering: %d pings in 9 s with a 2 s interval" % pings
    read_ok(s, "answering")
    print("     %d pings answered in 9 s" % pings)


def case_off(s, args):
    set_nop(args, 0, 2)
    s.still_alive("off")
    try:
        bhs, _ = recv_pdu(s.s, timeout=5)
        raise AssertionError("off: got opcode 0x%02x with pings off" % (bhs[0] & 0x3F))
    except socket.timeout:
        pass
    s.still_alive("off")


CASES = {"silent": case_silent, "answering": case_answering, "off": case_off}


def main():
    def attrib(ap):
        ap.add_argument("--attrib", required=True, help="the TPG's configfs attrib/ directory")
    return run_cases(__doc__, CASES, "nop", 0x60, add_arguments=attrib,
                     cleanup=lambda args: set_nop(args, 15, 30), with_args=True)


if __name__ == "__main__":
    sys.exit(main())
