# ARP on the wire, as the SIP client's interface receives it (bench/failover-net): run inside the client's
# network namespace as root, prints one JSON line per ARP frame: {"t": arrival (ms since the epoch),
# "op": 1 request / 2 reply, "sha": sender MAC, "spa": sender address, "tpa": target address}. A
# gratuitous ARP for the VIP is a frame whose sender address is the VIP. Node has no raw sockets;
# Python's AF_PACKET does this in a few lines.
#
#   python3 arp-capture.py <interface>
import json
import socket
import struct
import sys
import time

ETH_P_ARP = 0x0806
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
s.bind((sys.argv[1], 0))
print(json.dumps({"ready": True}), flush=True)
while True:
    frame = s.recv(2048)
    t = time.time() * 1000
    if len(frame) < 42:
        continue
    op = struct.unpack("!H", frame[20:22])[0]
    print(
        json.dumps(
            {
                "t": t,
                "op": op,
                "sha": frame[22:28].hex(":"),
                "spa": socket.inet_ntoa(frame[28:32]),
                "tpa": socket.inet_ntoa(frame[38:42]),
            }
        ),
        flush=True,
    )
