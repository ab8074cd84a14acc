#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Section 3 of `make bench`, second part: authenticated (DIGEST-MD5) setups
# per second by assignment database, SQLite or PostgreSQL, with one gateway
# and with two gateways sharing the database (and the sasldb file). Run by
# bench/run.sh after bench/broker.sh; appends to the same broker_runs.jsonl,
# and bench/report_broker_scale.py reports every figure as a ratio to the
# SQLite one-gateway figure of this same run.
#
#   ns cli: c0 192.0.2.2  <-> ns gw a: u0 192.0.2.1     (tspgw run, CPU 0)
#           c1 198.51.100.2 <-> ns gw b: u0 198.51.100.1 (tspgw run, CPU 0)
#   ns db: PostgreSQL 15, throwaway cluster; the gateways use its unix socket
#
# Over TCP: over UDP the broker's reply budget for unvalidated peers
# (broker/udp_guard.h) holds back the DIGEST-MD5 challenge until the client
# retransmits it, so a UDP figure would be the 1 s retransmission timer's,
# not the database's.
#
# The generator (build/bench/broker_load, CPU 1) sends setup k to gateway
# k mod n; user k mod 100, so with two gateways each user stays on one. Order:
# SQLite 1 gw, SQLite 2 gw, PostgreSQL 1 gw, PostgreSQL 2 gw, SQLite 1 gw
# again (the baseline is the mean of the two SQLite one-gateway runs, so
# drift of the shared machine over the runs shows and is split). Between
# configurations the gateways stop and the data plane is detached. Proof:
# every gateway's own log has one accepted-tunnel line per setup the
# generator counted for it, and its maps hold the users' tunnels.
#
# Environment: BUILD (default build), BROKER_SCALE (default 1; 0.2 quick).
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$BUILD/bench
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
# shellcheck source=tests/fleet/pg_lib.sh
. "$ROOT/tests/fleet/pg_lib.sh"

TSPGW=$BUILD/tspgw
LOAD=$OUT/broker_load
XDP_PASS=$BUILD/xdp_pass.bpf.o
SCALE=${BROKER_SCALE:-1}
USERS=100
REALM=bench.tspgw.example
PASSWORD=bench-secret
COUNT=$(python3 -c "print(max(1200, int(3000 * $SCALE)))")
# As bench/broker.sh's tcp digest-md5 run: the broker holds each 200 back
# 200 ms (tcp_deferred_ms), so it takes many sessions at a time to load it:
# C in flight cap the rate at C / 0.2 s, far above what is measured.
CONC=$((COUNT / 2 < 2000 ? COUNT / 2 : 2000))

e2e_require_root
e2e_require_tools ip ethtool nsenter taskset saslpasswd2 python3 timeout
e2e_require_built bench "$TSPGW" "$LOAD" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"
pg_require
CPU_GEN=$(($(nproc) > 1 ? 1 : 0))

NS_C=bdc$$
NS_A=bda$$
NS_B=bdb$$
NS_D=bdd$$
A=192.0.2.1
B=198.51.100.1
T=$E2E_TMP
RUNS=$OUT/broker_runs.jsonl

e2e_netns_add "$NS_C" "$NS_A" "$NS_B" "$NS_D" || exit 1
ip -n "$NS_D" addr add 203.0.113.50/32 dev lo
pg_start_db "$NS_D" 203.0.113.50 tspgw tspgw "pg-$$" || exit 1

# The clients are 100 host addresses, 203.0.113.101-200, on c0, reached
# through 192.0.2.2 by a and through 198.51.100.2 by b: setup k comes from
# address k mod 100 and logs in as user k mod 100, so each address is one
# user's (a v6v4 origin belongs to one user: another user's setup from it
# is refused, not-owner).
e2e_veth "$NS_C" c0 "$NS_A" u0 || exit 1
e2e_veth "$NS_C" c1 "$NS_B" u0 || exit 1
ip -n "$NS_C" addr add 192.0.2.2/24 dev c0
ip -n "$NS_C" addr add 198.51.100.2/24 dev c1
ip -n "$NS_A" addr add $A/24 dev u0
ip -n "$NS_B" addr add $B/24 dev u0
ip -n "$NS_A" route add 203.0.113.0/24 via 192.0.2.2 dev u0
ip -n "$NS_B" route add 203.0.113.0/24 via 198.51.100.2 dev u0
for i in $(seq 101 200); do echo "addr add 203.0.113.$i/32 dev c0"; done | ip -n "$NS_C" -batch - || exit 1
for g in "$NS_A" "$NS_B"; do ip -n "$g" addr add 2001:db8:2::1/64 dev u0 nodad; done
e2e_xdp_pass "$NS_C" c0 "$XDP_PASS"
e2e_xdp_pass "$NS_C" c1 "$XDP_PASS"

for i in $(seq 0 $((USERS - 1))); do
	printf '%s\n' "$PASSWORD" | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c "user$i" || exit 1
done

# gw_config NAME IPV4 DATABASE: the gateway's config for one database.
gw_config() {
	cat >"$T/$1.yaml" <<EOF
interfaces: {ipv4: u0, xdp_mode: native, tunnel_device: tbd$1$$}
gateway: {ipv4: $2, ipv6: 2001:db8:2::1, name: gw-$1, heartbeat: 1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
pools:
  hosts: 2001:db8:100::/64
  prefixes: 2001:db8:200::/40
data_plane: {pin_path: /sys/fs/bpf/tspgw-bench-db-$1-$$, max_tunnels: 65536,
             allowed_special_ranges: [documentation]}
broker:
  auth:
    mechanisms: [ANONYMOUS, DIGEST-MD5]
    sasldb: $T/sasldb2
    realm: $REALM
    server_name: $REALM
  database: "$3"
  keepalive: {misses: 0}   # the generator sends no keepalives: no expiry
  limits: {tunnels_per_ipv4: 0, sessions_per_ipv4_per_minute: 0, sessions_per_source: 0,
           max_sessions: 100000, session_idle_timeout: 600}
EOF
}
for g in a b; do
	e2e_register_pin "/sys/fs/bpf/tspgw-bench-db-$g-$$"
	e2e_on_exit "e2e_ns $([ $g = a ] && echo "$NS_A" || echo "$NS_B") '$TSPGW' -c '$T/$g.yaml' detach >/dev/null 2>&1"
done

ns_of() { if [ "$1" = a ]; then echo "$NS_A"; else echo "$NS_B"; fi; }
declare -A PID
# start DB GW...: the named gateways serving with DATABASE.
start() {
	local db=$1 g t0=$SECONDS
	shift
	for g in "$@"; do
		gw_config "$g" "$([ "$g" = a ] && echo $A || echo $B)" "$db"
		# Room for every session's descriptor (the hard limit: raising it
		# needs CAP_SYS_RESOURCE, which a container may lack).
		# shellcheck disable=SC2016 # expanded by the inner bash
		e2e_bg "$(ns_of "$g")" "$T/run.$g.log" bash -c \
			'ulimit -n "$(ulimit -Hn)" && exec taskset -c 0 "$0" -c "$1" run' "$TSPGW" "$T/$g.yaml"
		PID[$g]=$E2E_BG_PID
	done
	for g in "$@"; do
		e2e_wait_for 30 grep -q "serving TSP" "$T/run.$g.log" || {
			echo "broker_db.sh: gateway $g did not start:" >&2
			tail -n 20 "$T/run.$g.log" >&2
			return 1
		}
	done
	echo "   (gateways $* serving after $((SECONDS - t0)) s)"
}
stop() {
	local g
	for g in "$@"; do
		e2e_stop "${PID[$g]}" 5
		cat "$T/run.$g.log" >>"$OUT/broker_db_tspgw.log"
		e2e_ns "$(ns_of "$g")" timeout 20 "$TSPGW" -c "$T/$g.yaml" detach >/dev/null 2>&1
	done
}
events() { grep -cE "tunnel (created|replaced|moved) " "$T/run.$1.log"; }
entries() {
	e2e_ns "$(ns_of "$1")" "$TSPGW" -c "$T/$1.yaml" status --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["maps"]["bindings"]["entries"])'
}

# run LABEL DBNAME GW...: one generator run spread over the gateways;
# appends its JSON line with, per gateway, the accepts its log shows and
# the tunnels in its maps afterwards.
run() {
	local label=$1 db=$2 g rc i servers=() v0=() v1=() e1=() want=()
	shift 2
	for g in "$@"; do
		servers+=(--server "$([ "$g" = a ] && echo $A || echo $B)")
		v0+=("$(events "$g")")
	done
	e2e_ns "$NS_C" timeout 300 "$LOAD" "${servers[@]}" --src 203.0.113.101:100 \
		--tcp --cpu "$CPU_GEN" --count "$COUNT" --concurrency "$CONC" \
		--broker-pid "${PID[a]}" --label "$label" --json "$T/run.json" --digest --users "$USERS" \
		--user-fmt "user%d" --password "$PASSWORD" --server-name "$REALM"
	rc=$?
	# Over TCP the last accepts were written, maybe not yet read: wait
	# (bounded) until each gateway logged the setups it was sent.
	mapfile -t want < <(python3 -c 'import json,sys; print("\n".join(map(str, json.load(open(sys.argv[1]))["setups_per_server"])))' "$T/run.json" 2>/dev/null)
	i=0
	for g in "$@"; do
		e2e_wait_for 10 test "$(events "$g")" -ge $((v0[i] + ${want[i]:-0}))
		i=$((i + 1))
	done
	for g in "$@"; do
		v1+=("$(events "$g")")
		e1+=("$(entries "$g")")
	done
	if [ $rc != 0 ] || [ ! -s "$T/run.json" ]; then
		echo "broker_db.sh: run '$label' failed (exit $rc):" >&2
		cat "$T/run.json" >&2 2>/dev/null
		return 1
	fi
	python3 - "$T/run.json" "$db" "${v0[*]}" "${v1[*]}" "${e1[*]}" >>"$RUNS" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
v0, v1, e1 = ([int(x) for x in a.split()] for a in sys.argv[3:6])
r["database"] = sys.argv[2]
r["gateways"] = len(v0)
r["accepts_per_gateway"] = [b - a for a, b in zip(v0, v1)]
r["broker_accept_events"] = sum(r["accepts_per_gateway"])
r["map_entries_per_gateway"] = e1
r["map_entries_added"] = 0   # digest users reuse their tunnels: see map_entries_per_gateway
print(json.dumps(r))
EOF
	python3 -c 'import json,sys; r=json.loads(sys.stdin.read().splitlines()[-1]); print("   %-44s %6d setups %6.0f/s  p50 %6.2f ms  p99 %6.2f ms  failed %d  accepts per gw %s" % (r["label"], r["setups"], r["setups_per_s"], r["latency_us"]["p50"]/1e3, r["latency_us"]["p99"]/1e3, r["failed"], r["accepts_per_gateway"]))' <"$RUNS"
}

SQLITE=$T/assignments.sqlite
rm -f "$OUT/broker_db_tspgw.log"
fail=0
start "$SQLITE" a && run "tcp digest-md5, sqlite, 1 gateway" sqlite a || fail=1
stop a
start "$SQLITE" a b && run "tcp digest-md5, sqlite, 2 gateways" sqlite a b || fail=1
stop a b
start "$PG_CONNINFO" a && run "tcp digest-md5, postgresql, 1 gateway" postgresql a || fail=1
stop a
start "$PG_CONNINFO" a b && run "tcp digest-md5, postgresql, 2 gateways" postgresql a b || fail=1
stop a b
start "$SQLITE" a && run "tcp digest-md5, sqlite, 1 gateway, again" sqlite a || fail=1
stop a
exit $fail
