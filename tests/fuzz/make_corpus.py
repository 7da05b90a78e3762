#!/usr/bin/env python3
"""Writes the small seed corpus of the fuzz targets (run once; output committed)."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def text(pairs):
    return b"".join(k.encode() + b"=" + v.encode() + b"\0" for k, v in pairs)


def pad(b):
    return b + b"\0" * ((4 - len(b) % 4) % 4)


def login_request(keys, csg=0, nsg=1, transit=True, cont=False, tsih=0, cid=1, itt=1, cmd_sn=1, exp_stat_sn=0):
    data = text(keys)
    flags = (0x80 if transit else 0) | (0x40 if cont else 0) | (csg << 2) | nsg
    bhs = struct.pack(">BBBBB3s6sHIHHII16x", 0x43, flags, 0, 0, 0, len(data).to_bytes(3, "big"),
                      bytes([0x80, 1, 2, 3, 4, 5]), tsih, itt, cid, 0, cmd_sn, exp_stat_sn)
    assert len(bhs) == 48
    return bhs + pad(data)


def text_request(keys, itt=2, ttt=0xFFFFFFFF, cmd_sn=1):
    data = text(keys)
    bhs = struct.pack(">BBBBB3s8sIIII16x", 0x04, 0x80, 0, 0, 0, len(data).to_bytes(3, "big"), bytes(8), itt, ttt,
                      cmd_sn, 0)
    return bhs + pad(data)


def logout_request(itt=3, cmd_sn=2):
    return struct.pack(">BBBBB3s8sIHHII16x", 0x06, 0x80, 0, 0, 0, bytes(3), bytes(8), itt, 1, 0, cmd_sn, 0)


def nop_out(itt=4):
    return struct.pack(">BBBBB3s8sIIII16x", 0x40, 0x80, 0, 0, 0, (4).to_bytes(3, "big"), bytes(8), itt,
                       0xFFFFFFFF, 1, 0) + b"ping"


def write(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


ini = "iqn.2026-01.org.example:initiator"
tgt = "iqn.2026-01.org.example:t1"
normal_first = login_request([("InitiatorName", ini), ("TargetName", tgt), ("SessionType", "Normal"),
                              ("AuthMethod", "None")])
normal_op = login_request([("HeaderDigest", "CRC32C,None"), ("MaxRecvDataSegmentLength", "65536"),
                           ("MaxBurstLength", "262144"), ("FirstBurstLength", "65536"), ("ImmediateData", "Yes"),
                           ("InitialR2T", "No"), ("ErrorRecoveryLevel", "0")], csg=1, nsg=3, exp_stat_sn=1)
disc_first = login_request([("InitiatorName", ini), ("SessionType", "Discovery"), ("AuthMethod", "None")], nsg=3)

write("login", "normal_none", b"\x00" + normal_first + normal_op)
write("login", "normal_offers", b"\x0c" + normal_first + normal_op)
write("login", "discovery_sendtargets", b"\x00" + disc_first + text_request([("SendTargets", "All")]) + nop_out()
      + logout_request())
write("login", "chap_start", b"\x03" + login_request([("InitiatorName", ini), ("TargetName", tgt),
                                                      ("AuthMethod", "CHAP,None")], transit=False)
      + login_request([("CHAP_A", "8,7,6,5")], transit=False)
      + login_request([("CHAP_N", "user"), ("CHAP_R", "0x" + "00" * 32), ("CHAP_I", "1"), ("CHAP_C", "0x" + "ab" * 16)]))
write("login", "redirect", b"\x10" + normal_first)

write("pdu_header", "login_request", normal_first)
write("pdu_header", "text_request", text_request([("SendTargets", "All")]))
write("pdu_header", "nop_out", nop_out())

write("text", "login_keys", text([("InitiatorName", ini), ("TargetName", tgt), ("MaxBurstLength", "0x40000"),
                                  ("HeaderDigest", "CRC32C,None")]))
write("text", "chap", text([("CHAP_C", "0bAAECAwQFBgcICQoLDA0ODw=="), ("CHAP_I", "7"), ("CHAP_R", "0x0102")]))
write("text", "bad_utf8", b"InitiatorAlias=\xc3\x28\0")
