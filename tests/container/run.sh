#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# The gateway in a container, for real, with podman, and as a non-root user
# outside one; least privilege both ways:
#
#  - the image is built from the top-level Containerfile, unchanged, on a
#    Debian bookworm base made here with debootstrap (no registry is
#    reachable); the base's tarball is cached in $TSPGW_TEST_CACHE
#    (default /var/cache/tspgw-test) with podman's own storage
#  - without CAP_BPF, and without CAP_NET_ADMIN, the container refuses to
#    start, naming the missing capability
#  - as a non-root user with only CAP_BPF and CAP_NET_ADMIN the verifier
#    accepts the programs (no CAP_PERFMON, no CAP_SYS_ADMIN)
#  - with --cap-drop=ALL and only CAP_BPF and CAP_NET_ADMIN,
#    as uid 3653, read-only root, no-new-privileges: the gateway serves in
#    the gateway namespace of tests/e2e/topo_internet.sh; clients behind a
#    NAT and on a public address get tunnels and pass traffic; the health
#    check passes; the container restarts while a client pings every 20 ms:
#    nothing lost, the tunnels are restored, a user keeps its address
#  - the daemon outside a container as uid 3653 with those two ambient
#    capabilities only (setpriv) serves a client
#  - dist/tspgw.service passes systemd-analyze verify and grants the same
#    capabilities
#
# podman is told to use runc, cgroupfs and no default ulimits
# (tests/container/containers.conf) and always joins a namespace made here
# (--network ns:...): its default bridge network would rewrite this
# machine's firewall. The image build alone uses the host's network
# (--network host: no bridge, no firewall rules), to reach the Debian mirror
# for apt-get, as `make deps` does.
#
# Exit 0 = all passed, 1 = failures, 77 = skipped (not root, no podman).
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/topo_internet.sh"

TSPGW=$BUILD/tspgw
XDP_PASS=$BUILD/xdp_pass.bpf.o
BPF_OBJ=$BUILD/tspgw.bpf.o
SIM=$ROOT/tests/broker/gogoc_sim.py
UID_GW=3653 # the image's tspgw user (Containerfile)
IMAGE=localhost/tspgw:test
NAME=tspgw-test-$$
CACHE=${TSPGW_TEST_CACHE:-/var/cache/tspgw-test}

e2e_require_root
e2e_require_tools podman runc debootstrap ip ethtool nsenter nft python3 saslpasswd2 \
	timeout setpriv unshare mknod bpftool gzip
e2e_require_built all "$TSPGW" "$XDP_PASS" "$BPF_OBJ"
e2e_init
e2e_require_bpf "$XDP_PASS"
T=$E2E_TMP
chmod 0711 "$T" # uid 3653 reaches its files here (the setpriv run)
START=$SECONDS
if ! mkdir -p "$CACHE" 2>/dev/null || [ ! -w "$CACHE" ]; then
	e2e_log "cache $CACHE not writable: nothing kept between runs"
	CACHE=$T/cache
	mkdir -p "$CACHE"
fi

export CONTAINERS_CONF=$HERE/containers.conf
# A store of the test's own: the machine's images and containers are never
# touched, and the base image and build layers are kept between runs.
PODMAN=(podman --root "$CACHE/storage" --runroot /run/tspgw-test --tmpdir /run/tspgw-test/libpod)
pm() { "${PODMAN[@]}" "$@"; }
# pmt SECONDS ARGS...: the same, bounded.
pmt() {
	local limit=$1
	shift
	timeout "$limit" "${PODMAN[@]}" "$@"
}
elapsed() { echo "$((SECONDS - START)) s"; }

# --- the base image ----------------------------------------------------------

# The Debian mirror apt uses here (deb822 or one-line sources).
debian_mirror() {
	local m
	m=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)\/\{0,1\}$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
	[ -n "$m" ] || m=$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\(http[^ ]*\/debian\)\/\{0,1\} bookworm .*/\2/p' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1)
	echo "${m:-http://deb.debian.org/debian}"
}

base_image() {
	local tar=$CACHE/bookworm-minbase.tar.gz stamp=$CACHE/bookworm-minbase.imported mirror t0=$SECONDS
	if [ ! -s "$tar" ] || [ "${TSPGW_REFRESH_BASE:-0}" = 1 ]; then
		mirror=$(debian_mirror)
		echo "debootstrap --variant=minbase bookworm from $mirror"
		timeout 900 debootstrap --variant=minbase bookworm "$T/rootfs" "$mirror" \
			>"$T/debootstrap.log" 2>&1 || { tail -n 20 "$T/debootstrap.log"; return 1; }
		rm -rf "$T"/rootfs/var/cache/apt/archives/*.deb "$T"/rootfs/var/lib/apt/lists/*
		tar -C "$T/rootfs" -c . | gzip -1 >"$tar.tmp" && mv "$tar.tmp" "$tar" || return 1
		rm -rf "$T/rootfs"
		echo "debootstrap: $((SECONDS - t0)) s"
	fi
	# Import again when the tarball is newer than what the store holds.
	if ! pm image exists localhost/debian:bookworm ||
		[ "$(cat "$stamp" 2>/dev/null)" != "$(stat -c %Y "$tar")" ]; then
		pmt 300 import -q "$tar" localhost/debian:bookworm || return 1
		stat -c %Y "$tar" >"$stamp"
		echo "imported as localhost/debian:bookworm"
	else
		echo "cached: $tar"
	fi
}
e2e_check "bookworm base image (debootstrap, cached in $CACHE)" base_image || e2e_finish

build_image() {
	local t0=$SECONDS
	# The builder stage tagged too, so its layers (apt-get of the -dev
	# packages) are reused by the next run rather than pruned.
	pmt 1200 build --pull=never --network host --format docker --target build \
		-t localhost/tspgw-build:test -f "$ROOT/Containerfile" "$ROOT" >"$T/build0.log" 2>&1 ||
		{ tail -n 30 "$T/build0.log"; return 1; }
	pmt 1200 build --pull=never --network host --format docker \
		-t "$IMAGE" -f "$ROOT/Containerfile" "$ROOT" >"$T/build.log" 2>&1 ||
		{ tail -n 30 "$T/build.log"; return 1; }
	echo "build: $((SECONDS - t0)) s"
	# Untagged leftovers of earlier builds, so the store does not grow.
	pm image prune -f >/dev/null 2>&1
	return 0
}
e2e_check "the image builds from the Containerfile" build_image || e2e_finish

inspect() { pm image inspect -f "$1" "$IMAGE"; }
image_facts() {
	local user health vols entry
	user=$(inspect '{{.Config.User}}')
	health=$(inspect '{{json .Config.Healthcheck.Test}}')
	vols=$(inspect '{{json .Config.Volumes}}')
	entry=$(inspect '{{json .Config.Entrypoint}} {{json .Config.Cmd}}')
	echo "user $user; health $health; volumes $vols; $entry"
	[ "$user" = tspgw:tspgw ] &&
		[[ $health == *'/tspgw","-c","/etc/tspgw/config.yaml","status"]'* ]] &&
		[[ $vols == *'"/var/lib/tspgw"'* ]] && [[ $vols == *'"/sys/fs/bpf"'* ]] &&
		[ "$entry" = '["/usr/local/sbin/tspgw","-c","/etc/tspgw/config.yaml"] ["run"]' ]
}
e2e_check "the image: non-root user, health check, volumes, entry point" image_facts

# --- the network -------------------------------------------------------------

topo_build "$XDP_PASS" || { echo "Bail out! topology"; e2e_finish; }
# /proc/sys is read-only in a container and net sysctls belong to root:
# forwarding is the host's (here the namespace's) to set.
e2e_ns "$TOPO_NS_G" sysctl -qw net.ipv4.conf.u0.forwarding=1 net.ipv6.conf.all.forwarding=1

# The TUN node: Debian's udev makes /dev/net/tun 0666; this sandbox has no
# udev and leaves it 0600, so the test makes a node of its own with the
# usual mode for the container (--device) and the setpriv run (bind mount
# in a private mount namespace). The machine's node is never changed.
TUN_NODE=/dev/net/tun
if [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
	TUN_NODE=$T/tun
	mknod -m 0666 "$TUN_NODE" c 10 200
fi

# Host side of the container's volumes: a bpffs directory and a state
# directory, both owned by the image's user.
PIN=/sys/fs/bpf/tspgw-ctr-$$
STATE=$T/state
e2e_register_pin "$PIN"
install -d -m 0700 -o "$UID_GW" -g "$UID_GW" "$PIN" "$STATE"
printf 'secret\n' | saslpasswd2 -p -f "$STATE/sasldb2" -u tspgw.example -c alice
chown -R "$UID_GW":"$UID_GW" "$STATE"
CCONF=$T/container.yaml # as the container sees it
HCONF=$T/host.yaml      # the same gateway as root on the host sees it
topo_config "$CCONF" /sys/fs/bpf tcs$$ /var/lib/tspgw/sasldb2 /var/lib/tspgw/assignments.sqlite
topo_config "$HCONF" "$PIN" tcs$$ "$STATE/sasldb2" "$STATE/assignments.sqlite"
chmod 0644 "$CCONF" "$HCONF"
e2e_on_exit "e2e_ns $TOPO_NS_G $TSPGW -c $HCONF detach"
# podman's profile in Debian 12 allows bpf(2) only with CAP_SYS_ADMIN: the
# same profile with bpf(2) gated on CAP_BPF instead, as Docker's is.
SECCOMP=$T/seccomp.json
python3 "$ROOT/dist/seccomp-bpf.py" >"$SECCOMP" || { echo "Bail out! seccomp profile"; e2e_finish; }
e2e_on_exit "pm rm -f -t 0 $NAME; pm rm -f -t 0 $NAME-nobpf; pm rm -f -t 0 $NAME-noperf; pm rm -f -t 0 $NAME-stock"

# ctr NAME [podman run options...]: the gateway container, detached.
ctr_run() {
	local name=$1
	shift
	pm rm -f -t 0 "$name" >/dev/null 2>&1
	pmt 60 run -d --name "$name" --network "ns:/run/netns/$TOPO_NS_G" \
		--cap-drop=ALL "$@" --security-opt no-new-privileges --security-opt "seccomp=$SECCOMP" \
		--read-only \
		--device "$TUN_NODE:/dev/net/tun" -v "$CCONF:/etc/tspgw/config.yaml:ro" \
		--health-interval disable "$IMAGE"
}
# Up to 60 s for the container to end; its output and status in $T/NAME.*.
ctr_wait() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(pm inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = false ] && break
		sleep 0.1
	done
	pm logs "$1" >"$T/$1.log" 2>&1
	pm inspect -f '{{.State.ExitCode}}' "$1"
}
served() { [ "$(pm logs "$NAME" 2>/dev/null | grep -c "serving TSP")" -ge "$1" ]; }
gw() { e2e_ns "$TOPO_NS_G" timeout 20 "$TSPGW" -c "$HCONF" "$@"; }

# --- too few capabilities ----------------------------------------------------

# refused TAG WANT [podman run options]: the container exits 1 at once with
# WANT in one clear line, and leaves nothing in its (own) pin directory.
refused() {
	local tag=$1 want=$2 pin=/sys/fs/bpf/tspgw-$1-$$ rc
	shift 2
	install -d -m 0700 -o "$UID_GW" -g "$UID_GW" "$pin" "$T/state-$tag"
	ctr_run "$NAME-$tag" "$@" -v "$pin:/sys/fs/bpf" -v "$T/state-$tag:/var/lib/tspgw" \
		>/dev/null || return 1
	rc=$(ctr_wait "$NAME-$tag")
	pm rm -f -t 0 "$NAME-$tag" >/dev/null 2>&1
	cat "$T/$NAME-$tag.log"
	[ "$rc" = 1 ] || { echo "exit status $rc, want 1"; return 1; }
	sed -E "s/^[0-9T:-]+Z error: //" "$T/$NAME-$tag.log" | grep -q "^tspgw run: $want" || return 1
	! grep -Eqi 'libbpf|errno|verifier log|-13' "$T/$NAME-$tag.log" || return 1
	[ "$(wc -l <"$T/$NAME-$tag.log")" = 1 ] || return 1
	[ -z "$(ls -A "$pin")" ] || { echo "left in $pin: $(ls "$pin")"; return 1; }
	ip -n "$TOPO_NS_G" link show dev tcs$$ >/dev/null 2>&1 && { echo "tunnel device made"; return 1; }
	return 0
}
# Checks run in subshells: what they make is registered for cleanup here.
e2e_register_pin /sys/fs/bpf/tspgw-nobpf-$$
e2e_register_pin /sys/fs/bpf/tspgw-nonet-$$
e2e_register_pin /sys/fs/bpf/tspgw-perf-$$
e2e_check "without CAP_BPF the container refuses, naming CAP_BPF" \
	refused nobpf "missing capability CAP_BPF (" --cap-add=NET_ADMIN
e2e_check "without CAP_NET_ADMIN the container refuses, naming CAP_NET_ADMIN" \
	refused nonet "missing capability CAP_NET_ADMIN (" --cap-add=BPF

# podman's own profile, where it lacks the CAP_BPF rule: the daemon names
# seccomp rather than blaming capabilities it holds.
stock_blocks_bpf() {
	python3 - /usr/share/containers/seccomp.json <<-'EOF'
		import json, sys
		rules = json.load(open(sys.argv[1]))["syscalls"]
		sys.exit(any("bpf" in r.get("names", []) and r.get("action") == "SCMP_ACT_ALLOW"
		             and "CAP_BPF" in (r.get("includes") or {}).get("caps", []) for r in rules))
	EOF
}
stock_seccomp() {
	local pin=/sys/fs/bpf/tspgw-stock-$$ rc
	install -d -m 0700 -o "$UID_GW" -g "$UID_GW" "$pin" "$T/state-stock"
	SECCOMP=/usr/share/containers/seccomp.json ctr_run "$NAME-stock" --cap-add=BPF \
		--cap-add=NET_ADMIN -v "$pin:/sys/fs/bpf" \
		-v "$T/state-stock:/var/lib/tspgw" >/dev/null || return 1
	rc=$(ctr_wait "$NAME-stock")
	pm rm -f -t 0 "$NAME-stock" >/dev/null 2>&1
	cat "$T/$NAME-stock.log"
	[ "$rc" = 1 ] || { echo "exit status $rc, want 1"; return 1; }
	grep -q "bpf(2) was refused although this process holds CAP_BPF" "$T/$NAME-stock.log" &&
		grep -q "dist/seccomp-bpf.py" "$T/$NAME-stock.log"
}
e2e_register_pin /sys/fs/bpf/tspgw-stock-$$
if [ -f /usr/share/containers/seccomp.json ] && stock_blocks_bpf; then
	e2e_check "with podman's stock seccomp profile it refuses, naming seccomp" stock_seccomp
else
	e2e_log "podman's seccomp profile allows bpf(2) with CAP_BPF already"
fi

# as_gw CAPS cmd...: cmd as uid 3653 with exactly CAPS (e.g. +bpf,+net_admin)
# as its ambient, inheritable and bounding sets, and no new privileges.
as_gw() {
	local caps=$1
	shift
	setpriv --reuid "$UID_GW" --regid "$UID_GW" --clear-groups --no-new-privs \
		--inh-caps="-all,$caps" --ambient-caps="-all,$caps" --bounding-set="-all,$caps" "$@"
}
least_privilege_load() {
	local pin=/sys/fs/bpf/tspgw-perf-$$
	install -d -m 0700 -o "$UID_GW" -g "$UID_GW" "$pin"
	install -m 0644 "$BPF_OBJ" "$T/tspgw.bpf.o"
	# bpftool, not tspgw: the verifier's verdict alone, on every program.
	as_gw +bpf,+net_admin bpftool prog loadall "$T/tspgw.bpf.o" "$pin/p" >"$T/perf.log" 2>&1 ||
		{ tail -n 5 "$T/perf.log"; return 1; }
	echo "loaded by uid $UID_GW with CAP_BPF and CAP_NET_ADMIN: $(ls "$pin/p" | tr '\n' ' ')"
	[ -e "$pin/p/tspgw_xdp" ] && [ -e "$pin/p/tspgw_tc_encap" ] || return 1
	rm -rf "${pin:?}/p"
}
e2e_check "as uid 3653 with only CAP_BPF and CAP_NET_ADMIN the verifier accepts the programs" least_privilege_load

# --- the gateway in the container --------------------------------------------

start_gateway() {
	ctr_run "$NAME" --cap-add=BPF --cap-add=NET_ADMIN \
		-v "$PIN:/sys/fs/bpf" -v "$STATE:/var/lib/tspgw" >/dev/null || return 1
	e2e_wait_for 20 served 1 || { pm logs "$NAME"; return 1; }
	pm logs "$NAME" 2>&1
}
e2e_check "the gateway container serves (--cap-drop=ALL, BPF, NET_ADMIN)" start_gateway ||
	e2e_finish

# Capabilities and user of PID's process, as /proc shows them.
proc_facts() {
	awk '$1 ~ /^(Uid|Gid|CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs):$/ { print $1, $2 }' "/proc/$1/status"
}
# Exactly the two: bits 12 (NET_ADMIN) and 39 (BPF).
least_privilege() {
	local facts
	facts=$(proc_facts "$1")
	echo "$facts"
	[ "$(echo "$facts" | awk '$1 == "Uid:" { print $2 }')" = "$UID_GW" ] &&
		[ "$(echo "$facts" | awk '$1 == "Gid:" { print $2 }')" = "$UID_GW" ] &&
		[ "$(echo "$facts" | awk '$1 == "NoNewPrivs:" { print $2 }')" = 1 ] &&
		[ "$(echo "$facts" | awk '$1 ~ /^Cap/ { print $2 }' | sort -u)" = 0000008000001000 ]
}
ctr_pid() { pm inspect -f '{{.State.Pid}}' "$NAME"; }
e2e_check "in the container: uid 3653, only those 2 capabilities, no new privileges" \
	least_privilege "$(ctr_pid)"
e2e_check "the health check passes" pmt 30 healthcheck run "$NAME"


anon_nat() {
	sim "$TOPO_NS_C" "$T/anon.json" --local-port 40000 --ping 5 --ping-dst 2001:db8:2::2 &&
		expect "$T/anon.json" client_ipv6 2001:0db8:ffff:0000:cb00:7102:9c40:0000 &&
		expect "$T/anon.json" pings_answered 5
}
alice() {
	sim "$TOPO_NS_P" "$T/alice.$1.json" --auth digest --user alice --password secret \
		--server-name 192.0.2.1 --ping 3 --ping-dst 2001:db8:2::2 &&
		expect "$T/alice.$1.json" pings_answered 3
}
e2e_check "a client behind the NAT gets a tunnel and pings the IPv6 host through it" anon_nat
e2e_check "alice (DIGEST-MD5, sasldb in the volume) gets a tunnel and pings" alice 1

restart_under_load() {
	local pid t0
	sim "$TOPO_NS_C" "$T/load.json" --local-port 40100 --ping 400 --interval 0.02 \
		--ping-dst 2001:db8:2::2 &
	pid=$!
	sleep 1.5
	t0=$SECONDS
	pmt 60 restart -t 10 "$NAME" >/dev/null || return 1
	e2e_wait_for 20 served 2 || { pm logs "$NAME"; return 1; }
	echo "restarted and serving again in $((SECONDS - t0)) s"
	wait "$pid" || return 1
	expect "$T/load.json" pings_sent 400 && expect "$T/load.json" pings_answered 400 || return 1
	pm logs "$NAME" 2>&1 | grep "restored"
}
e2e_check "container restarted while pinging every 20 ms: none lost, tunnels restored" \
	restart_under_load
e2e_check "after the restart: still uid 3653 with only the 2 capabilities" \
	least_privilege "$(ctr_pid)"

known_inside() {
	local list
	list=$(pmt 20 exec "$NAME" tspgw -c /etc/tspgw/config.yaml tunnel list) || return 1
	echo "$list"
	grep -q "$(short6 "$(field "$T/anon.json" client_ipv6)")" <<<"$list" &&
		grep -q "$(short6 "$(field "$T/alice.1.json" client_ipv6)")" <<<"$list"
}
e2e_check "the restarted gateway still knows the tunnels (tspgw tunnel list inside)" known_inside
still_forwards() {
	sim "$TOPO_NS_C" "$T/anon2.json" --local-port 40000 --ping 3 --ping-dst 2001:db8:2::2 &&
		expect "$T/anon2.json" pings_answered 3
}
e2e_check "the restarted gateway forwards" still_forwards
same_address() {
	alice 2 || return 1
	[ "$(field "$T/alice.1.json" client_ipv6)" = "$(field "$T/alice.2.json" client_ipv6)" ] ||
		{ echo "alice's address changed"; return 1; }
}
e2e_check "alice keeps her address (assignment database in the volume)" same_address
e2e_check "the pins live in the host's bpffs directory" gw status

stop_and_detach() {
	local rc
	pmt 30 stop -t 10 "$NAME" >/dev/null || return 1
	rc=$(pm inspect -f '{{.State.ExitCode}}' "$NAME")
	[ "$rc" = 0 ] || { echo "exit status $rc"; return 1; }
	pm rm -f "$NAME" >/dev/null || return 1
	# The data plane outlives the container; the image's own detach (the
	# README's line) removes it, with the same two capabilities.
	e2e_has_xdp "$TOPO_NS_G" u0 || { echo "XDP went away with the container"; return 1; }
	pmt 60 run --rm --name "$NAME" --network "ns:/run/netns/$TOPO_NS_G" --cap-drop=ALL \
		--cap-add=BPF --cap-add=NET_ADMIN --security-opt no-new-privileges \
		--security-opt "seccomp=$SECCOMP" --read-only --device "$TUN_NODE:/dev/net/tun" \
		-v "$CCONF:/etc/tspgw/config.yaml:ro" -v "$PIN:/sys/fs/bpf" -v "$STATE:/var/lib/tspgw" \
		--health-interval disable "$IMAGE" detach || return 1
	[ -z "$(ls -A "$PIN")" ] || { echo "left in $PIN: $(ls "$PIN")"; return 1; }
	! e2e_has_xdp "$TOPO_NS_G" u0 && ! e2e_has_xdp "$TOPO_NS_G" d0 &&
		! ip -n "$TOPO_NS_G" link show dev tcs$$ >/dev/null 2>&1
}
e2e_check "SIGTERM stops it, the data plane stays; tspgw detach in the image removes it" \
	stop_and_detach

# --- non-root outside a container --------------------------------------------

NPIN=/sys/fs/bpf/tspgw-np-$$
NSTATE=$T/np-state
NCONF=$T/nonroot.yaml
e2e_register_pin "$NPIN"
install -d -m 0700 -o "$UID_GW" -g "$UID_GW" "$NPIN" "$NSTATE"
topo_config "$NCONF" "$NPIN" tnp$$ "$NSTATE/sasldb2" "$NSTATE/assignments.sqlite"
chmod 0644 "$NCONF"
install -m 0755 "$TSPGW" "$T/tspgw"
e2e_on_exit "e2e_ns $TOPO_NS_G $TSPGW -c $NCONF detach"

# Started here, not inside a check (a subshell), so cleanup knows its PID.
caps=+bpf,+net_admin
if [ "$TUN_NODE" = /dev/net/tun ]; then
	e2e_bg "$TOPO_NS_G" "$T/np.log" setpriv --reuid "$UID_GW" --regid "$UID_GW" \
		--clear-groups --no-new-privs --inh-caps="-all,$caps" --ambient-caps="-all,$caps" \
		--bounding-set="-all,$caps" "$T/tspgw" -c "$NCONF" run
else
	# The 0666 node over /dev/net/tun in a mount namespace of its own.
	e2e_bg "$TOPO_NS_G" "$T/np.log" unshare --mount sh -c \
		"mount --bind $TUN_NODE /dev/net/tun && exec setpriv --reuid $UID_GW \
		--regid $UID_GW --clear-groups --no-new-privs --inh-caps=-all,$caps \
		--ambient-caps=-all,$caps --bounding-set=-all,$caps $T/tspgw -c $NCONF run"
fi
NP_PID=$E2E_BG_PID

nonroot_serves() {
	e2e_wait_for 20 grep -q "serving TSP" "$T/np.log" || { cat "$T/np.log"; return 1; }
	least_privilege "$NP_PID" || return 1
	sim "$TOPO_NS_C" "$T/np.json" --local-port 40200 --ping 5 --ping-dst 2001:db8:2::2 &&
		expect "$T/np.json" pings_answered 5
}
e2e_check "non-root with only the 2 ambient capabilities (setpriv): serves a tunnel" nonroot_serves
NP_RC=0
e2e_stop "$NP_PID" 5 || NP_RC=$?
np_stopped() {
	[ "$NP_RC" = 0 ] || { echo "exit status $NP_RC"; return 1; }
	grep "stopping" "$T/np.log" && e2e_ns "$TOPO_NS_G" "$TSPGW" -c "$NCONF" detach
}
e2e_check "it stops on SIGTERM (exit status 0)" np_stopped

# --- the systemd unit --------------------------------------------------------

unit_ok() {
	local unit=$T/tspgw.service out want="CAP_BPF CAP_NET_ADMIN"
	# verify wants ExecStart's binary to exist: point it at the build.
	sed "s|/usr/local/sbin/tspgw|$TSPGW|" "$ROOT/dist/tspgw.service" >"$unit"
	out=$(systemd-analyze verify "$unit" 2>&1) || { echo "$out"; return 1; }
	[ -z "$out" ] || { echo "$out"; return 1; }
	grep -qx "CapabilityBoundingSet=$want" "$unit" && grep -qx "AmbientCapabilities=$want" "$unit" &&
		grep -qx "NoNewPrivileges=yes" "$unit" && grep -qx "Restart=on-failure" "$unit" &&
		grep -qx "StateDirectory=tspgw" "$unit" && grep -qx "User=tspgw" "$unit"
}
if command -v systemd-analyze >/dev/null 2>&1; then
	e2e_check "dist/tspgw.service: systemd-analyze verify, the same 2 capabilities" unit_ok
else
	e2e_log "no systemd-analyze: unit not checked"
fi

# The suite stopped what it started: no container of its own still runs
# (the refused ones exit by themselves, the others are removed by their
# checks), and nothing runs in its namespaces.
no_container_left() {
	local left
	left=$(pm ps -q --filter "name=^$NAME" 2>&1) || { echo "$left"; return 1; }
	[ -z "$left" ] || { pm ps --filter "name=^$NAME"; return 1; }
}
e2e_check "no container of this suite is left running" no_container_left
e2e_check_no_leftovers

e2e_log "container tests took $(elapsed)"
e2e_finish
