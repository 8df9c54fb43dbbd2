#!/usr/bin/env python3
"""Scrapes a running `kad node --metrics` over real HTTP (urllib).

Starts a node on 127.0.0.1 (ports picked by the OS), scrapes /metrics,
runs `kad ping` and `kad put` against it, and checks that the exposition
parses (prometheus_client's parser, Debian's python3-prometheus-client)
and that the ping, store and datagram counters rose. Also checks that bad
requests get 404/405/400, that the node still serves afterwards, and that
a second node cannot bind the same metrics port.

Usage: metrics_scrape_test.py KAD_BINARY. Exit 0 on success, 77 (CTest's
skip) if prometheus_client is missing, 1 on failure.
"""
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("metrics_scrape_test: no prometheus_client (apt-get install "
          "python3-prometheus-client): skipped")
    sys.exit(77)

DEADLINE_S = 20


def read_line(node, prefix):
    """Returns the rest of the node's first stdout line starting with prefix."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        line = node.stdout.readline()
        if not line:
            break
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    raise AssertionError(f"node printed no '{prefix}' line")


def scrape(url):
    """Returns {(name, labels...): value} of every sample at url."""
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200, response.status
        content_type = response.headers["Content-Type"]
        assert content_type.startswith("text/plain; version=0.0.4"), content_type
        text = response.read().decode("utf-8")
    samples = {}
    for family in text_string_to_metric_families(text):
        assert family.name.startswith("kad_"), family.name
        for sample in family.samples:
            key = (sample.name,) + tuple(sorted(sample.labels.items()))
            samples[key] = sample.value
    return samples


def status_of(method, url, body=None):
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def raw_request(host, port, data):
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(data)
        return sock.recv(64)


def main():
    kad = sys.argv[1]
    node = subprocess.Popen(
        [kad, "node", "--listen", "127.0.0.1:0", "--metrics", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        address = read_line(node, "listening ")
        url = read_line(node, "metrics ")
        host_port = url.removeprefix("http://").removesuffix("/metrics")
        host, port = host_port.rsplit(":", 1)
        assert host == "127.0.0.1", url  # A bare port means loopback.

        before = scrape(url)
        assert before[("kad_node_info", ("id", before_id(before)))] == 1
        for command in (["ping", address],
                        ["put", "metrics-key", "metrics-value",
                         "--bootstrap", address]):
            subprocess.run([kad, *command], check=True,
                           stdout=subprocess.DEVNULL, timeout=DEADLINE_S)

        # The server's snapshot is refreshed every second on the loop.
        wanted = {
            ("kad_messages_in_total", ("type", "ping")): 1,
            ("kad_messages_in_total", ("type", "store")): 1,
            ("kad_stores_accepted_total",): 1,
        }
        deadline = time.monotonic() + DEADLINE_S
        while True:
            after = scrape(url)
            if all(after[k] >= before[k] + n for k, n in wanted.items()):
                break
            assert time.monotonic() < deadline, f"counters did not rise: {after}"
            time.sleep(0.2)
        assert after[("kad_datagrams_in_total",)] > before[("kad_datagrams_in_total",)]
        assert after[("kad_records",)] == 1, after[("kad_records",)]
        assert after[("kad_lookup_duration_seconds_count",)] >= 0

        # Bad requests are answered, never a crash.
        base = f"http://{host_port}"
        assert status_of("GET", base + "/nope") == 404
        assert status_of("GET", base + "/") == 404
        assert status_of("POST", url, b"x") == 405
        assert raw_request(host, int(port), b"GARBAGE\r\n\r\n").startswith(
            b"HTTP/1.1 400"), "malformed request line"
        assert raw_request(host, int(port), b"\x00\xff" * 64 + b"\r\n\r\n").startswith(
            b"HTTP/1.1 400"), "binary junk"
        scrape(url)
        assert node.poll() is None, "node died"

        # A second node cannot share the metrics port.
        second = subprocess.run(
            [kad, "node", "--listen", "127.0.0.1:0", "--metrics", port],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            timeout=DEADLINE_S)
        assert second.returncode == 3, second.returncode
        assert "cannot bind metrics address" in second.stderr, second.stderr
    finally:
        node.terminate()
        code = node.wait(timeout=DEADLINE_S)
    assert code == 0, f"node exited {code}"
    print("metrics_scrape_test: ok")


def before_id(samples):
    ids = [dict([label]).get("id") for (name, *labels) in samples
           if name == "kad_node_info" for label in labels]
    assert len(ids) == 1, ids
    return ids[0]


if __name__ == "__main__":
    main()
