#!/usr/bin/python3
"""Plots `kad bench lookup --json` reports, Kademlia beside the flooding baseline.

Usage: python3 bench/plot.py out.png run-1000.json run-10000.json ...
       python3 bench/plot.py --adversary out.png run-F-d.json ...

Draws three panels into one PNG: (1) the latency CDF of each run, from its
`latency_cdf` [[ms, fraction], ...] points when present, else from the
p50/p90/p99/max percentiles; (2) hops and (3) messages (rpcs) per lookup
against the number of nodes on a log axis (messages log-log, each flooding
point labelled with its multiple of Kademlia's). Runs with a `baseline`
object (`--baseline flooding`) add the flooding curves, dashed.

With --adversary, the reports are runs of one overlay under the drop
attack (`--adversary F --attack drop`; a report without `adversary` is
F = 0) with several `--disjoint-paths d`: three panels of one line per d
against F, (1) get success, (2) RPCs per get (mean), (3) get latency p50
(solid) and p99 (dotted) in multiples of the median RTT.
"""
import json
import sys

try:
    import matplotlib
except ImportError:
    sys.exit("plot.py: needs matplotlib (Debian: apt install python3-matplotlib;"
             f" this is {sys.executable}, try /usr/bin/python3)")

matplotlib.use("Agg")  # Files only, no display.
import matplotlib.pyplot as plt  # noqa: E402

PERCENTILES = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("max", 1.00))
REQUIRED = ("nodes", "hops", "rpcs", "latency_ms")
KADEMLIA = {"name": "Kademlia", "color": "tab:blue", "linestyle": "-"}
FLOODING = {"name": "flooding", "color": "tab:red", "linestyle": "--"}


def fail(message):
    sys.exit(f"plot.py: {message}")


def load(path):
    """Returns the report in `path`, or exits naming what is wrong with it."""
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    except json.JSONDecodeError as e:
        fail(f"{path} is not valid JSON: {e}")
    if not isinstance(report, dict) or not isinstance(report.get("nodes"), int):
        fail(f"{path}: no integer `nodes` (not a `kad bench lookup --json` report?)")
    parts = {"": report}
    if "baseline" in report:
        parts["baseline."] = report["baseline"]
    for prefix, part in parts.items():
        if not isinstance(part, dict):
            fail(f"{path}: `baseline` is not an object")
        for key in REQUIRED[1:]:
            if not isinstance(part.get(key), dict) or "mean" not in part[key]:
                fail(f"{path}: no `{prefix}{key}` object with a mean")
    return report


def cdf(run):
    """Returns ([ms], [fraction]) of a run's (or its baseline's) latency."""
    if run.get("latency_cdf"):
        points = sorted(run["latency_cdf"])
    else:
        points = [(run["latency_ms"][key], q) for key, q in PERCENTILES
                  if key in run["latency_ms"]]
    return [p[0] for p in points], [p[1] for p in points]


def plot_latency(ax, reports):
    colors = plt.cm.viridis([i / max(1, len(reports) - 1) * 0.85
                             for i in range(len(reports))])
    for report, color in zip(reports, colors):
        runs = [(report, "-", "Kademlia")]
        if "baseline" in report:
            runs.append((report["baseline"], "--", "flooding"))
        for run, style, name in runs:
            ms, fraction = cdf(run)
            marker = None if run.get("latency_cdf") else "o"
            ax.plot(ms, fraction, linestyle=style, marker=marker, markersize=4,
                    color=color, label=f"{name}, n={report['nodes']:,}")
    ax.set(xscale="log", xlabel="lookup latency (ms)", ylim=(0, 1.02),
           ylabel="fraction of successful lookups", title="Latency CDF")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")


def plot_versus_nodes(ax, reports, field, title, ylabel, log_y):
    nodes = [r["nodes"] for r in reports]
    series = [(KADEMLIA, reports)]
    with_baseline = [r for r in reports if "baseline" in r]
    if with_baseline:
        series.append((FLOODING, [r["baseline"] for r in with_baseline]))
    for style, runs in series:
        xs = nodes if style is KADEMLIA else [r["nodes"] for r in with_baseline]
        mean = [run[field]["mean"] for run in runs]
        ax.plot(xs, mean, marker="o", color=style["color"],
                linestyle=style["linestyle"], label=f"{style['name']} (mean)")
        if all("p50" in run[field] and "p90" in run[field] for run in runs):
            ax.fill_between(xs, [run[field]["p50"] for run in runs],
                            [run[field]["p90"] for run in runs],
                            color=style["color"], alpha=0.15,
                            label=f"{style['name']} p50-p90")
    if log_y:  # Label each flooding point with its cost over Kademlia's.
        for r in with_baseline:
            ratio = r["baseline"][field]["mean"] / max(r[field]["mean"], 1e-9)
            ax.annotate(f"×{ratio:,.0f}", (r["nodes"], r["baseline"][field]["mean"]),
                        textcoords="offset points", xytext=(0, 8),
                        ha="center", fontsize="small", color=FLOODING["color"])
    ax.set(xscale="log", yscale="log" if log_y else "linear", xlabel="nodes",
           ylabel=ylabel, title=title)
    if not log_y:
        ax.set_ylim(bottom=0)
    ax.margins(x=0.1, y=0.15)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")


def adversary_fraction(report):
    """Returns (attack, F) of a report; an honest run is ("drop", 0)."""
    adversary = report.get("adversary")
    if not adversary:
        return "drop", 0.0
    return adversary.get("attack", "?"), float(adversary.get("fraction", 0))


def plot_adversary(out, paths):
    """Draws get success, RPCs and latency against F, one line per d."""
    series = {}  # d -> [(F, report)]
    for path in paths:
        report = load(path)
        attack, fraction = adversary_fraction(report)
        if attack != "drop":
            fail(f"{path}: attack {attack!r}; --adversary plots the drop attack")
        if not isinstance(report.get("get"), dict):
            fail(f"{path}: no `get` object")
        d = int(report.get("disjoint_paths", 1))
        series.setdefault(d, []).append((fraction, report))
    figure, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    colors = plt.cm.viridis([i / max(1, len(series) - 1) * 0.85
                             for i in range(len(series))])
    for (d, runs), color in zip(sorted(series.items()), colors):
        runs.sort(key=lambda run: run[0])
        fs = [f for f, _ in runs]
        gets = [r["get"] for _, r in runs]
        label = f"d = {d}"
        axes[0].plot(fs, [100 * g["success_rate"] for g in gets], marker="o",
                     color=color, label=label)
        axes[1].plot(fs, [g["rpcs"]["mean"] for g in gets], marker="o",
                     color=color, label=label)
        axes[2].plot(fs, [g["latency_rtt"]["p50"] for g in gets], marker="o",
                     color=color, label=f"{label}, p50")
        axes[2].plot(fs, [g["latency_rtt"]["p99"] for g in gets], marker="s",
                     linestyle=":", color=color, label=f"{label}, p99")
    axes[0].axhline(99, color="tab:red", linestyle="--", linewidth=1,
                    label="target 99 %")
    axes[0].set(xlabel="fraction of nodes dropping (F)", ylabel="gets that succeed (%)",
                title="Get success under the drop attack")
    axes[1].set(xlabel="F", ylabel="RPCs per get (mean)", title="Cost: RPCs per get")
    axes[2].set(xlabel="F", ylabel="get latency (× median RTT)",
                title="Get latency, p50 and p99")
    axes[1].set_ylim(bottom=0)
    axes[2].set_ylim(bottom=0)
    for ax in axes:
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    first = next(iter(series.values()))[0][1]
    figure.suptitle(f"kad bench lookup --adversary F --attack drop --disjoint-paths d: "
                    f"{first['nodes']:,} simulated nodes ({first.get('join', '?')} join), "
                    f"seed {first.get('seed', '?')}, loss {first.get('loss', '?')}")
    figure.tight_layout()
    try:
        figure.savefig(out, dpi=110)
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror}")
    print(f"wrote {out}")


def main(argv):
    if len(argv) >= 4 and argv[1] == "--adversary" and argv[2].endswith(".png"):
        return plot_adversary(argv[2], argv[3:])
    if len(argv) < 3 or not argv[1].endswith(".png"):
        fail("usage: python3 bench/plot.py out.png run.json [run.json ...]\n"
             "       python3 bench/plot.py --adversary out.png run.json [run.json ...]")
    reports = sorted((load(path) for path in argv[2:]), key=lambda r: r["nodes"])
    figure, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    plot_latency(axes[0], reports)
    plot_versus_nodes(axes[1], reports, "hops", "Hops per lookup",
                      "hops (round trips)", log_y=False)
    plot_versus_nodes(axes[2], reports, "rpcs",
                      "Messages per lookup (×: flooding / Kademlia)",
                      "messages (rpcs)", log_y=True)
    first = reports[0]
    figure.suptitle(f"kad bench lookup — transport {first.get('transport', '?')}, "
                    f"seed {first.get('seed', '?')}")
    figure.tight_layout()
    try:
        figure.savefig(argv[1], dpi=110)
    except OSError as e:
        fail(f"cannot write {argv[1]}: {e.strerror}")
    print(f"wrote {argv[1]}")


if __name__ == "__main__":
    main(sys.argv)
