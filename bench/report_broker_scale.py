#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Sections 3 and 4 of `make bench`: turns the raw results of bench/broker.sh
(broker_runs.jsonl) and bench/scale.sh (scale_steps.json) into a JSON
section and a Markdown table each, with the targets and their checks.

usage: report_broker_scale.py OUTDIR
Writes OUTDIR/broker.json, broker.md, scale.json, scale.md for the sections
whose raw results exist. Standard library only.
"""
import json
import os
import sys

UDP_TARGET = 20000          # anonymous setups/s over UDP
MAP_BYTES_TARGET = 256      # kernel map memory per tunnel
RESTART_TARGET_S = 5.0      # SIGKILL -> serving again with 1M tunnels


def ms(us):
    return "%.1f" % (us / 1000.0)


def broker(out):
    runs = [json.loads(l) for l in open(os.path.join(out, "broker_runs.jsonl")) if l.strip()]
    end = next((r for r in runs if r["label"] == "broker at the end"), None)
    runs = [r for r in runs if "setups" in r]
    by = {r["label"]: r for r in runs}
    for r in runs:
        # Proof: the broker logged an accepted tunnel for every setup, and
        # anonymous UDP setups (each from a new origin) each added a map entry.
        r["proof_ok"] = (r["failed"] == 0 and r["broker_accept_events"] == r["setups"] and
                         (r["transport"] != "udp" or r["auth"] != "anonymous" or
                          r["map_entries_added"] == r["setups"]))
        if "database" in r:
            # bench/broker_db.sh: each gateway logged the setups sent to it,
            # and its maps hold the tunnels of the users it served.
            r["proof_ok"] = (r["proof_ok"] and r["accepts_per_gateway"] == r["setups_per_server"] and
                             all(e > 0 for e in r["map_entries_per_gateway"]))
    md = ["| run | setups | setups/s | p50 ms | p99 ms | failed | retransm. | map entries added | accepts logged |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        if r["label"] == "warm-up" or r["setups"] == 0 or "database" in r:
            continue
        md.append("| %s | %d | %.0f | %s | %s | %d | %d | %d | %d%s |" % (
            r["label"], r["setups"], r["setups_per_s"], ms(r["latency_us"]["p50"]),
            ms(r["latency_us"]["p99"]), r["failed"], r["retransmits"], r["map_entries_added"],
            r["broker_accept_events"], "" if r["proof_ok"] else " !"))
    res = {"runs": runs, "proof_ok": all(r["proof_ok"] for r in runs)}
    udp = [by[k] for k in ("udp anonymous",) if k in by]
    md.append("")
    if udp:
        best = max(r["setups_per_s"] for r in udp)
        res["udp_anonymous_setups_per_s"] = best
        res["target_udp_anonymous"] = {"target": UDP_TARGET, "met": best >= UDP_TARGET}
        md.append("Anonymous setups over UDP: **%.0f/s** (%d concurrent sessions, generator on "
                  "the other CPU); target ≥ %d/s: %s." % (best, udp[0]["concurrency"], UDP_TARGET,
                                                     "met" if best >= UDP_TARGET else "**missed !**"))
    alone = by.get("10k idle tcp sessions alone")
    if alone:
        rss = alone["broker_rss_kb"]
        per_idle = (rss["idle_open"] - rss["before"]) * 1024.0 / alone["idle_sessions"]
        res["idle"] = {"sessions": alone["idle_sessions"], "open_s": alone["idle_open_s"],
                       "broker_rss_kb_before": rss["before"], "broker_rss_kb_idle_open": rss["idle_open"],
                       "broker_bytes_per_idle_session": round(per_idle)}
        md.append("%d idle TCP sessions (each answered VERSION, then silent) opened in %.1f s; on "
                  "the fresh broker they took %.1f MiB of its resident memory, %.0f bytes each "
                  "(socket buffers are kernel memory, not in this figure)." % (
                      alone["idle_sessions"], alone["idle_open_s"],
                      (rss["idle_open"] - rss["before"]) / 1024.0, per_idle))
    for key, name in (("udp anonymous, ± 10k idle tcp", "udp"), ("tcp anonymous, ± 10k idle tcp", "tcp")):
        r = by.get(key)
        if not r or not r.get("pairs") or "idle" not in res:
            continue
        ps = r["pairs"]
        rate = sorted(ps[i + 1]["setups_per_s"] / ps[i]["setups_per_s"] for i in range(0, len(ps), 2))
        p99 = sorted(ps[i + 1]["p99_us"] / max(1, ps[i]["p99_us"]) for i in range(0, len(ps), 2))
        res["idle"][name + "_rate_ratio_idle_vs_not"] = round(rate[len(rate) // 2], 3)
        res["idle"][name + "_p99_ratio_idle_vs_not"] = round(p99[len(p99) // 2], 3)
        md.append("%s anonymous with the idle sessions open vs without (median of %d alternating "
                  "pairs): setups/s %.2f× (pairs: %s), p99 latency %.2f×." % (
                      name.upper(), len(rate), rate[len(rate) // 2],
                      ", ".join("%.0f→%.0f" % (ps[i]["setups_per_s"], ps[i + 1]["setups_per_s"])
                                for i in range(0, len(ps), 2)), p99[len(p99) // 2]))
    db = [r for r in runs if "database" in r]
    base = [r["setups_per_s"] for r in db if r["database"] == "sqlite" and r["gateways"] == 1]
    if db and base and min(base) > 0:
        b = sum(base) / len(base)
        res["by_database"] = {"baseline_setups_per_s": b, "runs": [
            {"label": r["label"], "database": r["database"], "gateways": r["gateways"],
             "setups_per_s": r["setups_per_s"], "ratio": round(r["setups_per_s"] / b, 2)} for r in db]}
        md += ["", "Authenticated setups (DIGEST-MD5 over TCP, %d concurrent) by assignment database, "
               "as a ratio to SQLite with one gateway (the mean of its two runs, %.0f/s), all in "
               "this run:" % (db[0]["concurrency"], b), "",
               "| run | setups | setups/s | ratio | p50 ms | p99 ms | failed | accepts logged per gateway | tunnels in maps per gateway |",
               "|---|---:|---:|---:|---:|---:|---:|---|---|"]
        for r in db:
            md.append("| %s | %d | %.0f | %.2f× | %s | %s | %d | %s | %s%s |" % (
                r["label"], r["setups"], r["setups_per_s"], r["setups_per_s"] / b,
                ms(r["latency_us"]["p50"]), ms(r["latency_us"]["p99"]), r["failed"],
                " + ".join(map(str, r["accepts_per_gateway"])),
                " + ".join(map(str, r["map_entries_per_gateway"])), "" if r["proof_ok"] else " !"))
        md.append("")
    if end:
        res["broker_at_end"] = end
        md.append("Broker at the end: %d tunnels, resident memory %.0f MiB. Load average of the "
                  "machine (1, 5, 15 min) before the section: %s; after: %s (2 CPUs: above 2, "
                  "other work competed with the broker and the generator)." % (
                      end["tunnels"], end["broker_rss_kb"] / 1024.0, end.get("loadavg_before", "?"),
                      end.get("loadavg_after", "?")))
    md.append("Every row is proven by the broker's own log (one `tunnel created/replaced/moved` line "
              "per accepted setup) and, for anonymous UDP, one new `bindings` entry per setup; `!` "
              "marks a row where that did not hold.")
    return res, "\n".join(md) + "\n"


def scale(out):
    s = json.load(open(os.path.join(out, "scale_steps.json")))
    n = s["tunnels"]
    maps = s["fill"]["maps"]
    total = sum(m["memlock_after"] for m in maps.values())
    per = total / n
    rss = s["broker_rss_kb"]
    rss_per = (rss["with_tunnels"] - rss["no_tunnels"]) * 1024.0 / n
    restart = s["restart_after_sigkill"]["serving_s"]
    ok_restore = s["restart_after_sigkill"]["restored"] == s["bindings_entries_at_end"] >= n
    res = dict(s)
    res.update({
        "map_bytes_per_tunnel": round(per), "broker_rss_bytes_per_tunnel": round(rss_per),
        "target_map_bytes": {"target": MAP_BYTES_TARGET, "met": per <= MAP_BYTES_TARGET},
        "target_restart": {"target_s": RESTART_TARGET_S, "met": restart <= RESTART_TARGET_S and ok_restore},
        "proof_ok": ok_restore and s["fill"]["entries_after"] - s["fill"]["entries_before"] == n,
    })
    md = ["| figure | value | target |", "|---|---:|---|"]
    md.append("| tunnels in the maps (`bindings` entries) | %d | |" % s["bindings_entries_at_end"])
    for name, m in maps.items():
        md.append("| map memory: `%s` (%d entries max) | %.1f MiB | |" % (
            name, m["max_entries"], m["memlock_after"] / 1048576.0))
    md.append("| **map memory per tunnel** | **%.0f B** | ≤ %d B%s |" % (
        per, MAP_BYTES_TARGET, "" if per <= MAP_BYTES_TARGET else " **!**"))
    md.append("| broker resident memory per tunnel | %.0f B | |" % rss_per)
    md.append("| broker resident memory, no tunnels / %d | %.1f / %.1f MiB | |" % (
        n, rss["no_tunnels"] / 1024.0, rss["with_tunnels"] / 1024.0))
    md.append("| load: %d tunnels through assign + map insert | %.1f s (%.0f/s) | |" % (
        n, s["fill"]["seconds"], s["fill"]["per_s"]))
    md.append("| data plane attach (maps created) | %.2f s | |" % s["attach_s"])
    md.append("| broker start with them (restore, then serving) | %.2f s | |" % s["first_start"]["serving_s"])
    md.append("| **restart after SIGKILL, serving TSP again** | **%.2f s** (%d restored) | ≤ %.0f s%s |" % (
        restart, s["restart_after_sigkill"]["restored"], RESTART_TARGET_S,
        "" if res["target_restart"]["met"] else " **!**"))
    return res, "\n".join(md) + "\n"


def main():
    out = sys.argv[1]
    for name, fn, raw in (("broker", broker, "broker_runs.jsonl"), ("scale", scale, "scale_steps.json")):
        if not os.path.exists(os.path.join(out, raw)):
            continue
        res, md = fn(out)
        json.dump(res, open(os.path.join(out, name + ".json"), "w"), indent=2)
        open(os.path.join(out, name + ".md"), "w").write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
