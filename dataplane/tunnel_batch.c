// SPDX-License-Identifier: BSD-2-Clause
#include "dataplane/tunnel_batch.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "tunnel_write.skel.h"

int tunnel_batch_open(struct tunnel_batch *q, const struct tspgw_maps *m, char *err, size_t errlen)
{
	struct tunnel_write_bpf *skel;
	struct bpf_map *map;
	long page = sysconf(_SC_PAGESIZE);
	size_t len;
	void *p;
	int rc;

	memset(q, 0, sizeof(*q));
	skel = tunnel_write_bpf__open();
	if (!skel) {
		rc = -errno;
		snprintf(err, errlen, "cannot open the tunnel writer: %s", strerror(-rc));
		return rc;
	}
	/* The data plane's maps it uses, by descriptor (bpf/maps.bpf.h
	 * declares them all); the others are not created at all. */
	bpf_object__for_each_map(map, skel->obj)
		if (map != skel->maps.tw_reqs)
			bpf_map__set_autocreate(map, false);
	bpf_map__set_autocreate(skel->maps.bindings, true);
	bpf_map__set_autocreate(skel->maps.host_routes, true);
	if ((rc = bpf_map__reuse_fd(skel->maps.bindings, m->bindings)) ||
	    (rc = bpf_map__reuse_fd(skel->maps.host_routes, m->host_routes)) ||
	    (rc = tunnel_write_bpf__load(skel))) {
		snprintf(err, errlen, "cannot load the tunnel writer: %s", bpf_err_hint(rc));
		tunnel_write_bpf__destroy(skel);
		return rc;
	}
	len = sizeof(struct tspgw_tunnel_write) * TSPGW_TUNNEL_WRITE_MAX;
	len = (len + (size_t)page - 1) / (size_t)page * (size_t)page;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(skel->maps.tw_reqs), 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "cannot map the tunnel writer's requests: %s", strerror(-rc));
		tunnel_write_bpf__destroy(skel);
		return rc;
	}
	q->skel = skel;
	q->reqs = p;
	q->reqs_len = len;
	return 0;
}

static void writer_unload(struct tunnel_batch *q)
{
	if (q->reqs)
		munmap(q->reqs, q->reqs_len);
	tunnel_write_bpf__destroy(q->skel);
	q->reqs = NULL;
	q->skel = NULL;
}

void tunnel_batch_close(struct tunnel_batch *q)
{
	writer_unload(q);
	q->n = 0;
}

int tunnel_batch_add(struct tunnel_batch *q, const struct tspgw_origin *origin,
		     const struct tspgw_tunnel *tun, void *ctx)
{
	if (q->n >= TSPGW_TUNNEL_WRITE_MAX)
		return -ENOSPC;
	q->origin[q->n] = *origin;
	q->tun[q->n] = *tun;
	memset(&q->tun[q->n].stats, 0, sizeof(q->tun[q->n].stats));
	q->ctx[q->n] = ctx;
	q->n++;
	return 0;
}

/* The program's result for request i of this run as tunnel_table_add
 * returns it: rc and the same message. */
static void take_result(struct tunnel_batch *q, unsigned at, const struct tspgw_tunnel_write *w)
{
	char *err = q->err[at];
	size_t len = sizeof(q->err[at]);

	q->rc[at] = w->rc;
	err[0] = '\0';
	switch (w->step) {
	case TSPGW_TW_OK:
		break;
	case TSPGW_TW_HOST_TAKEN:
		tunnel_route_taken_msg(err, len, w->tun.host, 128, &w->owner);
		break;
	case TSPGW_TW_BINDING:
		snprintf(err, len, "cannot add the binding: %s", bpf_err_hint(w->rc));
		break;
	default:
		snprintf(err, len, "cannot add the tunnel's route: %s", bpf_err_hint(w->rc));
		break;
	}
}

/* One run of the program over reqs[0..n). How many it ran; 0 also when
 * the run itself failed: the writer is then unloaded (said once), and
 * the queue writes and reads one bpf() call at a time from then on. */
static unsigned run_program(struct tunnel_batch *q, __u32 op, unsigned n)
{
	struct tspgw_tunnel_write_ctx c = { .n = n, .op = op };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &c, .ctx_size_in = sizeof(c));

	if (bpf_prog_test_run_opts(bpf_program__fd(q->skel->progs.tunnel_write), &opts)) {
		log_msg(LOG_LEVEL_WARN, "the tunnel writer failed (%s): tunnels are written to the "
					"maps one by one from now on", bpf_err_hint(-errno));
		writer_unload(q);
		return 0;
	}
	q->runs++;
	return c.done <= n ? c.done : 0;
}

/* Run the writer over queued tunnels from..n-1. Returns how many it ran
 * (their results taken): it stops before one it leaves to userspace. */
static unsigned run_writer(struct tunnel_batch *q, unsigned from)
{
	unsigned n = q->n - from, done;

	for (unsigned i = 0; i < n; i++) {
		q->reqs[i].origin = q->origin[from + i];
		q->reqs[i].tun = q->tun[from + i];
	}
	done = run_program(q, TSPGW_TW_OP_WRITE, n);
	for (unsigned i = 0; i < done; i++)
		take_result(q, from + i, &q->reqs[i]);
	return done;
}

unsigned tunnel_batch_flush(struct tunnel_batch *q, const struct tspgw_maps *m,
			    tunnel_batch_done_fn done, void *arg)
{
	unsigned i = 0, failed = 0, n = q->n;

	while (i < n) {
		if (q->skel) {
			i += run_writer(q, i);
			if (i >= n)
				break;
		}
		/* One the writer left (a delegated prefix), or no writer. */
		q->err[i][0] = '\0';
		q->rc[i] = tunnel_table_add(m, &q->origin[i], &q->tun[i], q->err[i], sizeof(q->err[i]));
		i++;
	}
	for (i = 0; i < n; i++) {
		failed += q->rc[i] != 0;
		if (done)
			done(arg, q->ctx[i], &q->origin[i], &q->tun[i], q->rc[i], q->err[i]);
	}
	q->n = 0;
	return failed;
}

/* One run reading up to TSPGW_TUNNEL_WRITE_MAX bindings; how many it read. */
static unsigned run_reader(struct tunnel_batch *q, const struct tspgw_origin *origin, unsigned n,
			   struct tspgw_tunnel *out, int *rc)
{
	unsigned done;

	for (unsigned i = 0; i < n; i++)
		q->reqs[i].origin = origin[i];
	done = run_program(q, TSPGW_TW_OP_READ, n);
	for (unsigned i = 0; i < done; i++) {
		rc[i] = q->reqs[i].rc;
		if (!rc[i])
			out[i] = q->reqs[i].tun;
	}
	return done;
}

void tunnel_batch_read(struct tunnel_batch *q, const struct tspgw_maps *m,
		       const struct tspgw_origin *origin, unsigned n, struct tspgw_tunnel *out, int *rc)
{
	unsigned i = 0;

	while (i < n) {
		unsigned k = n - i < TSPGW_TUNNEL_WRITE_MAX ? n - i : TSPGW_TUNNEL_WRITE_MAX;

		if (q->skel && (k = run_reader(q, origin + i, k, out + i, rc + i))) {
			i += k;
			continue;
		}
		rc[i] = bpf_map_lookup_elem(m->bindings, &origin[i], &out[i]) ? -ENOENT : 0;
		i++;
	}
}
