#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The proof behind one section-2 figure, written into its result file.

The path's own counter moved by at least what the sink counted, so every
delivered frame took that path; the sink saw fewer than 100 frames it did
not expect; with --nh, the next-hop cache served the path (nh_hit moved
by at least 90 % of what was delivered: a key misses when it goes in, and
again each time its entry ages out). On failure: exit 1, the reason on
stdout.

  fwd_proof.py FILE WHAT BEFORE AFTER        the counter's two values
                                             (AFTER "sink": the sink's own count)
  fwd_proof.py FILE WHAT --snap C0 C1 [--nh] two `tspgw status --json`
                                             snapshots; WHAT is the counter
"""
import json
import sys


def main(argv):
    f, what = argv[1], argv[2]
    d = json.load(open(f))
    got = d["delivered_total"]
    c0 = c1 = None
    if argv[3] == "--snap":
        c0, c1 = (json.load(open(x))["counters"] for x in argv[4:6])
        moved = c1[what] - c0[what]
    else:
        before, after = argv[3], argv[4]
        moved = got if after == "sink" else int(after) - int(before)
    if not (got > 0 and moved >= got):
        return "%s moved by %d, the sink counted %d" % (what, moved, got)
    if d["other"] >= 100:
        return "the sink saw %d unexpected frames" % d["other"]
    d["proof"] = {"counter": what, "moved": moved}
    if "--nh" in argv[6:]:
        hit, miss = c1["nh_hit"] - c0["nh_hit"], c1["nh_miss"] - c0["nh_miss"]
        if 10 * hit < 9 * got:
            return "nh_hit moved by %d (nh_miss by %d), the sink counted %d" % (hit, miss, got)
        d["nh_cache"] = {"hit": hit, "miss": miss}
    json.dump(d, open(f, "w"))
    return None


if __name__ == "__main__":
    why = main(sys.argv)
    if why:
        print(why)
        sys.exit(1)
