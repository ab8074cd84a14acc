#include "dataplane.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "caps.h"
#include "netlink.h"
#include "own_addr.h"
#include "pinned_maps.h"
#include "tspgw.skel.h"
#include "tspgw_maps.h"
#include "tundev.h"

#define XDP_LINK_PREFIX "xdp_link_"
#define TC_PRIORITY 1
#define TC_HANDLE 1

const char *const dp_xdp_modes[] = { [TSPGW_XDP_AUTO] = "auto", [TSPGW_XDP_NATIVE] = "native",
				      [TSPGW_XDP_GENERIC] = "generic", NULL };

static void logf_(dp_log_fn log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(dp_log_fn log, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log(line);
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
		     const char *if6name, int if6, struct tspgw_dp_config *dc, dp_log_fn log)
{
	const char *names[TSPGW_MAX_XDP_IFACES] = { if4name, if6name };
	const int idx[TSPGW_MAX_XDP_IFACES] = { if4, if6 };
	int lost = own_addr_collect(cfg->gateway_ipv4.s_addr, if4name, if6 != if4 ? if6name : NULL,
				    dc->own_ipv4);

	if (lost < 0)
		logf_(log, "warning: cannot list the interfaces' IPv4 addresses (%s); only "
			   "gateway.ipv4 is refused as a tunnel endpoint",
		      strerror(-lost));
	else if (lost > 0)
		logf_(log, "warning: %d own IPv4 addresses/broadcasts beyond the first %d are not "
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
			logf_(log, "%s: no MAC address (%s): frames on it are not checked for "
				   "their destination MAC",
			      names[i], strerror(-rc));
			continue;
		}
		dc->xdp_if[i].ifindex = (__u32)idx[i];
	}
}

static void fill_dp_config(const struct tspgw_cfg *cfg, unsigned int outer_mtu, int tun_ifindex,
			   int uplink_ifindex, struct tspgw_dp_config *dc)
{
	memset(dc, 0, sizeof(*dc));
	dc->flags = TSPGW_CFG_F_ENABLED;
	if (cfg->anon_enabled) {
		dc->flags |= TSPGW_CFG_F_ANON;
		memcpy(dc->anon_prefix, &cfg->anon_prefix.addr, 8);
	}
	if (cfg->public_mode)
		dc->flags |= TSPGW_CFG_F_PUBLIC;
	if (cfg->has_keepalive_ipv6) {
		dc->flags |= TSPGW_CFG_F_KEEPALIVE;
		memcpy(dc->keepalive_addr, &cfg->keepalive_ipv6, 16);
	}
	dc->gw_ipv4 = cfg->gateway_ipv4.s_addr;
	dc->tsp_port = htons(cfg->tsp_port);
	dc->anon_layout = cfg->anon_layout;
	dc->mtu_v6udpv4 = (__u16)DP_MTU_V6UDPV4(outer_mtu);
	dc->mtu_v6v4 = (__u16)DP_MTU_V6V4(outer_mtu);
	dc->tun_ifindex = (__u32)tun_ifindex;
	dc->uplink_ifindex = (__u32)uplink_ifindex;
	dc->nh_ttl_jiffies = TSPGW_NH_TTL_JIFFIES;
	dc->special_allow = cfg->special_allow;
	if (cfg->verify_udp_checksum)
		dc->flags |= TSPGW_CFG_F_VERIFY_UDP_CSUM;
	/* TSPGW_CFG_F_NH_CACHE stays clear: only `tspgw run` sets it, while
	 * its rtnetlink listener keeps route_gen current (route_watch.h). */
}

/* Kernel routes into the tunnel device for every range tunnels live in, so
 * what the kernel itself sends there reaches the tc encapsulation. */
static int add_pool_routes(const struct tspgw_cfg *cfg, int tun_ifindex, dp_log_fn log, char *err,
			   size_t errlen)
{
	const struct tspgw_prefix *ranges[3];
	int n = 0;

	if (cfg->anon_enabled)
		ranges[n++] = &cfg->anon_prefix;
	if (cfg->has_host_pool)
		ranges[n++] = &cfg->host_pool;
	if (cfg->has_prefix_pool)
		ranges[n++] = &cfg->prefix_pool;
	for (int i = 0; i < n; i++) {
		char buf[INET6_ADDRSTRLEN];
		int rc = nl_route6_replace(tun_ifindex, &ranges[i]->addr, ranges[i]->len);

		inet_ntop(AF_INET6, &ranges[i]->addr, buf, sizeof(buf));
		if (rc) {
			snprintf(err, errlen, "cannot route %s/%u to %s: %s", buf, ranges[i]->len,
				 cfg->tunnel_device, bpf_err_hint(rc));
			return -1;
		}
		logf_(log, "route %s/%u -> %s", buf, ranges[i]->len, cfg->tunnel_device);
	}
	return 0;
}

static int attach_tc(int tun_ifindex, int prog_fd, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = tun_ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int rc;

	rc = bpf_tc_hook_create(&hook);
	if (rc && rc != -EEXIST) {
		snprintf(err, errlen, "cannot create the tc hook on the tunnel device: %s",
			 bpf_err_hint(rc));
		return -1;
	}
	rc = bpf_tc_attach(&hook, &opts);
	if (rc) {
		snprintf(err, errlen, "cannot attach the tc program: %s", bpf_err_hint(rc));
		return -1;
	}
	return 0;
}

/* tspgw_tc_ingress on an interface XDP is on: it delivers what XDP
 * decapsulated and marked for the kernel on the tunnel device. Attached
 * before XDP, so no marked packet ever meets an interface without it.
 * Only our filter (DP_TC_INGRESS_HANDLE/PRIORITY) is added and removed:
 * the clsact qdisc of an uplink may hold the operator's own filters. */
static int attach_tc_ingress(const char *ifname, int ifindex, int prog_fd, dp_log_fn log, char *err,
			     size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_INGRESS_HANDLE,
		    .priority = DP_TC_INGRESS_PRIORITY, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	int rc;

	rc = bpf_tc_hook_create(&hook);
	if (rc && rc != -EEXIST) {
		snprintf(err, errlen, "cannot create the tc ingress hook on %s: %s", ifname,
			 bpf_err_hint(rc));
		return -1;
	}
	rc = bpf_tc_attach(&hook, &opts);
	if (rc) {
		snprintf(err, errlen, "cannot attach the tc ingress program to %s: %s", ifname,
			 bpf_err_hint(rc));
		return -1;
	}
	logf_(log, "tc ingress on %s: attached", ifname);
	return 0;
}

static void detach_tc_ingress(const char *ifname, dp_log_fn log)
{
	int ifindex = (int)if_nametoindex(ifname);
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_INGRESS_HANDLE,
		    .priority = DP_TC_INGRESS_PRIORITY);

	if (ifindex > 0 && bpf_tc_detach(&hook, &opts) == 0)
		logf_(log, "tc ingress on %s: detached", ifname);
}

unsigned int dp_tc_ingress_prog_id(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DP_TC_INGRESS_HANDLE,
		    .priority = DP_TC_INGRESS_PRIORITY);

	if (ifindex <= 0 || bpf_tc_query(&hook, &opts))
		return 0;
	return opts.prog_id;
}

static int link_pin_path(char *buf, size_t len, const char *pin_path, const char *ifname)
{
	return snprintf(buf, len, "%s/%s%s", pin_path, XDP_LINK_PREFIX, ifname) >= (int)len ? -1 : 0;
}

/* Attach, or atomically replace, the XDP program on one interface. */
static int attach_xdp(const char *pin_path, const char *ifname, int ifindex, int prog_fd,
		      enum tspgw_xdp_mode mode, dp_log_fn log, char *err, size_t errlen)
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
			logf_(log, "xdp on %s: program replaced in place", ifname);
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
		logf_(log, "xdp on %s: attached (%s mode)", ifname,
		      m == TSPGW_XDP_NATIVE ? "native" : "generic");
		return 0;
	}
	snprintf(err, errlen, "cannot attach XDP to %s in %s mode: %s", ifname,
		 mode == TSPGW_XDP_NATIVE ? "native" : mode == TSPGW_XDP_GENERIC ? "generic" : "any",
		 bpf_err_hint(rc));
	return -1;
}

/* Links left from an earlier attach to interfaces no longer wanted. */
static void drop_stale_links(const char *pin_path, const char *keep1, const char *keep2, dp_log_fn log)
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
		logf_(log, "xdp on %s: detached (no longer configured)", ifname);
		detach_tc_ingress(ifname, log);
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
static int enable_forwarding(const char *uplink, dp_log_fn log, char *err, size_t errlen)
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
	logf_(log, "forwarding enabled: net.ipv4.conf.%s.forwarding, net.ipv6.conf.all.forwarding",
	      uplink);
	return 0;
}

/* The tunnel device is a link of its own, and nothing arriving on it may
 * configure the gateway: no router advertisements (a default route into a
 * tunnel), no redirects. The data plane already drops ND from tunnels; this
 * is the kernel's side of the same rule. In a container whose /proc/sys is
 * read-only this may fail: a warning, since XDP and tc enforce it anyway. */
static void harden_tundev(const char *tundev, dp_log_fn log)
{
	static const char *const keys[] = { "accept_ra", "accept_redirects" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char path[128];
		int rc;

		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", tundev, keys[i]);
		rc = write_sysctl(path, "0");
		if (rc)
			logf_(log, "warning: cannot set net.ipv6.conf.%s.%s=0: %s", tundev, keys[i],
			      strerror(-rc));
	}
}

int dp_attach(const struct tspgw_cfg *cfg, const struct dp_attach_opts *o, dp_log_fn log, char *err,
	      size_t errlen)
{
	const char *v6if = o->ipv6_iface && *o->ipv6_iface ? o->ipv6_iface : o->ipv4_iface;
	struct tspgw_dp_config dc;
	struct tspgw_bpf *skel = NULL;
	int if4, if6, tun_ifindex, mtu, rc = -1;
	__u32 zero = 0;

	/* First, so too few privileges leave nothing half made behind. */
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
	if4 = (int)if_nametoindex(o->ipv4_iface);
	if (!if4) {
		snprintf(err, errlen, "interface %s not found", o->ipv4_iface);
		return -1;
	}
	if6 = (int)if_nametoindex(v6if);
	if (!if6) {
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
	if (bpffs_ensure(cfg->pin_path, err, errlen))
		return -1;

	skel = tspgw_bpf__open();
	if (!skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s", bpf_err_hint(-errno));
		return -1;
	}
	bpf_map__set_max_entries(skel->maps.bindings, cfg->max_tunnels);
	bpf_map__set_max_entries(skel->maps.routes, cfg->max_tunnels * 2);
	bpf_map__set_max_entries(skel->maps.claims, cfg->max_tunnels);
	set_pin_paths(skel, cfg->pin_path);
	rc = tspgw_bpf__load(skel);
	if (rc == -EPERM && caps_in_child_userns() == 1) {
		/* capget reported the namespace's capabilities, not the
		 * initial namespace's that bpf(2) checks. */
		snprintf(err, errlen,
			 "cannot load the BPF programs: bpf(2) was refused because this process's "
			 "capabilities belong to a user namespace (a rootless container?), and bpf(2) "
			 "honours CAP_BPF only in the initial one; run the container rootful or "
			 "tspgw on the host");
		rc = -1;
		goto out;
	}
	if (rc == -EPERM) {
		/* The capabilities were checked above: what refuses is a filter
		 * in front of bpf(2), podman's stock seccomp profile above all. */
		snprintf(err, errlen,
			 "cannot load the BPF programs: bpf(2) was refused although this process "
			 "holds CAP_BPF and CAP_NET_ADMIN; a seccomp profile or LSM "
			 "policy blocks it (in podman: --security-opt seccomp=FILE with FILE from "
			 "dist/seccomp-bpf.py)");
		rc = -1;
		goto out;
	}
	if (rc) {
		snprintf(err, errlen,
			 "cannot load the BPF programs: %s (if the pinned maps under %s come from "
			 "a different version or data_plane.max_tunnels changed, run `tspgw detach` first)",
			 bpf_err_hint(rc), cfg->pin_path);
		rc = -1;
		goto out;
	}
	logf_(log, "maps pinned under %s", cfg->pin_path);

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
				 cfg->tunnel_device, bpf_err_hint(tun_ifindex));
		rc = -1;
		goto out;
	}
	logf_(log, "tunnel device %s (ifindex %d, mtu %d)", cfg->tunnel_device, tun_ifindex,
	      DP_MTU_V6UDPV4(mtu));
	harden_tundev(cfg->tunnel_device, log);

	fill_dp_config(cfg, (unsigned)mtu, tun_ifindex, if4, &dc);
	fill_own(cfg, o->ipv4_iface, if4, v6if, if6, &dc, log);
	{
		/* A re-attach reuses the pinned nh_cache: continue after the
		 * old route_gen instead of restarting at 0, or entries filled
		 * under some earlier generation could match again once the
		 * counter climbs back to it. */
		struct tspgw_dp_config old;

		if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.dp_config), &zero, &old))
			dc.route_gen = old.route_gen + 1;
	}
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.dp_config), &zero, &dc, BPF_ANY)) {
		snprintf(err, errlen, "cannot write the config map: %s", bpf_err_hint(-errno));
		rc = -1;
		goto out;
	}
	rc = -1;
	if (add_pool_routes(cfg, tun_ifindex, log, err, errlen))
		goto out;
	if (attach_tc(tun_ifindex, bpf_program__fd(skel->progs.tspgw_tc_encap), err, errlen))
		goto out;
	logf_(log, "tc egress on %s: attached", cfg->tunnel_device);
	if (attach_tc_ingress(o->ipv4_iface, if4, bpf_program__fd(skel->progs.tspgw_tc_ingress), log,
			      err, errlen))
		goto out;
	if (if6 != if4 && attach_tc_ingress(v6if, if6, bpf_program__fd(skel->progs.tspgw_tc_ingress),
					    log, err, errlen))
		goto out;
	if (attach_xdp(cfg->pin_path, o->ipv4_iface, if4, bpf_program__fd(skel->progs.tspgw_xdp),
		       o->mode, log, err, errlen))
		goto out;
	if (if6 != if4 && attach_xdp(cfg->pin_path, v6if, if6,
				     bpf_program__fd(skel->progs.tspgw_xdp), o->mode, log, err,
				     errlen))
		goto out;
	drop_stale_links(cfg->pin_path, o->ipv4_iface, v6if, log);
	if (enable_forwarding(o->ipv4_iface, log, err, errlen))
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

static void remove_pins(const char *pin_path, dp_log_fn log)
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
			logf_(log, "unpinned %s", path);
	}
	closedir(d);
	if (rmdir(pin_path) && errno == EBUSY && umount(pin_path) == 0)
		rmdir(pin_path);
}

int dp_detach(const struct tspgw_cfg *cfg, dp_log_fn log, char *err, size_t errlen)
{
	struct dp_xdp_attachment xdp[16];
	int n = dp_list_xdp(cfg->pin_path, xdp, 16);
	int tun_ifindex;

	(void)err;
	(void)errlen;
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
		logf_(log, "xdp on %s: detached", xdp[i].ifname);
		/* After XDP: no more marked packets come. */
		detach_tc_ingress(xdp[i].ifname, log);
	}
	/* An attach that failed between tc ingress and XDP left no XDP pin:
	 * the configured interfaces are checked too (only our filter goes). */
	if (cfg->ipv4_iface[0])
		detach_tc_ingress(cfg->ipv4_iface, log);
	if (cfg->ipv6_iface[0])
		detach_tc_ingress(cfg->ipv6_iface, log);
	tun_ifindex = (int)if_nametoindex(cfg->tunnel_device);
	if (tun_ifindex > 0) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = tun_ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

		bpf_tc_hook_destroy(&hook);
		if (nl_link_del(tun_ifindex) == 0)
			logf_(log, "tunnel device %s: removed", cfg->tunnel_device);
	}
	remove_pins(cfg->pin_path, log);
	return 0;
}
