#!/usr/bin/env python3
"""Abuse scenarios on the testbed of real hosts (docs/TESTBED.md).

Run under scripts/testbed.sh, which builds the hosts and tears them down:

  bash scripts/testbed.sh --hosts 6 -- \
      python3 tests/testbed/scenarios.py --kad build/cli/kad flood

Scenarios (each runs its attack once with the node's limits on and once,
as the control, with them off, and fails unless the limits make the
difference the issue asks for):

  flood       host 5 floods host 1's node with pings and find_values from
              one socket for 5 s; it must get at most its limit answered
              while `kad get` from hosts 2-4 through the same node all
              succeed. Control: --rate-limit off --rate-limit-global off
              --reply-budget off answers far more.
  reflection  host 5 sends find_node requests whose IP source is host 6
              (raw socket) to host 1's node for 5 s; host 6 must receive at
              most the reply budget. Both runs have admission off
              (--rate-limit off --rate-limit-global off) so the budget
              alone is measured; the control adds --reply-budget off.

Roles: host 1 the node under test, hosts 2-4 honest nodes (two each) and
clients, host 5 the attacker, host 6 the victim. Prints one JSON summary
line per run (the figures docs/TESTBED.md reports). Exits 0 on success, 1
on a failed check, 77 when there is no testbed to run on.
"""
import argparse
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TRAFFIC = os.path.join(HERE, "traffic.py")
NODE_PORT = 4222
VICTIM_PORT = 6881
ATTACK_SECONDS = 5
# kad node's defaults (README: --rate-limit 200/s, bursts of 5 s worth;
# --reply-budget 65536/s, bursts of one second's worth).
RATE_LIMIT = 200
RATE_BURST = 5 * RATE_LIMIT
REPLY_BUDGET = 65536
LIMITS_OFF = ["--rate-limit", "off", "--rate-limit-global", "off"]


class Testbed:
    """The hosts scripts/testbed.sh made, and the processes we run on them."""

    def __init__(self, kad):
        self.kad = kad
        self.hosts = os.environ["KAD_TESTBED_HOSTS"].split()
        self.addresses = os.environ["KAD_TESTBED_ADDRESSES"].split()
        self.processes = []
        self.logs = tempfile.mkdtemp(prefix="kad-testbed-")
        self.run_name = "run"  # Prefixes the node logs of the current run.

    def address(self, host):
        return self.addresses[host - 1]

    def popen(self, host, argv, **kwargs):
        process = subprocess.Popen(
            ["ip", "netns", "exec", self.hosts[host - 1]] + argv, **kwargs)
        self.processes.append(process)
        return process

    def run(self, host, argv, timeout):
        return subprocess.run(
            ["ip", "netns", "exec", self.hosts[host - 1]] + argv,
            capture_output=True, text=True, timeout=timeout)

    def start_node(self, host, port, flags, bootstrap=None):
        """Starts `kad node` on host:port; returns its address once it listens."""
        listen = "%s:%d" % (self.address(host), port)
        argv = [self.kad, "node", "--listen", listen,
                "--stats-allow", "198.18.0.0/15"] + flags
        if bootstrap:
            argv += ["--bootstrap", bootstrap]
        log = open(os.path.join(self.logs, "%s-node-%s.log" % (
            self.run_name, listen)), "w")
        process = self.popen(host, argv, stdout=subprocess.PIPE, stderr=log)
        log.close()  # The node has its own descriptor.
        output = b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(process.stdout.fileno(), 4096)
                if not chunk:
                    break
                output += chunk
                for line in output.decode().splitlines():
                    if line.startswith("listening "):
                        return line.split()[1]
        raise RuntimeError("kad node on %s did not start (log in %s)" %
                           (listen, self.logs))

    def stop_all(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []

    def kad_json(self, host, argv, timeout=15):
        result = self.run(host, [self.kad] + argv + ["--json"], timeout)
        if result.returncode != 0:
            raise RuntimeError("kad %s on host %d: exit %d: %s" % (
                " ".join(argv), host, result.returncode, result.stderr.strip()))
        return json.loads(result.stdout)


def start_overlay(testbed, target_flags):
    """The node under test on host 1 and two honest nodes on each of hosts
    2-4, joined through it. Returns the target's address."""
    target = testbed.start_node(1, NODE_PORT, target_flags)
    for host in (2, 3, 4):
        for port in (NODE_PORT, NODE_PORT + 1):
            testbed.start_node(host, port, [], bootstrap=target)
    time.sleep(1)  # Let the joins' lookups settle.
    return target


def traffic(testbed, host, argv):
    return testbed.popen(host, [sys.executable, TRAFFIC] + argv,
                         stdout=subprocess.PIPE, text=True)


def report(process, timeout):
    out, _ = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise RuntimeError("traffic.py exited %d" % process.returncode)
    return json.loads(out.strip().splitlines()[-1])


def flood_run(testbed, limits_on, rate):
    flags = [] if limits_on else LIMITS_OFF + ["--reply-budget", "off"]
    testbed.run_name = "flood-limits-" + ("on" if limits_on else "off")
    target = start_overlay(testbed, flags)
    try:
        put = testbed.kad_json(2, ["put", "testbed-key", "hello",
                                   "--bootstrap", target])
        attacker = traffic(testbed, 5, ["flood", "--target", target,
                                        "--seconds", str(ATTACK_SECONDS),
                                        "--rate", str(rate)])
        gets = []  # (host, exit code, seconds, value)
        lock = threading.Lock()
        stop = time.monotonic() + ATTACK_SECONDS

        def get_loop(host):
            while time.monotonic() < stop:
                began = time.monotonic()
                result = testbed.run(host, [testbed.kad, "get", "testbed-key",
                                            "--bootstrap", target,
                                            "--timeout", "5s"], timeout=15)
                with lock:
                    gets.append((host, result.returncode,
                                 round(time.monotonic() - began, 3),
                                 result.stdout.strip()))
                time.sleep(0.2)

        time.sleep(0.3)  # The flood is under way before the first get.
        threads = [threading.Thread(target=get_loop, args=(h,))
                   for h in (2, 3, 4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        flood = report(attacker, timeout=ATTACK_SECONDS + 20)
    finally:
        testbed.stop_all()
    good = [g for g in gets if g[1] == 0 and g[3] == "hello"]
    summary = {
        "scenario": "flood", "limits": "on" if limits_on else "off",
        "rate": rate or "full speed",
        "put_stored": put.get("stored"), "sent": flood["sent"],
        "seconds": flood["seconds"],
        "sent_per_second": round(flood["sent"] / flood["seconds"]),
        "answered": flood["answered"],
        "answered_per_second": round(flood["answered"] / flood["seconds"]),
        "answered_by_second": flood["answered_per_second"],
        "gets": len(gets), "gets_ok": len(good),
        "get_seconds_max": max((g[2] for g in gets), default=None),
        "failed_gets": [g for g in gets if g not in good][:5],
    }
    print(json.dumps(summary), flush=True)
    return summary


def check_flood(on, off, rate):
    failures = []
    # The limit: a burst of 1,000 plus 200/s while the flood lasts, with
    # half a second's slack for timing.
    bound = RATE_BURST + RATE_LIMIT * (on["seconds"] + 0.5)
    if on["answered"] > bound:
        failures.append("flood: %d answered with limits on, over %d" %
                        (on["answered"], bound))
    for run in (on,):
        if run["gets"] == 0 or run["gets_ok"] != run["gets"]:
            failures.append("flood: %d of %d gets succeeded with limits %s" %
                            (run["gets_ok"], run["gets"], run["limits"]))
    # The control must show the limit is what made the difference: at full
    # speed most requests answered (the node, sharing the cores with the
    # sender, drops some), a paced flood's nearly all.
    if rate:
        short = off["answered"] < 0.9 * off["sent"]
    else:
        short = off["answered"] < 10 * bound or off["answered"] < 0.5 * off["sent"]
    if short:
        failures.append("flood control: only %d of %d answered with limits "
                        "off" % (off["answered"], off["sent"]))
    return failures


def reflection_run(testbed, budget_on):
    flags = LIMITS_OFF + ([] if budget_on else ["--reply-budget", "off"])
    testbed.run_name = "reflection-budget-" + ("on" if budget_on else "off")
    target = start_overlay(testbed, flags)
    victim = "%s:%d" % (testbed.address(6), VICTIM_PORT)
    try:
        listener = traffic(testbed, 6, ["listen", "--bind", victim,
                                        "--seconds", str(ATTACK_SECONDS + 2)])
        # Wait for the listener to bind before the attack starts.
        ready, _, _ = select.select([listener.stdout], [], [], 10)
        if not ready or "listening" not in listener.stdout.readline():
            raise RuntimeError("victim listener did not start")
        attacker = traffic(testbed, 5, ["spoof", "--target", target,
                                        "--source", victim,
                                        "--seconds", str(ATTACK_SECONDS)])
        spoofed = report(attacker, timeout=ATTACK_SECONDS + 20)
        received = report(listener, timeout=ATTACK_SECONDS + 20)
        stats = testbed.kad_json(2, ["stats", target])
    finally:
        testbed.stop_all()
    summary = {
        "scenario": "reflection", "budget": "on" if budget_on else "off",
        "contacts": stats.get("contacts"),
        "requests_sent": spoofed["sent"],
        "attack_seconds": round(spoofed["seconds"], 3),
        "request_bytes": spoofed["request_payload_bytes"],
        "victim_datagrams": received["datagrams"],
        "victim_bytes": received["bytes"],
        "victim_bytes_per_second": round(received["bytes"] / spoofed["seconds"]),
        "victim_bytes_by_second": received["bytes_per_second"],
        "victim_by_type": received["received_by_type"],
    }
    print(json.dumps(summary), flush=True)
    return summary


def check_reflection(on, off):
    failures = []
    # A burst of one second's budget plus the budget per second while the
    # attack lasts, with half a second's slack for timing.
    bound = REPLY_BUDGET * (1 + on["attack_seconds"] + 0.5)
    if on["victim_bytes"] > bound:
        failures.append("reflection: victim got %d bytes with the budget on, "
                        "over %d" % (on["victim_bytes"], bound))
    if on["victim_bytes"] == 0:
        failures.append("reflection: the victim got nothing: was the node "
                        "reached at all?")
    if off["victim_bytes"] < 5 * bound:
        failures.append("reflection control: only %d bytes reached the victim "
                        "with the budget off" % off["victim_bytes"])
    return failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kad", required=True)
    parser.add_argument("scenario", choices=["flood", "reflection"])
    parser.add_argument("--flood-rate", type=float, default=0,
                        help="pace the flood at N requests/s (default: as "
                        "fast as one socket goes)")
    args = parser.parse_args()
    if "KAD_TESTBED_HOSTS" not in os.environ:
        print("scenarios: run me under scripts/testbed.sh", file=sys.stderr)
        return 77
    testbed = Testbed(os.path.abspath(args.kad))
    if len(testbed.hosts) < 6:
        print("scenarios: need --hosts 6 or more", file=sys.stderr)
        return 2
    try:
        if args.scenario == "flood":
            failures = check_flood(flood_run(testbed, True, args.flood_rate),
                                   flood_run(testbed, False, args.flood_rate),
                                   args.flood_rate)
        else:
            failures = check_reflection(reflection_run(testbed, True),
                                        reflection_run(testbed, False))
    except Exception:
        print("node logs: " + testbed.logs, file=sys.stderr)
        raise
    finally:
        testbed.stop_all()
    for failure in failures:
        print("FAILED: " + failure, file=sys.stderr)
    if failures:
        print("node logs: " + testbed.logs, file=sys.stderr)
        return 1
    shutil.rmtree(testbed.logs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
