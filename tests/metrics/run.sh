#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# /metrics checked by a real Prometheus: `tspgw run` serves its metrics on
# an operator address, a throwaway Prometheus (its own config and data
# directory, in a namespace of its own) scrapes it every second, and PromQL
# through Prometheus' HTTP API must see the tunnel setups, the failed login
# and the decapsulated packets this suite made, equal to what `tspgw
# status` reads. `promtool check metrics` checks the page, `promtool check
# rules` and `promtool test rules` the example alerts (dist/), which the
# Prometheus here loads too. And the HTTP side against hostile clients:
# only GET/HEAD /metrics, a per-address connection cap that leaves other
# addresses served, idle connections closed, nothing served on the
# tunnel-facing address.
#
#   ns cli: c0 192.0.2.2  <->  ns gw: u0 192.0.2.1, d0 2001:db8:2::1  <->  ns host: h0 2001:db8:2::2
#                                     m0 198.51.100.1:9653 (metrics)
#                                      |
#                          ns ops: p0 198.51.100.2 (Prometheus, web on 127.0.0.1:9090), .3 (a hostile client)
#
# Installs nothing (`make test-metrics` does: prometheus under a policy-rc.d
# that keeps it from starting as a service). Exit 0 = all passed, 1 =
# failures, 77 = skipped.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

TSPGW=$BUILD/tspgw
TSPC=$BUILD/tspc
XDP_PASS=$BUILD/xdp_pass.bpf.o

e2e_require_root
e2e_require_tools ip ethtool nsenter ping python3 saslpasswd2 timeout curl prometheus promtool
e2e_require_built all "$TSPGW" "$TSPC" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

NS_C=tmc$$
NS_G=tmg$$
NS_H=tmh$$
NS_P=tmp$$
PIN=/sys/fs/bpf/tspgw-metrics-$$
T=$E2E_TMP
CONF=$T/config.yaml
REALM=tspgw.example
GW=192.0.2.1
HOST6=2001:db8:2::2
METRICS=198.51.100.1:9653
PROM=127.0.0.1:9090
PINGS=25

cat >"$CONF" <<EOF
interfaces: {ipv4: u0, ipv6: d0, xdp_mode: native, tunnel_device: tsm$$}
gateway: {ipv4: $GW, ipv6: 2001:db8:2::1, keepalive: 2001:db8:2::1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
pools: {hosts: 2001:db8:100::/64}
data_plane: {pin_path: $PIN, max_tunnels: 1024, allowed_special_ranges: [documentation]}
broker:
  auth:
    mechanisms: [ANONYMOUS, DIGEST-MD5]
    sasldb: $T/sasldb2
    realm: $REALM
    server_name: $REALM
  database: $T/assignments.sqlite
  keepalive: {default: 2, min: 1, max: 2, misses: 0}
metrics:
  listen: $METRICS
EOF

# gw, start_gateway, gateway_serving: tests/e2e/lib.sh
GW_NS=$NS_G
cli() { e2e_ns "$NS_C" "$@"; }
ops() { e2e_ns "$NS_P" "$@"; }

# --- network ------------------------------------------------------------------

e2e_netns_add "$NS_C" "$NS_G" "$NS_H" "$NS_P" || exit 1
e2e_register_pin "$PIN"
e2e_on_exit "e2e_ns $NS_G $TSPGW -c $CONF detach >/dev/null 2>&1"
e2e_veth "$NS_C" c0 "$NS_G" u0 || exit 1
e2e_veth "$NS_G" d0 "$NS_H" h0 || exit 1
e2e_veth "$NS_G" m0 "$NS_P" p0 || exit 1
ip -n "$NS_C" addr add 192.0.2.2/24 dev c0
ip -n "$NS_G" addr add $GW/24 dev u0
ip -n "$NS_G" addr add 2001:db8:2::1/64 dev d0 nodad
ip -n "$NS_G" addr add 198.51.100.1/24 dev m0
ip -n "$NS_P" addr add 198.51.100.2/24 dev p0
ip -n "$NS_P" addr add 198.51.100.3/24 dev p0
ip -n "$NS_H" addr add $HOST6/64 dev h0 nodad
ip -n "$NS_H" -6 route add default via 2001:db8:2::1
e2e_xdp_pass "$NS_C" c0 "$XDP_PASS"
e2e_xdp_pass "$NS_H" h0 "$XDP_PASS"
ip -n "$NS_G" neigh replace 192.0.2.2 lladdr "$(e2e_mac "$NS_C" c0)" dev u0 nud permanent
ip -n "$NS_C" neigh replace $GW lladdr "$(e2e_mac "$NS_G" u0)" dev c0 nud permanent
ip -n "$NS_G" neigh replace $HOST6 lladdr "$(e2e_mac "$NS_H" h0)" dev d0 nud permanent
ip -n "$NS_H" neigh replace 2001:db8:2::1 lladdr "$(e2e_mac "$NS_G" d0)" dev h0 nud permanent
printf 'secret\n' | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c alice

start_gateway 1
e2e_check "tspgw run starts, serves TSP and metrics on $METRICS" bash -c \
	"gw_log=$T/run.1.log; for i in \$(seq 100); do grep -q 'serving TSP' \$gw_log && break; sleep 0.1; done;
	 grep -q 'serving metrics on http://$METRICS/metrics' \$gw_log || { cat \$gw_log; exit 1; }"

# --- Prometheus -----------------------------------------------------------------

mkdir -p "$T/prom-data"
cp "$ROOT/dist/prometheus-alerts.yml" "$T/alerts.yml"
cat >"$T/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [$T/alerts.yml]
scrape_configs:
  - job_name: tspgw
    static_configs: [{targets: ['$METRICS']}]
EOF
e2e_bg "$NS_P" "$T/prometheus.log" prometheus --config.file="$T/prometheus.yml" \
	--storage.tsdb.path="$T/prom-data" --web.listen-address=$PROM
PROM_PID=$E2E_BG_PID

# promql QUERY: the query's value now (one series; empty if none), through
# Prometheus' HTTP API.
promql() {
	ops python3 - "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
q = urllib.parse.urlencode({"query": sys.argv[1]})
r = json.load(urllib.request.urlopen("http://127.0.0.1:9090/api/v1/query?" + q, timeout=5))
assert r["status"] == "success", r
res = r["data"]["result"]
if len(res) > 1:
    sys.exit("more than one series: %r" % res)
print(res[0]["value"][1] if res else "")
EOF
}
# promql_is QUERY VALUE: Prometheus sees VALUE within 15 s (it scrapes
# every second).
promql_is() {
	local got="" i
	for ((i = 0; i < 75; i++)); do
		got=$(promql "$1" 2>/dev/null) && [ "$got" = "$2" ] && return 0
		sleep 0.2
	done
	echo "$1 = '$got', want '$2'"
	return 1
}
scrape_healthy() {
	e2e_wait_for 20 ops curl -s -m 1 -o /dev/null "http://$PROM/-/ready" ||
		{ tail -n 20 "$T/prometheus.log"; return 1; }
	promql_is 'up{job="tspgw"}' 1
}
e2e_check "Prometheus in its namespace scrapes the gateway (target up)" scrape_healthy

# --- what the suite counts ---------------------------------------------------------

# status_counter NAME: a data-plane counter as `tspgw status --json` reads it.
status_counter() {
	gw status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$1"
}

DECAP0=$(status_counter decap)
# An anonymous v6udpv4 tunnel (tspc stays up) and $PINGS pings through it.
nsenter --net="/run/netns/$NS_C" -- "$TSPC" --server $GW --once >"$T/anon.out" 2>"$T/anon.err" </dev/null &
ANON_PID=$!
e2e_register_pid "$ANON_PID"
anon_pings() {
	e2e_wait_for 15 grep -q '^TSP_SESSION=' "$T/anon.out" || { tail -n 5 "$T/anon.err"; return 1; }
	e2e_wait_for 5 cli ip link show dev tsp0 >/dev/null || return 1
	cli ping -6 -c $PINGS -i 0.05 -W 2 -q $HOST6 | tee "$T/ping.out" | tail -n 2
	grep -q "$PINGS packets transmitted, $PINGS received" "$T/ping.out"
}
e2e_check "anonymous tunnel up, $PINGS pings through it answered" anon_pings
DECAP1=$(status_counter decap)
e2e_check "  tspgw status: decap grew by exactly $PINGS" test "$DECAP1" = $((DECAP0 + PINGS))

# DIGEST-MD5 over TCP (v6v4): two setups (the second replaces the first),
# one wrong password, and a router request nobody may make anonymously (507).
alice_setups() {
	local i rc=0
	for i in 1 2; do
		cli timeout 30 "$TSPC" --print-only --server $GW --user alice --password secret \
			--auth digest-md5 --mode v6v4 >"$T/alice$i.out" 2>&1 </dev/null ||
			{ cat "$T/alice$i.out"; return 1; }
	done
	cli timeout 30 "$TSPC" --print-only --server $GW --user alice --password wrong \
		--auth digest-md5 --mode v6v4 >"$T/wrong.out" 2>&1 </dev/null || rc=$?
	[ "$rc" = 3 ] || { echo "wrong password: exit $rc"; cat "$T/wrong.out"; return 1; }
	rc=0
	cli timeout 30 "$TSPC" --print-only --server $GW --router >"$T/router.out" 2>&1 </dev/null || rc=$?
	[ "$rc" = 4 ] && grep -q 507 "$T/router.out" || { echo "anonymous router: exit $rc"; cat "$T/router.out"; return 1; }
}
e2e_check "DIGEST-MD5: two tunnels set up, a wrong password refused; an anonymous router refused (507)" alice_setups

# --- what Prometheus sees ------------------------------------------------------------

e2e_check "PromQL: setups code 200 ANONYMOUS = 1" \
	promql_is 'tspgw_tunnel_setups_total{code="200",mechanism="ANONYMOUS"}' 1
e2e_check "PromQL: setups code 200 DIGEST-MD5 = 2" \
	promql_is 'tspgw_tunnel_setups_total{code="200",mechanism="DIGEST-MD5"}' 2
e2e_check "PromQL: setups code 507 (any mechanism) = 1" \
	promql_is 'sum(tspgw_tunnel_setups_total{code="507"})' 1
e2e_check "PromQL: setups refused otherwise = 0" \
	promql_is 'sum(tspgw_tunnel_setups_total{code!~"200|507"})' 0
e2e_check "PromQL: setup latency histogram counted the 3 tunnels, all under 30 s" \
	promql_is 'tspgw_tunnel_setup_duration_seconds_bucket{le="30"} * 10 + on() tspgw_tunnel_setup_duration_seconds_count' 33
e2e_check "PromQL: auth failures DIGEST-MD5 = 1" \
	promql_is 'tspgw_auth_failures_total{mechanism="DIGEST-MD5"}' 1
e2e_check "PromQL: decapsulated packets = what tspgw status read ($DECAP1)" \
	promql_is 'tspgw_dataplane_packets_total{reason="decap"}' "$DECAP1"
e2e_check "PromQL: tunnels: 1 anonymous v6udpv4, 1 authenticated v6v4" \
	promql_is 'tspgw_tunnels{type="v6udpv4",auth="anonymous"} + on() tspgw_tunnels{type="v6v4",auth="authenticated"} * 10 + on() sum(tspgw_tunnels) * 100' 211
e2e_check "PromQL: bindings map holds the 2 tunnels, of 1024" \
	promql_is 'tspgw_map_entries{map="bindings"} * 10000 + tspgw_map_max_entries{map="bindings"}' 21024
e2e_check "PromQL: the example alerts are loaded and healthy, none firing" bash -c \
	"[ \"\$(nsenter --net=/run/netns/$NS_P curl -s -m 5 http://$PROM/api/v1/rules | python3 -c '
import json, sys
g = json.load(sys.stdin)[\"data\"][\"groups\"]
rules = [r for x in g for r in x[\"rules\"]]
bad = [r[\"name\"] for r in rules if r[\"health\"] != \"ok\" or r[\"state\"] != \"inactive\"]
print(len(rules) if rules and not bad else bad)')\" = $(grep -c -- '- alert:' "$ROOT/dist/prometheus-alerts.yml") ]"

# --- the page itself -------------------------------------------------------------

metrics_get() { ops curl -sS -m 5 "$@"; }

promtool_page() {
	metrics_get -o "$T/metrics.txt" -D "$T/metrics.hdr" "http://$METRICS/metrics" || return 1
	grep -qi '^content-type: text/plain; version=0.0.4' "$T/metrics.hdr" || { cat "$T/metrics.hdr"; return 1; }
	promtool check metrics <"$T/metrics.txt"
}
e2e_check "promtool check metrics passes on /metrics" promtool_page
e2e_check "promtool check rules passes on dist/prometheus-alerts.yml" \
	promtool check rules "$ROOT/dist/prometheus-alerts.yml"
e2e_check "promtool test rules: the alerts fire on tspgw's series (tests/metrics/alerts_test.yml)" \
	bash -c "cd '$ROOT' && promtool test rules tests/metrics/alerts_test.yml"

# Stopped traffic (tspc ended), status and /metrics read the same numbers.
e2e_stop "$ANON_PID" 5 >/dev/null
same_numbers() {
	gw status --json >"$T/status.json" || return 1
	metrics_get -o "$T/metrics2.txt" "http://$METRICS/metrics" || return 1
	python3 - "$T/status.json" "$T/metrics2.txt" <<'EOF'
import json, re, sys
st = json.load(open(sys.argv[1]))
page = open(sys.argv[2]).read()
special = {"nh_hit": ("tspgw_nh_cache_lookups_total", 'result="hit"'),
           "nh_miss": ("tspgw_nh_cache_lookups_total", 'result="miss"'),
           "claim_proven": ("tspgw_claims_proven_total", None)}
bad = []
for name, v in st["counters"].items():
    fam, label = special.get(name, ("tspgw_dataplane_packets_total", 'reason="%s"' % name))
    line = "%s{%s} %d" % (fam, label, v) if label else "%s %d" % (fam, v)
    alt = 'tspgw_slowpath_packets_total{reason="%s"} %d' % (name, v)
    if not re.search("^" + re.escape(line) + "$", page, re.M) and \
       not re.search("^" + re.escape(alt) + "$", page, re.M):
        bad.append(line)
for m, f in st["maps"].items():
    for key, fam in (("entries", "tspgw_map_entries"), ("max_entries", "tspgw_map_max_entries")):
        line = '%s{map="%s"} %d' % (fam, m, f[key])
        if not re.search("^" + re.escape(line) + "$", page, re.M):
            bad.append(line)
if bad:
    sys.exit("not in /metrics: " + ", ".join(bad))
print("%d counters and %d maps agree" % (len(st["counters"]), len(st["maps"])))
EOF
}
e2e_check "tspgw status --json and /metrics show the same counters and fill levels" same_numbers

# --- hostile clients ----------------------------------------------------------------

http_status() { metrics_get -o /dev/null -w '%{http_code}' "$@"; }
methods_and_paths() {
	local s
	s=$(http_status -X POST --data x "http://$METRICS/metrics") && [ "$s" = 405 ] || { echo "POST: $s"; return 1; }
	metrics_get -o /dev/null -D - -X DELETE "http://$METRICS/metrics" | grep -qi '^allow: GET, HEAD' || { echo "no Allow"; return 1; }
	s=$(http_status "http://$METRICS/") && [ "$s" = 404 ] || { echo "/: $s"; return 1; }
	s=$(http_status "http://$METRICS/metrics/../../etc/passwd") && [ "$s" = 404 ] || { echo "traversal: $s"; return 1; }
	s=$(http_status -I "http://$METRICS/metrics") && [ "$s" = 200 ] || { echo "HEAD: $s"; return 1; }
	# Headers beyond the connection's memory budget: refused, nothing kept.
	s=$(http_status -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)" "http://$METRICS/metrics") &&
		[ "${s:0:1}" = 4 ] || { echo "40 KB header: $s"; return 1; }
	# After all that the page still comes.
	s=$(http_status "http://$METRICS/metrics") && [ "$s" = 200 ] || { echo "GET: $s"; return 1; }
}
e2e_check "only GET/HEAD /metrics: POST/DELETE 405 with Allow, other paths 404" methods_and_paths

# One address holds idle connections beyond the per-address cap: another
# address is still served, the idle ones are closed by the timeout.
hog() {
	ops python3 - "$METRICS" <<'EOF'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
conns = []
for i in range(12):
    s = socket.socket()
    s.bind(("198.51.100.3", 0))
    s.settimeout(20)
    try:
        s.connect((host, int(port)))
        conns.append(s)
    except OSError:
        pass
time.sleep(0.5)
print("hog: %d connected" % len(conns), flush=True)
start = time.time()
open_ = 0
closed = 0
for s in conns:
    try:
        d = s.recv(1)
        if d == b"":
            closed += 1
        else:
            open_ += 1
    except socket.timeout:
        open_ += 1
    except OSError:
        closed += 1
print("hog: %d closed by the server, %d left open, after %.1f s" % (closed, open_, time.time() - start))
sys.exit(0 if open_ == 0 else 1)
EOF
}
hog >"$T/hog.out" 2>&1 &
HOG_PID=$!
e2e_register_pid "$HOG_PID"
served_meanwhile() {
	e2e_wait_for 5 grep -q "hog:.*connected" "$T/hog.out" || { cat "$T/hog.out"; return 1; }
	[ "$(http_status "http://$METRICS/metrics")" = 200 ] || return 1
	# TSP is served meanwhile: the event loop does not wait on HTTP.
	cli timeout 30 "$TSPC" --print-only --server $GW >"$T/during.out" 2>&1 </dev/null ||
		{ cat "$T/during.out"; return 1; }
}
e2e_check "12 idle connections from 198.51.100.3: 198.51.100.2 still scraped, TSP still served" served_meanwhile
wait "$HOG_PID"
HOG_RC=$?
e2e_check "  idle connections closed by the server's timeout" bash -c "cat $T/hog.out; exit $HOG_RC"
e2e_check "PromQL: the scrape never failed meanwhile (up stayed 1)" \
	promql_is 'min_over_time(up{job="tspgw"}[1m])' 1

not_on_tunnel_side() {
	! cli curl -s -m 2 -o /dev/null "http://$GW:9653/metrics" &&
		! cli curl -s -m 2 -o /dev/null "http://198.51.100.1:9653/metrics"
}
e2e_check "nothing served to the tunnel side (bound to the operator address only)" not_on_tunnel_side

# --- refusals at start -------------------------------------------------------------

stop_gateway
busy_port() {
	local conf2=$T/busy.yaml rc=0
	sed "s|^  listen: .*|  listen: $GW:3653|" "$CONF" >"$conf2"
	# 3653/TCP is the broker's own: the metrics socket cannot have it.
	e2e_ns "$NS_G" timeout 20 "$TSPGW" -c "$conf2" run >"$T/busy.log" 2>&1 || rc=$?
	[ "$rc" = 1 ] && tail -n 1 "$T/busy.log" | grep -q "error: tspgw run: metrics.listen $GW:3653: Address already in use" ||
		{ echo "rc=$rc"; cat "$T/busy.log"; return 1; }
}
e2e_check "metrics.listen on a port in use: refused before anything is attached, named" busy_port
foreign_address() {
	local conf2=$T/foreign.yaml rc=0
	sed "s|^  listen: .*|  listen: 203.0.113.9:9653|" "$CONF" >"$conf2"
	e2e_ns "$NS_G" timeout 20 "$TSPGW" -c "$conf2" run >"$T/foreign.log" 2>&1 || rc=$?
	[ "$rc" = 1 ] && grep -q "metrics.listen 203.0.113.9:9653: Cannot assign requested address" "$T/foreign.log" ||
		{ echo "rc=$rc"; cat "$T/foreign.log"; return 1; }
}
e2e_check "metrics.listen on an address the gateway does not have: refused, named" foreign_address
e2e_check "Prometheus still running (stopped on exit)" kill -0 "$PROM_PID"

e2e_check_no_leftovers
e2e_finish
