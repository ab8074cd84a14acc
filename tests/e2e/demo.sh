#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The live demo (`make demo`): a gateway hands out IPv6 tunnels over TSP to
# a client behind a NAT and a client with a public IPv4 address, both reach
# an IPv6 host, a spoofed source is dropped, and the data plane's state is
# shown as an operator sees it. Everything happens in network namespaces
# made here, with documentation addresses, and is removed on exit.
#
# The clients are tspc (client/): TSP over UDP as gogoc speaks it, then the
# tunnel on a TUN device, relayed over the same UDP socket so the NAT keeps
# the mapping the tunnel was negotiated on; tspc sets the address, the
# default route and the MTU itself.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
export DEMO=1
. "$HERE/lib.sh"
. "$HERE/topo_internet.sh"

TSPGW=$BUILD/tspgw
TSPC=$BUILD/tspc

e2e_require_root
e2e_require_tools ip ethtool nsenter nft python3 saslpasswd2 timeout bpftool ping
e2e_init
e2e_require_bpf "$BUILD/xdp_pass.bpf.o"
T=$E2E_TMP
PIN=/sys/fs/bpf/tspgw-demo-$$
CONF=$T/config.yaml
topo_config "$CONF" "$PIN" tsd$$ "$T/sasldb2" "$T/db.sqlite"

gw() { e2e_ns "$TOPO_NS_G" timeout 20 "$TSPGW" -c "$CONF" "$@"; }

# client_up NS NAME TSPC-ARGS...: run tspc on a TUN device called NAME until
# it prints its tunnel parameters; echo the IPv6 address it got.
client_up() {
	local ns=$1 name=$2 i addr=""
	shift 2
	e2e_bg "$ns" "$T/$name.log" "$TSPC" --server 192.0.2.1 --interface "$name" --once "$@"
	for ((i = 0; i < 100; i++)); do
		addr=$(sed -n 's/^TSP_CLIENT_ADDRESS_IPV6=//p' "$T/$name.log" | tail -n 1)
		[ -n "$addr" ] && break
		kill -0 "$E2E_BG_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$addr" ] || { cat "$T/$name.log" >&2; return 1; }
	echo "$addr"
}

e2e_say "Building a small Internet in network namespaces" \
	"IPv6 host 2001:db8:2::2 -- gateway (tspgw run) 192.0.2.1 -- router --+-- public client 198.51.100.10" \
	"                                                                      +-- NAT 203.0.113.2 -- client 192.0.2.66"
topo_build "$BUILD/xdp_pass.bpf.o" || exit 1
e2e_register_pin "$PIN"
e2e_on_exit "e2e_ns $TOPO_NS_G $TSPGW -c $CONF detach >/dev/null 2>&1"
printf 'secret\n' | saslpasswd2 -p -f "$T/sasldb2" -u tspgw.example -c alice

e2e_say "Starting the gateway: tspgw run (XDP on both links, TSP on port 3653)"
e2e_bg "$TOPO_NS_G" "$T/run.log" "$TSPGW" -c "$CONF" run
e2e_wait_for 10 grep -q "serving TSP" "$T/run.log" || { cat "$T/run.log"; exit 1; }
sed 's/^/      /' "$T/run.log"

e2e_say "The client behind the NAT runs tspc for an anonymous tunnel (TSP over UDP, like gogoc)" \
	"Its address embeds the NAT's public IPv4 address and port: every packet traces back."
NAT_ADDR=$(client_up "$TOPO_NS_C" tcn --auth anonymous) || exit 1
e2e_show grep -E "^TSP_(TUNNEL_MODE|CLIENT_ADDRESS_IPV4|LOCAL_PORT|CLIENT_ADDRESS_IPV6)=" "$T/tcn.log"
echo "      got $NAT_ADDR"

e2e_say "The public client runs tspc as alice (DIGEST-MD5) and gets her stable address"
printf 'secret\n' >"$T/alice.pw"
PUB_ADDR=$(client_up "$TOPO_NS_P" tcp --auth digest-md5 --user alice --password-file "$T/alice.pw") || exit 1
echo "      got $PUB_ADDR"

e2e_say "Both ping the IPv6 host through their tunnels"
e2e_show e2e_ns "$TOPO_NS_C" ping -n -c 3 -i 0.2 -W 1 2001:db8:2::2
e2e_show e2e_ns "$TOPO_NS_P" ping -n -c 3 -i 0.2 -W 1 2001:db8:2::2

e2e_say "And fetch a page over TCP from the IPv6 host"
echo "hello from the IPv6 host" >"$T/index.html"
e2e_bg "$TOPO_NS_H" "$T/http.log" python3 -m http.server --bind 2001:db8:2::2 --directory "$T" 8080
e2e_wait_listen 5 "$TOPO_NS_H" 8080
for ns in "$TOPO_NS_C" "$TOPO_NS_P"; do
	e2e_show e2e_ns "$ns" timeout 10 python3 -c \
		'import urllib.request; print(urllib.request.urlopen("http://[2001:db8:2::2]:8080/index.html", timeout=5).read().decode().strip())'
done

e2e_say "The NATed client tries to send from alice's address: the gateway drops it" \
	"(the inner source must belong to the IPv4 address and port it arrives from)"
ip -n "$TOPO_NS_C" addr add "$PUB_ADDR/128" dev tcn nodad
e2e_ns "$TOPO_NS_C" ping -n -c 3 -i 0.2 -W 1 -I "$PUB_ADDR" 2001:db8:2::2 >/dev/null 2>&1 &&
	echo "      UNEXPECTED: the spoofed ping was answered" || echo "      no answer, as it should be"

e2e_say "What the operator sees: the tunnels"
e2e_show gw tunnel list
e2e_say "The data plane's counters (per-CPU map, summed)"
e2e_show gw status
e2e_say "The same state with bpftool, straight from the pinned maps"
e2e_show e2e_ns "$TOPO_NS_G" bpftool map dump pinned "$PIN/bindings"
e2e_say "The gateway's log: one line per tunnel event"
grep "Z tunnel " "$T/run.log" | sed 's/^/      /'
e2e_say "Done. Cleaning up: daemon, namespaces, XDP programs, pins."
