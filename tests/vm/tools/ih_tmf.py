#!/usr/bin/env python3
"""ih_tmf - Task Management Functions against an iscsi_handoff target.

Each case logs in afresh (through `ih_tool.py serve`, like ih_fault.py), sends
one Task Management Function Request (RFC 7143 s.11.5) and checks the
Response code (s.11.6.1), that an aborted task never answers afterwards, and
that the session still works (a READ succeeds) where it must survive:

  abort-write        ABORT TASK of a WRITE waiting for Data-Out (R2T outstanding) -> 0;
                     no SCSI Response for it, a late Data-Out for its R2T is dropped
  abort-held         ABORT TASK of a READ held back for CmdSN order -> 0; filling the
                     CmdSN gap runs the next command only, the aborted one never answers
  abort-unknown      ABORT TASK of an ITT that does not exist (RefCmdSN already used) -> 1
  lun-reset          LOGICAL UNIT RESET with a WRITE waiting for Data-Out -> 0; no
                     SCSI Response for the write; the next command reports the reset
                     (UNIT ATTENTION 29h), the one after it succeeds
  abort-task-set     ABORT TASK SET  -> 5 (not supported by target core), session stays
  clear-task-set     CLEAR TASK SET  -> 5, session stays
  clear-aca          CLEAR ACA       -> 5, session stays
  warm-reset         TARGET WARM RESET -> 0xff (function rejected by target core), session stays
  reassign           TASK REASSIGN at ErrorRecoveryLevel 0 -> 4 (no allegiance reassignment)
  bad-function       function 0 (reserved) -> 0xff
  cold-reset         TARGET COLD RESET -> 0, then every connection of the target is closed
                     (a second session too); a new login and READ work

Usage: ih_tmf.py --target IQN [--port 3260] [case ...]   (default: every case)
Exit 0 when every case got its expected answer.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ih_fault import Session, pdu, recv_pdu, OP_NOP_IN, OP_R2T, OP_SCSI, OP_SCSI_RSP, OP_DATA_OUT, run_cases  # noqa: E402

OP_TMF, OP_TMF_RSP, OP_DATA_IN = 0x02, 0x22, 0x25
ABORT_TASK, ABORT_TASK_SET, CLEAR_ACA, CLEAR_TASK_SET = 1, 2, 3, 4
LUN_RESET, WARM_RESET, COLD_RESET, REASSIGN = 5, 6, 7, 8


def tmf(s, func, rtt=0xFFFFFFFF, ref_cmdsn=0):
    b = s.bhs(OP_TMF, immediate=True)
    b[1] = 0x80 | func
    b[20:24] = rtt.to_bytes(4, "big")
    b[24:28] = s.cmdsn.to_bytes(4, "big")
    b[32:36] = ref_cmdsn.to_bytes(4, "big")
    s.s.sendall(pdu(b))
    rsp, _ = s.expect(OP_TMF_RSP, "TMF response")
    assert rsp[16:20] == b[16:20], "TMF response for another ITT"
    return rsp[2]


def read10(s, lba=0, blocks=1, cmdsn=None):
    b = s.bhs(OP_SCSI)
    b[1] = 0x80 | 0x40 | 1
    b[20:24] = (blocks * 512).to_bytes(4, "big")
    b[24:28] = (s.cmdsn if cmdsn is None else cmdsn).to_bytes(4, "big")
    if cmdsn is None:
        s.cmdsn += 1
    b[32] = 0x28
    b[34:38] = lba.to_bytes(4, "big")
    b[39:41] = blocks.to_bytes(2, "big")
    s.s.sendall(pdu(b))
    return b


def read_result(s, req, what):
    """Data-In and/or SCSI Response for req: (status, data, sense)."""
    data = b""
    while True:
        bhs, seg = recv_pdu(s.s)
        op = bhs[0] & 0x3F
        assert bhs[16:20] == req[16:20], "%s: a PDU for ITT %s arrived" % (what, bhs[16:20].hex())
        if op == OP_DATA_IN:
            data += seg
            if bhs[1] & 0x01:	# S bit: status in the last Data-In
                return bhs[3], data, b""
        elif op == OP_SCSI_RSP:
            return bhs[3], data, seg
        else:
            raise AssertionError("%s: got opcode 0x%02x" % (what, op))


def read_ok(s, what, allow_ua=False):
    req = read10(s)
    status, data, sense = read_result(s, req, what)
    if status == 0x02 and allow_ua:
        # fixed format sense after the 2-byte length: key 6, ASC 0x29 (reset occurred)
        assert len(sense) >= 2 + 13 and sense[2 + 2] & 0x0F == 0x06 and sense[2 + 12] == 0x29, \
            "%s: CHECK CONDITION is not the reset's UNIT ATTENTION: %s" % (what, sense.hex())
        req = read10(s)
        status, data, sense = read_result(s, req, what)
    assert status == 0 and len(data) == 512, "%s: READ status 0x%02x, %d bytes" % (what, status, len(data))


def quiet(s, what):
    """Nothing else may arrive: a NOP-Out ping is answered next."""
    s.still_alive(what)


def pending_write(s):
    w = s.write10(0, 4, 2048)
    r2t, _ = s.expect(OP_R2T, "R2T")
    assert r2t[16:20] == w[16:20]
    return w, r2t


def case_abort_write(s):
    w, r2t = pending_write(s)
    write_cmdsn = s.cmdsn - 1
    got = tmf(s, ABORT_TASK, int.from_bytes(w[16:20], "big"), write_cmdsn)
    assert got == 0, "ABORT TASK of a write waiting for data: response %d" % got
    # A Data-Out that completes the old R2T (RFC 7143 s.11.5.1 lets the initiator send it) is dropped.
    b = bytearray(48)
    b[0] = OP_DATA_OUT
    b[1] = 0x80
    b[16:20] = w[16:20]
    b[20:24] = r2t[20:24]
    s.s.sendall(pdu(b, b"a" * 2048))
    quiet(s, "abort-write")
    read_ok(s, "abort-write")
    quiet(s, "abort-write")


def case_abort_held(s):
    held = read10(s, cmdsn=s.cmdsn + 1)	# waits for CmdSN s.cmdsn
    got = tmf(s, ABORT_TASK, int.from_bytes(held[16:20], "big"), s.cmdsn + 1)
    assert got == 0, "ABORT TASK of a held command: response %d" % got
    req = read10(s)			# fills the gap
    s.cmdsn += 1			# the aborted command's CmdSN was consumed too
    status, data, _ = read_result(s, req, "abort-held")
    assert status == 0 and len(data) == 512
    quiet(s, "abort-held")
    read_ok(s, "abort-held")


def case_abort_unknown(s):
    got = tmf(s, ABORT_TASK, 0xDEAD, s.cmdsn - 1)
    assert got == 1, "ABORT TASK of an unknown task: response %d" % got
    read_ok(s, "abort-unknown")


def case_lun_reset(s):
    pending_write(s)
    got = tmf(s, LUN_RESET)
    assert got == 0, "LOGICAL UNIT RESET: response %d" % got
    quiet(s, "lun-reset")
    read_ok(s, "lun-reset", allow_ua=True)


def simple(func, want, name):
    def run(s):
        got = tmf(s, func)
        assert got == want, "%s: response %d, expected %d" % (name, got, want)
        quiet(s, name)
        read_ok(s, name)
    return run


def case_cold_reset(s):
    args = s.args
    other = Session(args, 0x70)
    read_ok(other, "cold-reset (second session)")
    got = tmf(s, COLD_RESET)
    assert got == 0, "TARGET COLD RESET: response %d" % got
    s.expect_closed("cold-reset")
    other.expect_closed("cold-reset (second session)")
    fresh = Session(args, 0x71)
    read_ok(fresh, "cold-reset (new login)", allow_ua=True)
    fresh.s.close()


CASES = {
    "abort-write": case_abort_write,
    "abort-held": case_abort_held,
    "abort-unknown": case_abort_unknown,
    "lun-reset": case_lun_reset,
    "abort-task-set": simple(ABORT_TASK_SET, 5, "abort-task-set"),
    "clear-task-set": simple(CLEAR_TASK_SET, 5, "clear-task-set"),
    "clear-aca": simple(CLEAR_ACA, 5, "clear-aca"),
    "warm-reset": simple(WARM_RESET, 0xFF, "warm-reset"),
    "reassign": simple(REASSIGN, 4, "reassign"),
    "bad-function": simple(0, 0xFF, "bad-function"),
    "cold-reset": case_cold_reset,
}


def main():
    return run_cases(__doc__, CASES, "tmf", 0x40)


if __name__ == "__main__":
    sys.exit(main())
