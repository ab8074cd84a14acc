// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/dataplane.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dataplane/caps.h"
#include "dataplane/binding_migrate.h"
#include "dataplane/dp_clock.h"
#include "dataplane/dp_config.h"
#include "dataplane/libbpf_log.h"
#include "dataplane/load_error.h"
#include "common/log.h"
#include "dataplane/netlink.h"
#include "dataplane/own_addr.h"
#include "dataplane/pinned_maps.h"
#include "dataplane/pool_routes.h"
#include "dataplane/route_migrate.h"
#include "tspgw.skel.h"
#include "bpf/tspgw_maps.h"
#include "dataplane/tundev.h"

#define XDP_LINK_PREFIX "xdp_link_"
#define TC_PRIORITY 1
#define TC_HANDLE 1

const char *const dp_xdp_modes[] = { [TSPGW_XDP_AUTO] = "auto", [TSPGW_XDP_NATIVE] = "native",
				      [TSPGW_XDP_GENERIC] = "generic", NULL };

/* A refused netlink request or TUN ioctl (routes, tc hooks, the tunnel
 * device) after dp_preflight confirmed the capabilities: a refusal then is
 * not theirs to explain. Refused bpf(2) calls: bpf_err_hint. */
static const char *netlink_err_hint(int rc)
{
	if (rc < 0)
		rc = -rc;
	if (rc == EPERM)
		return "Operation not permitted, although CAP_BPF and CAP_NET_ADMIN are held (a "
		       "seccomp profile or LSM policy?)";
	if (rc == EACCES)
		return "Permission denied, although CAP_BPF and CAP_NET_ADMIN are held (a seccomp "
		       "profile or LSM policy?)";
	return bpf_err_hint(rc);
}

static int iface_mtu(const char *ifname)
{
	struct ifreq ifr;
	int fd, mtu = -1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

static void set_pin_paths(struct tspgw_bpf *skel, const char *pin_path)
{
	struct bpf_map *map;
	char path[PATH_MAX];

	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_internal(map))
			continue; /* .rodata/.bss belong to one program version */
		snprintf(path, sizeof(path), "%s/%s", pin_path, bpf_map__name(map));
		bpf_map__set_pin_path(map, path);
	}
}

/* The interfaces' own addresses and MACs (own_addr.h). */
static void fill_own(const struct tspgw_cfg *cfg, const char *if4name, int if4,
		     const char *if6name, int if6, struct tspgw_dp_config *dc)
{
	const char *names[TSPGW_MAX_XDP_IFACES] = { if4name, if6name };
	const int idx[TSPGW_MAX_XDP_IFACES] = { if4, if6 };
	int lost = own_addr_collect(cfg->gateway_ipv4.s_addr, if4name, if6 != if4 ? if6name : NULL,
				    dc->own_ipv4);

	if (lost < 0)
		log_msg(LOG_LEVEL_WARN, "cannot list the interfaces' IPv4 addresses (%s); only "
			   "gateway.ipv4 is refused as a tunnel endpoint",
		      strerror(-lost));
	else if (lost > 0)
		log_msg(LOG_LEVEL_WARN, "%d own IPv4 addresses/broadcasts beyond the first %d are not "
			   "refused as tunnel endpoints by the data plane",
		      lost, TSPGW_MAX_OWN_IPV4);
	if (lost < 0)
		dc->own_ipv4[0] = cfg->gateway_ipv4.s_addr;
	for (int i = 0; i < TSPGW_MAX_XDP_IFACES; i++) {
		int rc;

		if (i > 0 && idx[i] == idx[0])
			break;
		rc = own_mac(names[i], dc->xdp_if[i].mac);
		if (rc) {
			/* No Ethernet header (rc -ENOTSUP): nothing to check. */
			log_msg(LOG_LEVEL_INFO, "%s: no MAC address (%s): frames on it are not checked for "
				   "their destination MAC",
			      names[i], strerror(-rc));
			continue;
		}
		dc->xdp_if[i].ifindex = (__u32)idx[i];
	}
}

/* The routes of pool_routes.h. */
static int add_pool_routes(const struct tspgw_cfg *cfg, int tun_ifindex, char *err,
			   size_t errlen)
{
	const struct tspgw_prefix *ranges[DP_POOL_RANGES];
	int n = dp_pool_ranges(cfg, ranges);

	for (int i = 0; i < n; i++) {
		char buf[INET6_ADDRSTRLEN];
		int rc = nl_route6_replace(tun_ifindex, &ranges[i]->addr, ranges[i]->len);

		inet_ntop(AF_INET6, &ranges[i]->addr, buf, sizeof(buf));
		if (rc) {
			snprintf(err, errlen, "cannot route %s/%u to %s: %s", buf, ranges[i]->len,
				 cfg->tunnel_device, netlink_err_hint(rc));
			return -1;
		}
		log_msg(LOG_LEVEL_INFO, "route %s/%u -> %s", buf, ranges[i]->len, cfg->tunnel_device);
	}
	return 0;
}

/* The clsact qdisc, which may be there already (-EEXIST, fine): the
 * kernel's "exclusivity flag on" that libbpf passes on is no warning. */
static int tc_hook_create(struct bpf_tc_hook *hook)
{
	bool was = libbpf_log_quiet(true);
	int rc = bpf_tc_hook_create(hook);

	libbpf_log_quiet(was);
	return rc;
}

static int attach_tc(int tun_ifindex, int prog_fd, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = tun_ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int rc;

	rc = tc_hook_create(&hook);
	if (rc && rc != -EEXIST) {
		snprintf(err, errlen, "cannot create the tc hook on the tunnel device: %s",
			 netlink_err_hint(rc));
		return -1;
	}
	rc = bpf_tc_attach(&hook, &opts);
	if (rc) {
		snprintf(err, errlen, "cannot attach the tc program: %s", netlink_err_hint(rc));
		return -1;
	}
	return 0;
}

/* tspgw_tc_ingress on an interface XDP is on: it delivers what XDP
 * decapsulated and marked for the kernel on the tunnel device. Attached
 * before XDP, so no marked packet ever meets an interface without it.
 * Only our filter (DP_TC_INGRESS_HANDLE/PRIORITY) is added and removed:
 * the clsact qdisc of an uplink may hold the operator's own filters. */
static int attach_tc_ingress(const char *ifname, int ifindex, int prog_fd, char *err,
			     size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_INGRESS_HANDLE,
		    .priority = DP_TC_INGRESS_PRIORITY, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	int rc;

	rc = tc_hook_create(&hook);
	if (rc && rc != -EEXIST) {
		snprintf(err, errlen, "cannot create the tc ingress hook on %s: %s", ifname,
			 netlink_err_hint(rc));
		return -1;
	}
	rc = bpf_tc_attach(&hook, &opts);
	if (rc) {
		snprintf(err, errlen, "cannot attach the tc ingress program to %s: %s", ifname,
			 netlink_err_hint(rc));
		return -1;
	}
	log_msg(LOG_LEVEL_INFO, "tc ingress on %s: attached", ifname);
	return 0;
}

static void detach_tc_ingress(const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_INGRESS_HANDLE,
		    .priority = DP_TC_INGRESS_PRIORITY);

	bool was = libbpf_log_quiet(true); /* often not there: not a warning */
	int rc = ifindex > 0 ? bpf_tc_detach(&hook, &opts) : -ENODEV;

	libbpf_log_quiet(was);
	if (rc == 0)
		log_msg(LOG_LEVEL_INFO, "tc ingress on %s: detached", ifname);
}

unsigned int dp_tc_ingress_prog_id(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_INGRESS_HANDLE,
		    .priority = DP_TC_INGRESS_PRIORITY);

	bool was;
	int rc;

	if (ifindex <= 0)
		return 0;
	was = libbpf_log_quiet(true); /* "not attached" is an answer, not a warning */
	rc = bpf_tc_query(&hook, &opts);
	libbpf_log_quiet(was);
	return rc ? 0 : opts.prog_id;
}

static int link_pin_path(char *buf, size_t len, const char *pin_path, const char *ifname)
{
	return snprintf(buf, len, "%s/%s%s", pin_path, XDP_LINK_PREFIX, ifname) >= (int)len ? -1 : 0;
}

/* Attach, or atomically replace, the XDP program on one interface. */
static int attach_xdp(const char *pin_path, const char *ifname, int ifindex, int prog_fd,
		      enum tspgw_xdp_mode mode, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int link_fd, rc;

	if (link_pin_path(path, sizeof(path), pin_path, ifname)) {
		snprintf(err, errlen, "pin path too long");
		return -1;
	}
	link_fd = bpf_obj_get(path);
	if (link_fd >= 0) {
		rc = bpf_link_update(link_fd, prog_fd, NULL);
		close(link_fd);
		if (rc == 0) {
			log_msg(LOG_LEVEL_INFO, "xdp on %s: program replaced in place", ifname);
			return 0;
		}
		/* The link is dead (interface gone and back): start over. */
		unlink(path);
	}

	for (int attempt = 0; attempt < 2; attempt++) {
		LIBBPF_OPTS(bpf_link_create_opts, opts);
		enum tspgw_xdp_mode m = mode;

		if (mode == TSPGW_XDP_AUTO)
			m = attempt == 0 ? TSPGW_XDP_NATIVE : TSPGW_XDP_GENERIC;
		else if (attempt > 0)
			break;
		opts.flags = m == TSPGW_XDP_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
		link_fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
		if (link_fd < 0) {
			rc = -errno;
			if (rc == -EBUSY || rc == -EEXIST) {
				snprintf(err, errlen,
					 "%s already has an XDP program that tspgw did not attach; "
					 "remove it first (ip link set dev %s xdp off)",
					 ifname, ifname);
				return -1;
			}
			continue;
		}
		if (bpf_obj_pin(link_fd, path)) {
			rc = -errno;
			close(link_fd);
			snprintf(err, errlen, "cannot pin the XDP link at %s: %s", path, bpf_err_hint(rc));
			return -1;
		}
		close(link_fd);
		log_msg(LOG_LEVEL_INFO, "xdp on %s: attached (%s mode)", ifname,
		      m == TSPGW_XDP_NATIVE ? "native" : "generic");
		return 0;
	}
	snprintf(err, errlen, "cannot attach XDP to %s in %s mode: %s", ifname,
		 mode == TSPGW_XDP_NATIVE ? "native" : mode == TSPGW_XDP_GENERIC ? "generic" : "any",
		 bpf_err_hint(rc));
	return -1;
}

/* Links left from an earlier attach to interfaces no longer wanted. */
static void drop_stale_links(const char *pin_path, const char *keep1, const char *keep2)
{
	DIR *d = opendir(pin_path);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *ifname = de->d_name + strlen(XDP_LINK_PREFIX);
		char path[PATH_MAX];
		int fd;

		if (strncmp(de->d_name, XDP_LINK_PREFIX, strlen(XDP_LINK_PREFIX)))
			continue;
		if (!strcmp(ifname, keep1) || !strcmp(ifname, keep2))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_path, de->d_name);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
		unlink(path);
		log_msg(LOG_LEVEL_INFO, "xdp on %s: detached (no longer configured)", ifname);
		detach_tc_ingress(ifname);
	}
	closedir(d);
}

static bool sysctl_is_one(const char *path)
{
	char buf[8] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] == '1';
}

static bool sysctl_is_zero(const char *path)
{
	char buf[8] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] == '0' && (buf[1] == '\n' || buf[1] == '\0');
}

/* Set a sysctl to "1" or "0" unless it already is: in a container
 * /proc/sys is read-only, and the host may have set it for us. */
static int write_sysctl(const char *path, const char *value)
{
	FILE *f;
	int rc;

	if (!strcmp(value, "1") && sysctl_is_one(path))
		return 0;
	if (!strcmp(value, "0") && sysctl_is_zero(path))
		return 0;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	rc = fputs(value, f) < 0 ? -EIO : 0;
	if (fclose(f))
		rc = -errno;
	return rc;
}

/* The gateway is a router: decapsulated packets that XDP hands up are
 * forwarded by the kernel (IPv6), and bpf_fib_lookup refuses to route the
 * outer IPv4 packet unless forwarding is on for the uplink (it checks that
 * even for BPF_FIB_LOOKUP_OUTPUT). */
static int enable_forwarding(const char *uplink, char *err, size_t errlen)
{
	char path[128];
	int rc;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding", uplink);
	rc = write_sysctl(path, "1");
	if (!rc)
		rc = write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	if (rc) {
		snprintf(err, errlen,
			 "cannot enable forwarding (%s): %s; set net.ipv4.conf.%s.forwarding=1 and "
			 "net.ipv6.conf.all.forwarding=1 on the host",
			 path, strerror(-rc), uplink);
		return -1;
	}
	log_msg(LOG_LEVEL_INFO, "forwarding enabled: net.ipv4.conf.%s.forwarding, net.ipv6.conf.all.forwarding",
	      uplink);
	return 0;
}

/* The tunnel device is a link of its own, and nothing arriving on it may
 * configure the gateway: no router advertisements (a default route into a
 * tunnel), no redirects. The data plane already drops ND from tunnels; this
 * is the kernel's side of the same rule. In a container whose /proc/sys is
 * read-only this may fail: a warning, since XDP and tc enforce it anyway. */
static void harden_tundev(const char *tundev)
{
	static const char *const keys[] = { "accept_ra", "accept_redirects" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char path[128];
		int rc;

		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", tundev, keys[i]);
		rc = write_sysctl(path, "0");
		if (rc)
			log_msg(LOG_LEVEL_WARN, "cannot set net.ipv6.conf.%s.%s=0: %s", tundev, keys[i],
			      strerror(-rc));
	}
}

int dp_preflight(const struct tspgw_cfg *cfg, const struct dp_attach_opts *o, char *err,
		 size_t errlen)
{
	const char *v6if = o->ipv6_iface && *o->ipv6_iface ? o->ipv6_iface : o->ipv4_iface;
	int mtu;

	/* First, so too few privileges are named before anything else. */
	if (caps_require(err, errlen))
		return -1;
	if (!o->ipv4_iface || !*o->ipv4_iface) {
		snprintf(err, errlen, "no interface given (tspgw attach IFACE, or interfaces.ipv4)");
		return -1;
	}
	if (!cfg->has_gateway_ipv4) {
		snprintf(err, errlen, "%s: gateway.ipv4 is required to attach",
			 cfg->source[0] ? cfg->source : "config");
		return -1;
	}
	if (!if_nametoindex(o->ipv4_iface)) {
		snprintf(err, errlen, "interface %s not found", o->ipv4_iface);
		return -1;
	}
	if (!if_nametoindex(v6if)) {
		snprintf(err, errlen, "interface %s not found", v6if);
		return -1;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen, "no BTF in kernel (/sys/kernel/btf/vmlinux is missing; "
				      "tspgw needs a kernel built with CONFIG_DEBUG_INFO_BTF)");
		return -1;
	}
	mtu = cfg->outer_mtu ? (int)cfg->outer_mtu : iface_mtu(o->ipv4_iface);
	if (mtu < 1280 + 28) {
		snprintf(err, errlen, "outer MTU %d of %s is too small for IPv6 tunnels (need >= 1308)",
			 mtu, o->ipv4_iface);
		return -1;
	}
	return 0;
}

bool dp_attached(const char *pin_path)
{
	char path[PATH_MAX];

	/* dp_config of TSPGW_PINNED_MAPS, pinned under its own name. */
	snprintf(path, sizeof(path), "%s/dp_config", pin_path);
	return access(path, F_OK) == 0;
}

static int load_programs(const struct tspgw_cfg *cfg, struct tspgw_bpf *skel, char *err,
			 size_t errlen)
{
	struct load_failure f = { .pin_path = cfg->pin_path };

	libbpf_log_reset();
	f.rc = tspgw_bpf__load(skel);
	if (!f.rc)
		return 0;
	f.caps = caps_held();
	f.child_userns = caps_in_child_userns();
	f.verifier = libbpf_log_verifier();
	load_error_explain(&f, err, errlen);
	return -1;
}

/* Maps pinned by a tspgw from before host_routes: their /128 routes move
 * from the trie to the hash (route_migrate.h), and dp_config records that
 * it is done. A failure leaves the rest in the trie, where the programs
 * still find them; the next attach tries again. */
static void move_host_routes(struct tspgw_bpf *skel)
{
	int cfg_fd = bpf_map__fd(skel->maps.dp_config);
	struct tspgw_dp_config dc;
	__u32 zero = 0;
	char err[256];
	long n;

	n = route_migrate_hosts(bpf_map__fd(skel->maps.routes), bpf_map__fd(skel->maps.host_routes),
				err, sizeof(err));
	if (n < 0) {
		log_msg(LOG_LEVEL_WARN, "host routes left in the routes trie: %s", err);
		return;
	}
	log_msg(LOG_LEVEL_INFO, "moved %ld host routes from the routes trie to host_routes "
			       "(maps pinned by an older tspgw)",
		n);
	if (bpf_map_lookup_elem(cfg_fd, &zero, &dc))
		return;
	dc.flags |= TSPGW_CFG_F_HOST_ROUTES;
	bpf_map_update_elem(cfg_fd, &zero, &dc, BPF_ANY);
}

/* What the previous maps counted goes into the converted records
 * (binding_migrate_finish). A failure leaves the rest pinned as
 * NAME_v96, where the next attach finds it; the tunnels themselves are
 * all in the new maps already. */
static void fold_previous_bindings(const char *pin_path)
{
	char err[256];
	long n = binding_migrate_finish(pin_path, err, sizeof(err));

	if (n < 0)
		log_msg(LOG_LEVEL_WARN, "previous tunnel counters not all carried over yet: %s", err);
	else if (n > 0)
		log_msg(LOG_LEVEL_INFO, "carried over the counters of %ld tunnels from the "
				       "previous maps",
			n);
}

/* dp_attach after its checks: every step that changes the system. */
static int attach_steps(const struct tspgw_cfg *cfg, const struct dp_attach_opts *o, char *err,
			size_t errlen);

int dp_attach(const struct tspgw_cfg *cfg, const struct dp_attach_opts *o, char *err,
	      size_t errlen)
{
	const char *v6if = o->ipv6_iface && *o->ipv6_iface ? o->ipv6_iface : o->ipv4_iface;
	bool fresh, had_dir;

	if (dp_preflight(cfg, o, err, errlen))
		return -1;
	fresh = !dp_attached(cfg->pin_path);
	had_dir = access(cfg->pin_path, F_OK) == 0;
	if (!attach_steps(cfg, o, err, errlen))
		return 0;
	/* A first attach that failed half way takes back what it made; one
	 * over a running data plane leaves that running (its tunnels with it). */
	if (fresh) {
		log_msg(LOG_LEVEL_INFO, "attach failed: removing what it made");
		dp_undo(cfg, o->ipv4_iface, v6if, !had_dir);
	}
	return -1;
}

static int attach_steps(const struct tspgw_cfg *cfg, const struct dp_attach_opts *o, char *err,
			size_t errlen)
{
	const char *v6if = o->ipv6_iface && *o->ipv6_iface ? o->ipv6_iface : o->ipv4_iface;
	struct tspgw_dp_config dc;
	struct binding_migration mig;
	struct tspgw_bpf *skel = NULL;
	int if4, if6, tun_ifindex, mtu, rc = -1;
	__u32 zero = 0;

	if4 = (int)if_nametoindex(o->ipv4_iface);
	if6 = (int)if_nametoindex(v6if);
	mtu = cfg->outer_mtu ? (int)cfg->outer_mtu : iface_mtu(o->ipv4_iface);
	if (bpffs_ensure(cfg->pin_path, err, errlen))
		return -1;

	skel = tspgw_bpf__open();
	if (!skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s", bpf_err_hint(-errno));
		return -1;
	}
	bpf_map__set_max_entries(skel->maps.bindings, cfg->max_tunnels);
	/* The trie holds delegated prefixes only now, but keeps its size: a
	 * pinned map is reused only when its max_entries match, and the
	 * trie allocates per entry, so the room costs nothing. */
	bpf_map__set_max_entries(skel->maps.routes, cfg->max_tunnels * 2);
	bpf_map__set_max_entries(skel->maps.host_routes, cfg->max_tunnels);
	bpf_map__set_max_entries(skel->maps.claims, cfg->max_tunnels);
	set_pin_paths(skel, cfg->pin_path);
	/* Binding records of the previous layout: converted into new maps
	 * (binding_migrate.h) while the old programs keep forwarding. */
	if (binding_migrate_prepare(&mig, cfg->pin_path, skel->maps.bindings, skel->maps.claims,
				    err, errlen))
		goto out;
	if (load_programs(cfg, skel, err, errlen))
		goto out;
	if (mig.convert[0] || mig.convert[1]) {
		long n = binding_migrate_convert(&mig, err, errlen);

		if (n < 0)
			goto out;
		log_msg(LOG_LEVEL_INFO, "converted %ld tunnel records to this version's layout "
				       "(maps pinned by an older tspgw)",
			n);
	}
	log_msg(LOG_LEVEL_INFO, "maps pinned under %s", cfg->pin_path);

	tun_ifindex = tundev_ensure(cfg->tunnel_device, (unsigned)DP_MTU_V6UDPV4(mtu));
	if (tun_ifindex < 0) {
		if (tun_ifindex == -EACCES)
			/* The node's mode, not a capability: Debian's udev makes
			 * it 0666; a container needs --device /dev/net/tun. */
			snprintf(err, errlen,
				 "cannot create tunnel device %s: no read-write access to "
				 "/dev/net/tun for uid %u (it should be mode 0666)",
				 cfg->tunnel_device, (unsigned)getuid());
		else if (tun_ifindex == -ENOENT)
			snprintf(err, errlen,
				 "cannot create tunnel device %s: no /dev/net/tun (in a "
				 "container: --device /dev/net/tun)",
				 cfg->tunnel_device);
		else
			snprintf(err, errlen, "cannot create tunnel device %s: %s",
				 cfg->tunnel_device, netlink_err_hint(tun_ifindex));
		rc = -1;
		goto out;
	}
	log_msg(LOG_LEVEL_INFO, "tunnel device %s (ifindex %d, mtu %d)", cfg->tunnel_device, tun_ifindex,
	      DP_MTU_V6UDPV4(mtu));
	harden_tundev(cfg->tunnel_device);

	dp_config_fill(cfg, (unsigned)mtu, tun_ifindex, if4, &dc);
	fill_own(cfg, o->ipv4_iface, if4, v6if, if6, &dc);
	{
		char cerr[160];

		/* Two tick edges ~50 ms apart tell HZ=250 from 300 easily. */
		if (dp_clock_sample(bpf_program__fd(skel->progs.tspgw_clock), 50, &dc, cerr,
				    sizeof(cerr)))
			log_msg(LOG_LEVEL_WARN, "%s; last_seen from bpf_ktime_get_boot_ns (slower)",
				cerr);
	}
	{
		/* A re-attach reuses the pinned nh_cache: continue after the
		 * old route_gen instead of restarting at 0, or entries filled
		 * under some earlier generation could match again once the
		 * counter climbs back to it. */
		struct tspgw_dp_config old;

		if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.dp_config), &zero, &old))
			dc.route_gen = old.route_gen + 1;
		else
			memset(&old, 0, sizeof(old));
		/* A config map some attach filled (ENABLED) without
		 * HOST_ROUTES is an older tspgw's: its /128s move below. A
		 * new one (all zero) comes with empty maps. */
		if (!(old.flags & TSPGW_CFG_F_ENABLED) || (old.flags & TSPGW_CFG_F_HOST_ROUTES))
			dc.flags |= TSPGW_CFG_F_HOST_ROUTES;
	}
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.dp_config), &zero, &dc, BPF_ANY)) {
		snprintf(err, errlen, "cannot write the config map: %s", bpf_err_hint(-errno));
		rc = -1;
		goto out;
	}
	rc = -1;
	if (add_pool_routes(cfg, tun_ifindex, err, errlen))
		goto out;
	if (attach_tc(tun_ifindex, bpf_program__fd(skel->progs.tspgw_tc_encap), err, errlen))
		goto out;
	log_msg(LOG_LEVEL_INFO, "tc egress on %s: attached", cfg->tunnel_device);
	if (attach_tc_ingress(o->ipv4_iface, if4, bpf_program__fd(skel->progs.tspgw_tc_ingress),
			      err, errlen))
		goto out;
	if (if6 != if4 && attach_tc_ingress(v6if, if6, bpf_program__fd(skel->progs.tspgw_tc_ingress),
					    err, errlen))
		goto out;
	if (attach_xdp(cfg->pin_path, o->ipv4_iface, if4, bpf_program__fd(skel->progs.tspgw_xdp),
		       o->mode, err, errlen))
		goto out;
	if (if6 != if4 && attach_xdp(cfg->pin_path, v6if, if6,
				     bpf_program__fd(skel->progs.tspgw_xdp), o->mode, err,
				     errlen))
		goto out;
	drop_stale_links(cfg->pin_path, o->ipv4_iface, v6if);
	/* After the XDP attach: the programs replaced looked at the trie only. */
	if (!(dc.flags & TSPGW_CFG_F_HOST_ROUTES))
		move_host_routes(skel);
	/* After every program is this version's: the old maps no longer
	 * count. Also finishes a conversion an earlier attach left. */
	fold_previous_bindings(cfg->pin_path);
	if (enable_forwarding(o->ipv4_iface, err, errlen))
		goto out;
	rc = 0;
out:
	tspgw_bpf__destroy(skel);
	return rc;
}

int dp_list_xdp(const char *pin_path, struct dp_xdp_attachment *out, int max)
{
	DIR *d = opendir(pin_path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		struct bpf_link_info info;
		__u32 len = sizeof(info);
		char path[PATH_MAX];
		int fd;

		if (strncmp(de->d_name, XDP_LINK_PREFIX, strlen(XDP_LINK_PREFIX)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_path, de->d_name);
		memset(&out[n], 0, sizeof(out[n]));
		snprintf(out[n].ifname, sizeof(out[n].ifname), "%s",
			 de->d_name + strlen(XDP_LINK_PREFIX));
		snprintf(out[n].mode, sizeof(out[n].mode), "?");
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			memset(&info, 0, sizeof(info));
			if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
				out[n].ifindex = info.xdp.ifindex;
				out[n].prog_id = info.prog_id;
			}
			close(fd);
		}
		if (out[n].ifindex) {
			LIBBPF_OPTS(bpf_xdp_query_opts, q);

			out[n].tc_ingress_prog_id = dp_tc_ingress_prog_id((int)out[n].ifindex);
			if (bpf_xdp_query((int)out[n].ifindex, 0, &q) == 0)
				snprintf(out[n].mode, sizeof(out[n].mode), "%s",
					 q.drv_prog_id == out[n].prog_id   ? "native"
					 : q.skb_prog_id == out[n].prog_id ? "generic"
									   : "?");
		}
		n++;
	}
	closedir(d);
	return n;
}

static void remove_pins(const char *pin_path, bool remove_dir)
{
	DIR *d = opendir(pin_path);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_path, de->d_name);
		if (unlink(path) == 0)
			log_msg(LOG_LEVEL_INFO, "unpinned %s", path);
	}
	closedir(d);
	if (!remove_dir)
		return;
	if (rmdir(pin_path) && errno == EBUSY && umount(pin_path) == 0)
		rmdir(pin_path);
}

static void teardown(const struct tspgw_cfg *cfg, const char *if4, const char *if6,
		     bool remove_dir)
{
	struct dp_xdp_attachment xdp[16];
	int n = dp_list_xdp(cfg->pin_path, xdp, 16);
	int tun_ifindex;

	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		int fd;

		link_pin_path(path, sizeof(path), cfg->pin_path, xdp[i].ifname);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
		unlink(path);
		log_msg(LOG_LEVEL_INFO, "xdp on %s: detached", xdp[i].ifname);
		/* After XDP: no more marked packets come. */
		detach_tc_ingress(xdp[i].ifname);
	}
	/* An attach that failed between tc ingress and XDP left no XDP pin:
	 * the interfaces it was given are checked too (only our filter goes). */
	if (if4 && *if4)
		detach_tc_ingress(if4);
	if (if6 && *if6 && (!if4 || strcmp(if4, if6)))
		detach_tc_ingress(if6);
	tun_ifindex = (int)if_nametoindex(cfg->tunnel_device);
	if (tun_ifindex > 0) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = tun_ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
		bool was = libbpf_log_quiet(true);

		bpf_tc_hook_destroy(&hook);
		libbpf_log_quiet(was);
		if (nl_link_del(tun_ifindex) == 0)
			log_msg(LOG_LEVEL_INFO, "tunnel device %s: removed", cfg->tunnel_device);
	}
	remove_pins(cfg->pin_path, remove_dir);
}

void dp_undo(const struct tspgw_cfg *cfg, const char *ipv4_iface, const char *ipv6_iface,
	     bool remove_dir)
{
	teardown(cfg, ipv4_iface, ipv6_iface, remove_dir);
}

int dp_detach(const struct tspgw_cfg *cfg, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	teardown(cfg, cfg->ipv4_iface, cfg->ipv6_iface, true);
	return 0;
}
