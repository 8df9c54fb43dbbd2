#!/usr/bin/env python3
"""Attack and measurement traffic for the testbed (scripts/testbed.sh).

Run inside one testbed host (`ip netns exec <host> python3 traffic.py ...`);
each subcommand runs for a bounded time and prints one JSON object:

  flood  --target IP:PORT --seconds S [--rate N]
      One ordinary UDP socket sends pings and find_values (alternately, as
      fast as it can, read-only client: nil sender) at one node for S
      seconds while a second process counts the answers on the same socket.
  spoof  --target IP:PORT --source IP:PORT --seconds S [--rate N]
      A raw socket (IP_HDRINCL) sends find_node requests whose IP source is
      --source, each with a fresh random sender id, for S seconds.
  listen --bind IP:PORT --seconds S
      Counts the datagrams and bytes (UDP payload) arriving at IP:PORT.

Requests are encoded by hand after docs/PROTOCOL.md (the golden examples
there): [version 1, type, transaction id, sender, body...] as MessagePack.
Only the Python standard library is used.
"""
import argparse
import json
import os
import socket
import struct
import sys
import time

PING, PONG, FIND_NODE, NODES, FIND_VALUE, VALUE, ERROR = 0, 1, 2, 3, 4, 5, 8
TYPE_NAMES = {PONG: "pong", NODES: "nodes", VALUE: "value", ERROR: "error",
              PING: "ping"}


def endpoint(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def bin8(data):
    """MessagePack bin 8: c4 <len> <bytes>."""
    assert len(data) < 256
    return b"\xc4" + bytes([len(data)]) + data


def header(count, message_type, transaction_id, sender):
    """The array header and the 4 header fields; `sender` None is nil."""
    return (bytes([0x90 | count, 1, message_type]) + b"\xce" +
            struct.pack(">I", transaction_id) +
            (b"\xc0" if sender is None else bin8(sender)))


def ping(transaction_id):
    return header(4, PING, transaction_id, None)


def find_value(transaction_id, key):
    return header(5, FIND_VALUE, transaction_id, None) + bin8(key)


def find_node(transaction_id, sender, target):
    return header(5, FIND_NODE, transaction_id, sender) + bin8(target)


def message_type(datagram):
    """The type field of a kad datagram, or None if it does not look like one."""
    if len(datagram) < 3 or datagram[0] & 0xF0 != 0x90 or datagram[1] != 1:
        return None
    return datagram[2]


def big_buffers(sock):
    for option, fallback in ((33, socket.SO_RCVBUF), (32, socket.SO_SNDBUF)):
        try:  # SO_RCVBUFFORCE / SO_SNDBUFFORCE: root may pass rmem_max.
            sock.setsockopt(socket.SOL_SOCKET, option, 16 << 20)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, fallback, 16 << 20)



def send_paced(items, send, seconds, rate):
    """Sends `items` round and round with `send` for `seconds`, at `rate`
    per second (0: as fast as the socket goes). Returns (sent, errors); an
    OSError (ENOBUFS under load) counts as an error and sending goes on."""
    sent = errors = 0
    start = time.monotonic()
    deadline = start + seconds
    interval = 1.0 / rate if rate else 0.0
    next_send = start
    while True:
        for item in items:
            if interval:
                next_send += interval
                delay = next_send - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if next_send >= deadline:
                    break
            try:
                send(item)
                sent += 1
            except OSError:
                errors += 1
        if time.monotonic() >= deadline:
            return sent, errors

def flood(args):
    target = endpoint(args.target)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    big_buffers(sock)
    sock.bind(("0.0.0.0", 0))
    requests = []
    for i in range(512):
        requests.append(ping(i * 2))
        requests.append(find_value(i * 2 + 1, b"flood-%d" % i))
    read_end, write_end = os.pipe()
    sender = os.fork()
    if sender == 0:  # The sender: as fast as one socket goes.
        os.close(read_end)
        start = time.monotonic()
        sent, errors = send_paced(
            requests, lambda request: sock.sendto(request, target),
            args.seconds, args.rate)
        os.write(write_end, json.dumps({
            "sent": sent, "errors": errors,
            "seconds": time.monotonic() - start}).encode())
        os._exit(0)
    os.close(write_end)
    # The receiver: every answer until a second after the sender stops.
    counts = {}
    per_second = [0] * (int(args.seconds) + 2)
    start = time.monotonic()
    stop = start + args.seconds + 1
    sock.settimeout(0.2)
    while True:
        now = time.monotonic()
        if now >= stop:
            break
        try:
            datagram = sock.recv(2048)
        except socket.timeout:
            continue
        kind = message_type(datagram)
        counts[kind] = counts.get(kind, 0) + 1
        second = min(int(time.monotonic() - start), len(per_second) - 1)
        per_second[second] += 1
    os.waitpid(sender, 0)
    sender_report = json.loads(os.read(read_end, 4096))
    answered = counts.get(PONG, 0) + counts.get(VALUE, 0)
    print(json.dumps({
        "sent": sender_report["sent"],
        "send_errors": sender_report["errors"],
        "seconds": round(sender_report["seconds"], 3),
        "answered": answered,
        "answered_per_second": per_second,
        "received_by_type": {TYPE_NAMES.get(k, str(k)): v
                             for k, v in counts.items()},
    }))


def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def spoof(args):
    target_ip, target_port = endpoint(args.target)
    source_ip, source_port = endpoint(args.source)
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    big_buffers(sock)
    packets = []
    for i in range(1024):
        payload = find_node(i, os.urandom(20), os.urandom(20))
        udp = struct.pack("!HHHH", source_port, target_port, 8 + len(payload),
                          0) + payload  # UDP checksum 0: none (IPv4).
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64,
                         socket.IPPROTO_UDP, 0, socket.inet_aton(source_ip),
                         socket.inet_aton(target_ip))
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        packets.append(ip + udp)
    payload_bytes = 0

    def send(packet):
        nonlocal payload_bytes
        sock.sendto(packet, (target_ip, 0))
        payload_bytes += len(packet) - 28  # Past the IP and UDP headers.

    start = time.monotonic()
    sent, errors = send_paced(packets, send, args.seconds, args.rate)
    print(json.dumps({"sent": sent, "send_errors": errors,
                      "request_payload_bytes": payload_bytes,
                      "seconds": time.monotonic() - start}))


def listen(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    big_buffers(sock)
    sock.bind(endpoint(args.bind))
    print(json.dumps({"listening": args.bind}), flush=True)
    sock.settimeout(0.2)
    datagrams = payload = 0
    counts = {}
    per_second = [0] * (int(args.seconds) + 1)
    start = time.monotonic()
    while time.monotonic() - start < args.seconds:
        try:
            datagram, _ = sock.recvfrom(2048)
        except socket.timeout:
            continue
        datagrams += 1
        payload += len(datagram)
        kind = message_type(datagram)
        counts[kind] = counts.get(kind, 0) + 1
        second = min(int(time.monotonic() - start), len(per_second) - 1)
        per_second[second] += len(datagram)
    print(json.dumps({
        "datagrams": datagrams, "bytes": payload, "seconds": args.seconds,
        "bytes_per_second": per_second,
        "received_by_type": {TYPE_NAMES.get(k, str(k)): v
                             for k, v in counts.items()},
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("flood")
    p.add_argument("--target", required=True)
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--rate", type=float, default=0,
                   help="requests per second; 0: as fast as possible")
    p.set_defaults(run=flood)
    p = commands.add_parser("spoof")
    p.add_argument("--target", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--rate", type=float, default=0,
                   help="requests per second; 0: as fast as possible")
    p.set_defaults(run=spoof)
    p = commands.add_parser("listen")
    p.add_argument("--bind", required=True)
    p.add_argument("--seconds", type=float, default=8)
    p.set_defaults(run=listen)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
