#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# Bounded memory per connection (README "Security" -> "Bounded memory per
# connection"). 50 TCP clients log in anonymously and then send commands
# without end (a bad one per 2 bytes, each answered with a 70-byte 500)
# and never read. The broker must stop reading them once
# broker.limits.max_output_bytes (64 KiB) of answers wait for each, close
# them after broker.limits.output_stall_timeout (10 s), and its resident
# memory must stay within the documented bound per connection:
#     2 x (max_content_length + 4 KiB)  input
#   + 4 x max_output_bytes             output (session + queue)
#   + 8 KiB                            state
# = 400 KiB with the defaults, so 50 x 400 KiB over the broker's RSS before
# the flood. The flood stops early when that is exceeded: on the code
# before the output cap the broker grew by hundreds of MB in seconds.
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
e2e_init
# shellcheck source=tests/adversarial/broker_gw.sh
. "$HERE/broker_gw.sh"
bgw_require python3

CLIENTS=50
PER_CONN=$((2 * (65536 + 4096) + 4 * 65536 + 8192))
BOUND=$((CLIENTS * PER_CONN))
FLOOD_S=16

BGW_BROKER="$(bgw_auth_yaml)
  limits: {sessions_per_ipv4_per_minute: 0}"
if bgw_setup >"$BGW_T/setup.log" 2>&1; then
	e2e_ok "gateway is up"
else
	e2e_not_ok "gateway is up"
	sed 's/^/#   /' "$BGW_T/setup.log"
	e2e_finish
fi
T=$BGW_T

flood() {
	e2e_ns "$BGW_NS_C" timeout $((FLOOD_S + 30)) python3 - "$(bgw_pid)" "$BOUND" "$FLOOD_S" \
		"$CLIENTS" >"$T/flood.json" <<'PY'
import json, socket, sys, time
pid, bound, dur, n = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])

def rss():
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0

base = rss()
conns = []
for i in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # and never read
    s.bind(("192.0.2.2", 0))
    s.settimeout(5)
    s.connect(("192.0.2.1", 3653))
    s.sendall(b"VERSION=2.0.2\r\nAUTHENTICATE ANONYMOUS\r\n\0")
    s.setblocking(False)
    conns.append(s)
chunk = b"X\n" * 8192
peak, sent, closed, over = base, 0, 0, False
end = time.monotonic() + dur
while time.monotonic() < end and conns:
    for s in list(conns):
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            pass
        except OSError:  # reset by the broker
            conns.remove(s)
            s.close()
            closed += 1
    r = rss()
    peak = max(peak, r)
    if r - base > bound:
        over = True
        break
    time.sleep(0.005)
print(json.dumps({"base": base, "peak": peak, "growth": peak - base, "bound": bound,
                  "sent": sent, "closed_by_broker": closed, "open": len(conns), "over": over}))
PY
}

check_flood() {
	flood || return 1
	cat "$T/flood.json"
	python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))
print("RSS grew by %.1f MB (bound %.1f MB), %d MB of commands sent" %
      (r["growth"]/1e6, r["bound"]/1e6, r["sent"]/1e6))
sys.exit(1 if r["over"] or r["growth"] > r["bound"] else 0)' "$T/flood.json"
}
e2e_check "$CLIENTS clients flooding commands without reading: broker RSS grows by less than $CLIENTS x $((PER_CONN / 1024)) KiB" check_flood

stalled_closed() {
	python3 -c '
import json,sys
r=json.load(open(sys.argv[1])); print(r)
sys.exit(0 if r["closed_by_broker"] >= 1 else 1)' "$T/flood.json" || return 1
	grep -c "slow reader" "$T/run.log"
	grep -q "closing TCP connection from 192.0.2.2:[0-9]*: slow reader" "$T/run.log"
}
e2e_check "  the slow readers are closed after output_stall_timeout (logged)" stalled_closed

still_serves() {
	kill -0 "$(bgw_pid)" || return 1
	bgw_sim --transport tcp --type v6v4 --local-ip 192.0.2.3 >/dev/null || return 1
	[ "$(bgw_field status)" = 200 ]
}
e2e_check "  the broker still serves a normal client" still_serves

e2e_check_no_leftovers
e2e_finish
