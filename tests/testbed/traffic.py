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
  stores --targets IP:PORT,... --count N --prefix P [--rate N]
      One ordinary UDP socket asks each target for a write token (a
      find_node), then sends N stores of open records at the keys P0, P1...
      round-robin over the targets, each with that target's token, and
      counts the answers by kind (stored, or error by code).

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
STORE, STORED = 6, 7
TYPE_NAMES = {PONG: "pong", NODES: "nodes", VALUE: "value", ERROR: "error",
              PING: "ping", STORED: "stored"}
# Error codes by wire value (docs/PROTOCOL.md, Error codes).
ERROR_NAMES = {1: "malformed", 2: "bad_token", 3: "record_rejected",
               4: "store_full", 5: "internal", 6: "forbidden", 7: "conflict",
               8: "not_closest", 9: "source_quota"}


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


def store(transaction_id, key, value, token, ttl=3600):
    """A store of the open record [key, value, seq 1, ttl], nil sender."""
    record = b"\x94" + bin8(key) + bin8(value) + b"\x01" + b"\xce" + \
        struct.pack(">I", ttl)
    return header(7, STORE, transaction_id, None) + record + bin8(token) + \
        b"\xc0"


def unpack(data, at=0):
    """Decodes the MessagePack value at data[at:] (the subset kad writes);
    returns (value, next offset)."""
    b = data[at]
    if b <= 0x7F:
        return b, at + 1
    if 0x90 <= b <= 0x9F or b in (0xDC, 0xDD):
        if b <= 0x9F:
            count, at = b & 0x0F, at + 1
        elif b == 0xDC:
            count, at = struct.unpack_from(">H", data, at + 1)[0], at + 3
        else:
            count, at = struct.unpack_from(">I", data, at + 1)[0], at + 5
        items = []
        for _ in range(count):
            item, at = unpack(data, at)
            items.append(item)
        return items, at
    if 0xA0 <= b <= 0xBF:
        n = b & 0x1F
        return data[at + 1:at + 1 + n], at + 1 + n
    if b == 0xC0:
        return None, at + 1
    if b in (0xC4, 0xD9):  # bin 8, str 8
        n = data[at + 1]
        return data[at + 2:at + 2 + n], at + 2 + n
    if b in (0xC5, 0xDA):  # bin 16, str 16
        n = struct.unpack_from(">H", data, at + 1)[0]
        return data[at + 3:at + 3 + n], at + 3 + n
    sizes = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q"}
    if b in sizes:
        value = struct.unpack_from(sizes[b], data, at + 1)[0]
        return value, at + 1 + struct.calcsize(sizes[b])
    raise ValueError("unexpected msgpack byte 0x%02x" % b)


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


def token_of(sock, target):
    """Asks `target` for a write token for our address (a find_node)."""
    for attempt in range(10):
        sock.sendto(find_node(attempt, None, os.urandom(20)), target)
        try:
            datagram, source = sock.recvfrom(2048)
        except socket.timeout:
            continue
        if source == target and message_type(datagram) == NODES:
            # [version, type, id, sender, closest, token, [observed]]
            return unpack(datagram)[0][5]
    raise RuntimeError("no token from %s:%d" % target)


def stores(args):
    targets = [endpoint(t) for t in args.targets.split(",")]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    big_buffers(sock)
    sock.bind(("0.0.0.0", 0))
    sock.settimeout(1)
    tokens = {target: token_of(sock, target) for target in targets}
    value = b"v" * args.value_bytes
    requests = [(store(i, (args.prefix + str(i)).encode(), value,
                       tokens[targets[i % len(targets)]]),
                 targets[i % len(targets)]) for i in range(args.count)]
    read_end, write_end = os.pipe()
    sender = os.fork()
    if sender == 0:  # The sender; each store once.
        os.close(read_end)
        start = time.monotonic()
        rate = args.rate or float("inf")
        sent = errors = 0
        for i, (request, target) in enumerate(requests):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                sock.sendto(request, target)
                sent += 1
            except OSError:
                errors += 1
        os.write(write_end, json.dumps({
            "sent": sent, "errors": errors,
            "seconds": time.monotonic() - start}).encode())
        os._exit(0)
    os.close(write_end)
    answers = {}
    quiet_since = time.monotonic()
    sock.settimeout(0.2)
    done = None
    while True:  # Until the sender is done and 2 s pass without an answer.
        if done is None and os.waitpid(sender, os.WNOHANG)[0] == sender:
            done = time.monotonic()
        if done is not None and time.monotonic() - quiet_since > 2:
            break
        try:
            datagram = sock.recv(2048)
        except socket.timeout:
            continue
        quiet_since = time.monotonic()
        kind = message_type(datagram)
        if kind == STORED:
            name = "stored"
        elif kind == ERROR:
            code = unpack(datagram)[0][4]
            name = ERROR_NAMES.get(code, "code_%d" % code)
        else:
            name = TYPE_NAMES.get(kind, str(kind))
        answers[name] = answers.get(name, 0) + 1
    sender_report = json.loads(os.read(read_end, 4096))
    print(json.dumps({"sent": sender_report["sent"],
                      "send_errors": sender_report["errors"],
                      "seconds": round(sender_report["seconds"], 3),
                      "answers": answers}))


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
    p = commands.add_parser("stores")
    p.add_argument("--targets", required=True, help="IP:PORT,IP:PORT,...")
    p.add_argument("--count", type=int, default=50000)
    p.add_argument("--prefix", default="attack-")
    p.add_argument("--value-bytes", type=int, default=100)
    p.add_argument("--rate", type=float, default=0,
                   help="stores per second; 0: as fast as possible")
    p.set_defaults(run=stores)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
