#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Print a container seccomp profile that lets CAP_BPF call bpf(2).

podman's default profile in Debian 12 (containers-common 0.50) allows bpf(2)
only with CAP_SYS_ADMIN, so a container holding CAP_BPF instead still gets
EPERM from every bpf() call. Docker's profile gates it on CAP_BPF since
23.0 (moby PR 43987); this makes the same change to a given profile, and
nothing else, so tspgw runs without CAP_SYS_ADMIN:

    python3 dist/seccomp-bpf.py > /etc/tspgw/seccomp.json
    podman run --security-opt seccomp=/etc/tspgw/seccomp.json ...

A profile that already allows bpf(2) with CAP_BPF is printed unchanged.
"""
import json
import sys

DEFAULT = "/usr/share/containers/seccomp.json"


def gated(rule, key, cap):
    return cap in (rule.get(key) or {}).get("caps", [])


def allow_bpf(profile):
    rules = profile.get("syscalls")
    if not isinstance(rules, list):
        raise ValueError("no \"syscalls\" list: not a container seccomp profile")
    if any("bpf" in r.get("names", []) and r.get("action") == "SCMP_ACT_ALLOW"
           and gated(r, "includes", "CAP_BPF") for r in rules):
        return profile
    out = []
    for r in rules:
        # The rule refusing bpf to containers without CAP_SYS_ADMIN: take
        # bpf out of it; the two rules below decide instead.
        if "bpf" in r.get("names", []) and r.get("action") != "SCMP_ACT_ALLOW" \
                and gated(r, "excludes", "CAP_SYS_ADMIN"):
            r = dict(r, names=[n for n in r["names"] if n != "bpf"])
            if not r["names"]:
                continue
        out.append(r)
    out.append({"names": ["bpf"], "action": "SCMP_ACT_ALLOW",
                "includes": {"caps": ["CAP_BPF"]}})
    out.append({"names": ["bpf"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                "excludes": {"caps": ["CAP_SYS_ADMIN", "CAP_BPF"]}})
    return dict(profile, syscalls=out)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    try:
        with open(path, encoding="utf-8") as f:
            profile = json.load(f)
        json.dump(allow_bpf(profile), sys.stdout, indent=1)
        sys.stdout.write("\n")
    except (OSError, ValueError) as e:
        sys.exit(f"seccomp-bpf.py: {path}: {e}")


if __name__ == "__main__":
    main()
