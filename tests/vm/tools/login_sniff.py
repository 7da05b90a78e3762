#!/usr/bin/env python3
"""login_sniff - records the iSCSI Login PDUs that cross the loopback device,
as the initiator sent and received them, one JSON object a line:

  login_sniff.py OUTPUT [--port 3260]

  {"pdu": "request"|"response", "initiator_port": P, "isid": "00023d000001",
   "tsih": N, "cid": N (requests), "transit": bool, "csg": N, "nsg": N,
   "status": N (responses: class << 8 | detail)}

It is the independent witness of the ISID the initiator sent and the TSIH
it was given (RFC 7143 s.11.12 and s.11.13), which open-iscsi does not show
(`iscsiadm -m session -P 3` and the iscsi_session sysfs of iscsi_tcp have
neither). Needs CAP_NET_RAW (the guest runs it as root). Runs until killed.
Only segments that begin with a Login BHS are parsed: each Login PDU is sent
on its own (the login is a strict request/response exchange).
"""
import json
import socket
import struct
import sys

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
ETH_HLEN = 14


def parse(frame, port):
    if len(frame) < ETH_HLEN + 20 or struct.unpack("!H", frame[12:14])[0] != 0x0800:
        return None
    ip = frame[ETH_HLEN:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != socket.IPPROTO_TCP:
        return None
    total = struct.unpack("!H", ip[2:4])[0]
    tcp = ip[ihl:total]
    if len(tcp) < 20:
        return None
    sport, dport = struct.unpack("!HH", tcp[0:4])
    if port not in (sport, dport):
        return None
    payload = tcp[(tcp[12] >> 4) * 4:]
    if len(payload) < 48:
        return None
    opcode = payload[0] & 0x3F
    flags = payload[1]
    record = {
        "isid": payload[8:14].hex(),
        "tsih": struct.unpack("!H", payload[14:16])[0],
        "transit": bool(flags & 0x80),
        "csg": (flags >> 2) & 0x3,
        "nsg": flags & 0x3,
    }
    if opcode == 0x03 and dport == port:
        record.update(pdu="request", initiator_port=sport, cid=struct.unpack("!H", payload[20:22])[0])
    elif opcode == 0x23 and sport == port:
        record.update(pdu="response", initiator_port=dport, status=payload[36] << 8 | payload[37])
    else:
        return None
    return record


def main():
    out = open(sys.argv[1], "a", buffering=1)
    port = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--port" else 3260
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind(("lo", 0))
    print(json.dumps({"listening": port}), file=out)
    while True:
        frame, address = s.recvfrom(262144)
        # Loopback shows each packet twice: leaving and arriving.
        if address[2] == PACKET_OUTGOING:
            continue
        record = parse(frame, port)
        if record:
            print(json.dumps(record, sort_keys=True), file=out)


if __name__ == "__main__":
    main()
