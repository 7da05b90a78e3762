#!/usr/bin/env python3
"""ih_text - Text Requests in the Full Feature Phase of an iscsi_handoff session.

Stores a SendTargets answer for the TPG with `ih_tool.py discovery-text`
(SET_DISCOVERY_TEXT, what iscsi-targetd does when it applies its
configuration), logs in through `ih_tool.py serve` like ih_fault.py and checks
(RFC 7143 s.11.10/11.11, Appendix C):

  sendtargets-own    "SendTargets=" and "SendTargets=<own target>" -> the stored text,
                     the wildcard portal "*" replaced by the address the client reached
  sendtargets-other  "SendTargets=<another target>" -> an empty answer
  sendtargets-all    "SendTargets=All" in a Normal session -> Reject (protocol error)
  other-keys         any other key -> key=NotUnderstood
  malformed          a pair without "=" -> Reject, the session stays
  continuation       an answer beyond the client's MaxRecvDataSegmentLength (8192) comes
                     in pieces: C=1 with a valid TTT, fetched with empty requests
                     carrying it; a wrong TTT -> Reject "invalid PDU field" (9)
Each case ends with a READ that must succeed.
Usage: ih_text.py --target IQN [--port 3260] [case ...]
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ih_fault import Session, pdu, OP_REJECT, run_cases  # noqa: E402
from ih_tmf import read_ok  # noqa: E402

OP_TEXT, OP_TEXT_RSP = 0x04, 0x24
OTHER_PORTAL = "TargetAddress=192.0.2.9:3260,1"


def store(args, pairs):
    subprocess.run([sys.executable, os.path.join(HERE, "ih_tool.py"), "discovery-text",
                    "--target", args.target, "--tpgt", "1"] + pairs, check=True)


def text_req(s, data, ttt=0xFFFFFFFF, itt=None):
    b = s.bhs(OP_TEXT)
    if itt is not None:
        b[16:20] = itt
    b[1] = 0x80
    b[20:24] = ttt.to_bytes(4, "big")
    b[24:28] = s.cmdsn.to_bytes(4, "big")
    s.cmdsn += 1
    s.s.sendall(pdu(b, data))
    return b


def kv(*pairs):
    return b"".join(p.encode() + b"\0" for p in pairs)


def ask(s, data, what):
    req = text_req(s, data)
    rsp, body = s.expect(OP_TEXT_RSP, what)
    assert rsp[16:20] == req[16:20], "%s: answer for another ITT" % what
    assert rsp[1] & 0x80 and not rsp[1] & 0x40, "%s: expected one final piece, flags 0x%02x" % (what, rsp[1])
    assert rsp[20:24] == b"\xff\xff\xff\xff", "%s: final piece with a TTT" % what
    return body


def case_sendtargets_own(s, args):
    store(args, ["TargetName=" + args.target, "TargetAddress=*:3260,1", OTHER_PORTAL])
    want = kv("TargetName=" + args.target, "TargetAddress=127.0.0.1:3260,1", OTHER_PORTAL)
    for value in ("", args.target):
        got = ask(s, kv("SendTargets=" + value), "sendtargets-own")
        assert got == want, "SendTargets=%s: got %r" % (value, got)
    read_ok(s, "sendtargets-own")


def case_sendtargets_other(s, args):
    store(args, ["TargetName=" + args.target, OTHER_PORTAL])
    got = ask(s, kv("SendTargets=iqn.2026-12.org.example:another"), "sendtargets-other")
    assert got == b"", "another target: got %r" % got
    read_ok(s, "sendtargets-other")


def reject(s, data, reason, what):
    req = text_req(s, data)
    bhs, body = s.expect(OP_REJECT, what)
    assert bhs[2] == reason, "%s: Reject reason %d, expected %d" % (what, bhs[2], reason)
    assert body[:5] == bytes(req[:5]) and body[8:48] == bytes(req[8:48]), "%s: Reject without the BHS" % what


def case_sendtargets_all(s, args):
    reject(s, kv("SendTargets=All"), 0x04, "sendtargets-all")
    read_ok(s, "sendtargets-all")


def case_other_keys(s, args):
    got = ask(s, kv("MaxBurstLength=1024", "X-org.example.Foo=1"), "other-keys")
    assert got == kv("MaxBurstLength=NotUnderstood", "X-org.example.Foo=NotUnderstood"), "got %r" % got
    read_ok(s, "other-keys")


def case_malformed(s, args):
    reject(s, b"NoEqualsSign\0", 0x04, "malformed")
    read_ok(s, "malformed")


def case_continuation(s, args):
    portals = ["TargetAddress=10.%d.%d.1:3260,1" % (i // 250, i % 250) for i in range(500)]
    store(args, ["TargetName=" + args.target] + portals)
    want = kv("TargetName=" + args.target, *portals)
    assert len(want) > 8192
    req = text_req(s, kv("SendTargets="))
    got, pieces = b"", 0
    while True:
        rsp, body = s.expect(OP_TEXT_RSP, "continuation")
        assert rsp[16:20] == req[16:20], "continuation: answer for another ITT"
        assert len(body) <= 8192, "continuation: %d bytes beyond MaxRecvDataSegmentLength" % len(body)
        got += body
        pieces += 1
        if rsp[1] & 0x80:
            assert not rsp[1] & 0x40 and rsp[20:24] == b"\xff\xff\xff\xff"
            break
        assert rsp[1] & 0x40 and rsp[20:24] != b"\xff\xff\xff\xff", "continuation: C=1 with a TTT expected"
        ttt = int.from_bytes(rsp[20:24], "big")
        if pieces == 1:
            bad = text_req(s, b"", ttt=ttt ^ 0x5A5A, itt=req[16:20])
            rej, _ = s.expect(OP_REJECT, "continuation (wrong TTT)")
            assert rej[2] == 9 and _[:48] == bytes(bad), "wrong TTT: Reject reason %d" % rej[2]
        text_req(s, b"", ttt=ttt, itt=req[16:20])
    assert got == want, "continuation: %d bytes in %d pieces differ from the %d stored" % (len(got), pieces, len(want))
    assert pieces >= 2
    print("     %d bytes in %d pieces" % (len(got), pieces))
    read_ok(s, "continuation")


CASES = {
    "sendtargets-own": case_sendtargets_own, "sendtargets-other": case_sendtargets_other,
    "sendtargets-all": case_sendtargets_all, "other-keys": case_other_keys,
    "malformed": case_malformed, "continuation": case_continuation,
}


def main():
    return run_cases(__doc__, CASES, "text", 0x50, cleanup=lambda args: store(args, []), with_args=True,
                     errors=(subprocess.CalledProcessError,))


if __name__ == "__main__":
    sys.exit(main())
