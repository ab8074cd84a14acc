// SPDX-License-Identifier: BSD-2-Clause
/* pinned_maps_open against real pinned maps: the data plane's own maps
 * open (their sizes are TSPGW_PINNED_MAPS's records), and a map whose
 * records have another size, as an older tspgw may have pinned, is refused
 * with its name and both sizes, before anything is written into it. */
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "tests/bpf/bpf_fixture.h"
#include "dataplane/pinned_maps.h"
#include "bpf/tspgw_maps.h"

static char dir[PATH_MAX];

static const char *const names[] = { "dp_config", "counters", "bindings", "routes", "host_routes",
				     "claims" };

static void pin(int fd, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	cr_assert_eq(bpf_obj_pin(fd, path), 0, "pin %s: %s", path, strerror(errno));
}

static void setup(void)
{
	char err[256];

	fx_setup();
	/* A mount namespace of its own: where /sys/fs/bpf is no bpffs,
	 * bpffs_ensure mounts one there (mode 0700), which must not outlive
	 * the test on the machine (later suites run as another user). */
	if (unshare(CLONE_NEWNS))
		cr_skip_test("unshare(CLONE_NEWNS) failed (%s): skipped", strerror(errno));
	cr_assert_eq(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s", strerror(errno));
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/tspgw_test_pinned_%d", (int)getpid());
	cr_assert_eq(bpffs_ensure(dir, err, sizeof(err)), 0, "%s", err);
	pin(bpf_map__fd(fx.skel->maps.dp_config), "dp_config");
	pin(bpf_map__fd(fx.skel->maps.counters), "counters");
	pin(bpf_map__fd(fx.skel->maps.bindings), "bindings");
	pin(bpf_map__fd(fx.skel->maps.routes), "routes");
	pin(bpf_map__fd(fx.skel->maps.host_routes), "host_routes");
	pin(bpf_map__fd(fx.skel->maps.claims), "claims");
}

static void teardown(void)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	if (rmdir(dir) && errno == EBUSY) { /* a bpffs of its own was mounted on it */
		umount(dir);
		rmdir(dir);
	}
	fx_teardown();
}

TestSuite(pinned_maps, .init = setup, .fini = teardown);

Test(pinned_maps, the_data_planes_maps_open)
{
	struct tspgw_maps m;
	char err[256] = "";

	cr_assert_eq(pinned_maps_open(dir, &m, err, sizeof(err)), 0, "%s", err);
	cr_assert(m.config >= 0 && m.counters >= 0 && m.bindings >= 0 && m.routes >= 0 &&
		  m.host_routes >= 0 && m.claims >= 0);
	pinned_maps_close(&m);
}

Test(pinned_maps, a_map_of_other_records_is_refused_by_name_and_sizes)
{
	struct tspgw_maps m;
	char err[256] = "", want[64];
	/* struct tspgw_tunnel before keepalive_s and created_ns, say. */
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bindings", sizeof(struct tspgw_origin),
				sizeof(struct tspgw_tunnel) - 8, 16, NULL);

	cr_assert_geq(fd, 0, "bpf_map_create: %s", strerror(errno));
	pin(fd, "bindings");
	close(fd);
	cr_assert_eq(pinned_maps_open(dir, &m, err, sizeof(err)), -EPROTO, "%s", err);
	cr_assert(strstr(err, "pinned map bindings"), "%s", err);
	snprintf(want, sizeof(want), "%zu-byte values", sizeof(struct tspgw_tunnel) - 8);
	cr_assert(strstr(err, want), "%s", err);
	snprintf(want, sizeof(want), "writes %zu and %zu", sizeof(struct tspgw_origin),
		 sizeof(struct tspgw_tunnel));
	cr_assert(strstr(err, want), "%s", err);
	/* Nothing left open. */
	cr_assert_eq(m.config, -1);
	cr_assert_eq(m.bindings, -1);
}

Test(pinned_maps, other_key_size_too)
{
	struct tspgw_maps m;
	char err[256] = "";
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "dp_config", 4, sizeof(struct tspgw_dp_config) + 8,
				1, NULL);

	cr_assert_geq(fd, 0, "bpf_map_create: %s", strerror(errno));
	pin(fd, "dp_config");
	close(fd);
	cr_assert_eq(pinned_maps_open(dir, &m, err, sizeof(err)), -EPROTO, "%s", err);
	cr_assert(strstr(err, "pinned map dp_config"), "%s", err);
}

/* Pins of a tspgw from before host_routes: everything but that map. The
 * error says what to do (attach again), not "is it attached?". */
Test(pinned_maps, pins_of_an_older_tspgw_ask_for_a_new_attach)
{
	struct tspgw_maps m;
	char err[512] = "", path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/host_routes", dir);
	cr_assert_eq(unlink(path), 0, "%s", strerror(errno));
	cr_assert_eq(pinned_maps_open(dir, &m, err, sizeof(err)), -ENOENT, "%s", err);
	cr_assert(strstr(err, "host_routes is missing"), "%s", err);
	cr_assert(strstr(err, "run `tspgw attach`"), "%s", err);
	cr_assert_eq(m.config, -1);
}
