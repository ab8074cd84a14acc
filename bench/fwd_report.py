#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Section 2's reports, from the per-measurement JSON files of bench/fwd.sh.

    fwd_report.py RESDIR OUTDIR SECONDS ROUNDS GEN_CPU RELAY_CPU TUNNELS FLOWS

TUNNELS and FLOWS describe the spread run (TUNNELS 0: there was none).

Writes OUTDIR/fwd.json, fwd.md (table only) and fwd.dat (for fwd_plot.gp).
Each figure is the median over the rounds; every ratio compares two
medians from the same run. fwd.sh has already checked every measurement's
proof, so this only summarises.
"""
import glob
import json
import os
import statistics
import sys

res, out, seconds, rounds, gen_cpu, relay_cpu, tunnels, flows = sys.argv[1:9]

PATHS = [  # (key, label)
    ("native", "tspgw, native XDP"),
    ("generic", "tspgw, generic XDP"),
    ("tc", "tspgw, tc only"),
    ("relay", "userspace relay (UDP socket <-> TUN)"),
    ("kernel", "kernel IPv6 forwarding, no tunnel"),
    ("direct", "generator -> sink, no gateway"),
]
# The spread run: the same paths, traffic over FLOWS of TUNNELS tunnels.
SPREAD = [
    ("native_spread", "tspgw, native XDP"),
    ("relay_spread", "userspace relay (UDP socket <-> TUN)"),
    ("kernel_spread", "kernel IPv6 forwarding, no tunnel"),
    ("direct_spread", "generator -> sink, no gateway"),
]
DIRS = ("decap", "encap")
PROOF = {
    "native": "tspgw counters `decap` / `encap`, and `nh_hit`",
    "generic": "tspgw counters `decap` / `encap`, and `nh_hit`",
    "tc": "tspgw counter `encap_tc`",
    "relay": "the relay's own counts (written to TUN / sent)",
    "kernel": "`Ip6OutForwDatagrams` of the gateway",
    "direct": "the sink itself",
}

def base(key):
    return key.replace("_spread", "")


data = {}
for key, _ in PATHS + SPREAD:
    for d in DIRS:
        runs = []
        for f in sorted(glob.glob(os.path.join(res, "%s.%s.*.json" % (key, d)))):
            with open(f) as fh:
                runs.append(json.load(fh))
        if runs:
            data.setdefault(key, {})[d] = {
                "delivered_pps": statistics.median(r["delivered_pps"] for r in runs),
                "offered_pps": statistics.median(r["sent_pps"] for r in runs),
                "min_pps": min(r["delivered_pps"] for r in runs),
                "max_pps": max(r["delivered_pps"] for r in runs),
                "frame_bytes": runs[0]["frame_bytes"],
                "proof": PROOF[base(key)],
                "flows": runs[0].get("flows", 1),
                "relay_cpu_ns_per_pkt": statistics.median(r["relay_cpu_ns_per_pkt"] for r in runs)
                if base(key) == "relay" else None,
                "rounds": runs,
            }


def pps(key, d):
    return data.get(key, {}).get(d, {}).get("delivered_pps")


def ratio(a, b, d):
    x, y = pps(a, d), pps(b, d)
    return round(x / y, 2) if x and y else None


def gw_ns(key, d):
    """CPU nanoseconds the gateway spends per delivered packet. The
    generator's CPU is busy for the whole window, so per delivered packet it
    spends 1e9/pps; the generator and sink alone ("direct") take 1e9/pps of
    their own; the rest is the gateway's. The relay also keeps a second CPU
    busy: its busy time per packet is added."""
    direct = "direct_spread" if key.endswith("_spread") else "direct"
    x, y = pps(key, d), pps(direct, d)
    if key == direct or not x or not y:
        return None
    ns = 1e9 / x - 1e9 / y
    if base(key) == "relay":
        v = data.get(key, {}).get(d, {}).get("relay_cpu_ns_per_pkt")
        if not v:
            return None
        ns += v
    return round(ns)


def ns_ratio(a, b, d):
    """How many times b's CPU cost per packet a's is (higher = a cheaper)."""
    x, y = gw_ns(a, d), gw_ns(b, d)
    return round(y / x, 2) if x and y else None


RATIOS = [  # (name, a, b, target)
    ("native XDP / userspace relay", "native", "relay", 10.0),
    ("native XDP / kernel IPv6 forwarding", "native", "kernel", 2.0),
    ("spread: native XDP / userspace relay", "native_spread", "relay_spread", 10.0),
    ("spread: native XDP / kernel IPv6 forwarding", "native_spread", "kernel_spread", 2.0),
    ("spread / one tunnel, native XDP", "native_spread", "native", None),
    ("generic XDP / native XDP", "generic", "native", None),
    ("tc only / native XDP", "tc", "native", None),
    ("userspace relay / kernel IPv6 forwarding", "relay", "kernel", None),
]
ratios = []
for name, a, b, target in RATIOS:
    if a not in data or b not in data:
        continue
    r = {"ratio": name, "decap": ratio(a, b, "decap"), "encap": ratio(a, b, "encap")}
    if base(b) == "relay":
        r["cpu_cost"] = {d: ns_ratio(a, b, d) for d in DIRS}
    if target is not None:
        r["target"] = target
        r["met"] = all(v is not None and v >= target for v in (r["decap"], r["encap"]))
    ratios.append(r)

report = {
    "method": "live frames (BPF_F_TEST_XDP_LIVE_FRAMES) from a generator namespace through "
              "the gateway namespace into an XDP sink; delivered packets/s over a timed window; "
              "median of the rounds",
    "seconds_per_measurement": float(seconds),
    "rounds": int(rounds),
    "generator_cpu": int(gen_cpu),
    "relay_cpu": int(relay_cpu),
    "spread": {"tunnels_loaded": int(tunnels), "flows": int(flows),
               "how": "the data plane filled by bench/scale (the broker's assign and map "
                      "functions); fwd_gen cycles through one frame per picked tunnel "
                      "(evenly spaced over the fill); the relay relays for all of them; "
                      "kernel forwarding gets the same inner packets (from / to the "
                      "tunnels' host addresses)"} if int(tunnels) else None,
    "paths": {k: data[k] for k, _ in PATHS + SPREAD if k in data},
    "gateway_ns_per_packet": {k: {d: gw_ns(k, d) for d in DIRS} for k, _ in PATHS + SPREAD
                              if base(k) != "direct" and k in data},
    "ratios": ratios,
}
with open(os.path.join(out, "fwd.json"), "w") as fh:
    json.dump(report, fh, indent=2)
    fh.write("\n")


def fmt_pps(v):
    return "n/a" if v is None else "{:,}".format(int(round(v))).replace(",", " ")


def fmt_ns(v):
    return "" if v is None else str(v)


def fmt_ratio(v):
    return "n/a" if v is None else "%.2f" % v


lines = [
    "Delivered packets/s (median of %s rounds of %s s; min-max in the JSON). "
    "decap: IPv6-in-UDP-in-IPv4 in, IPv6 out; encap: IPv6 in, tunnelled out. "
    "64-byte inner IPv6 packets. The gateway under `tspgw run` (next-hop cache on)."
    % (rounds, seconds),
]


def table(paths, title):
    global lines
    lines += ["", title, "",
              "| path | decap pps | encap pps | gateway CPU ns/pkt decap | encap |",
              "|------|---:|---:|---:|---:|"]
    for key, label in paths:
        if key not in data:
            continue
        dec, enc = pps(key, "decap"), pps(key, "encap")
        ns_d, ns_e = gw_ns(key, "decap"), gw_ns(key, "encap")
        if base(key) == "relay":
            ns_d, ns_e = ("%s (2 CPUs)" % v if v else "" for v in (ns_d, ns_e))
        lines.append("| %s | %s | %s | %s | %s |" % (
            label, fmt_pps(dec), fmt_pps(enc) if key != "tc" or enc else "n/a",
            fmt_ns(ns_d) if key != "tc" else "n/a (no tc decap)", fmt_ns(ns_e)))


table(PATHS, "One tunnel:")
if any(k in data for k, _ in SPREAD):
    table(SPREAD, "Spread: %s tunnels loaded, traffic spread over %s of them:" % (
        "{:,}".format(int(tunnels)).replace(",", " "), "{:,}".format(int(flows)).replace(",", " ")))
lines += ["", "| ratio (same run) | decap | encap | target | met? |", "|---|---:|---:|---|---|"]
for r in ratios:
    met = ""
    if "target" in r:
        met = "yes" if r["met"] else "**no** !"
    lines.append("| %s | %s | %s | %s | %s |" % (
        r["ratio"], fmt_ratio(r["decap"]), fmt_ratio(r["encap"]),
        "≥ %g" % r["target"] if "target" in r else "", met))
    if "cpu_cost" in r:
        c = r["cpu_cost"]
        lines.append("| %s, CPU ns per packet (relay ÷ XDP) | %s | %s | | |" % (
            r["ratio"], fmt_ratio(c["decap"]), fmt_ratio(c["encap"])))
with open(os.path.join(out, "fwd.md"), "w") as fh:
    fh.write("\n".join(lines) + "\n")

# Mpps per path and direction; NaN where a path has no such direction.
with open(os.path.join(out, "fwd.dat"), "w") as fh:
    fh.write("# path, Mpps decap, Mpps encap\n")
    for key, label in PATHS + SPREAD:
        if key not in data:
            continue
        vals = ["%.4f" % (pps(key, d) / 1e6) if pps(key, d) else "NaN" for d in DIRS]
        short = label.replace("userspace relay (UDP socket <-> TUN)", "userspace relay")
        short = short.replace("kernel IPv6 forwarding, no tunnel", "kernel IPv6 fwd")
        short = short.replace("generator -> sink, no gateway", "no gateway")
        if key.endswith("_spread"):
            short += ", spread"
        fh.write('"%s" %s\n' % (short, " ".join(vals)))
