/* SPDX-License-Identifier: BSD-2-Clause */
/* The HTTP side of /metrics (libmicrohttpd): GET or HEAD /metrics is
 * answered with the page a callback renders, every other path 404, every
 * other method 405. MHD serves from one thread of its own, so a scrape never
 * waits on the broker's event loop nor the loop on a scrape; the callback
 * runs in that thread and must only read what is safe to read from there.
 * Hostile clients are bounded: few connections in all and per address, a
 * small memory budget per connection, an idle timeout (README "Security"). */
#ifndef TSPGW_METRICS_HTTP_H
#define TSPGW_METRICS_HTTP_H

#include <stddef.h>

#define METRICS_HTTP_MAX_CONNECTIONS 16
#define METRICS_HTTP_MAX_PER_ADDRESS 4
#define METRICS_HTTP_TIMEOUT_S 10
#define METRICS_HTTP_MEMORY_PER_CONNECTION 16384

/* Renders the page: a malloc'd body (MHD frees it) and its length. 0 or
 * -errno (answered 500). */
typedef int (*metrics_page_fn)(void *arg, char **body, size_t *len);

struct metrics_http;

/* Bind and listen on listen ("ADDR:PORT", "[ADDR6]:PORT") now, so a busy
 * or foreign address is refused before anything is attached. NULL, with
 * the reason in err. */
struct metrics_http *metrics_http_bind(const char *listen, char *err, size_t errlen);
/* Start answering from MHD's thread. 0, or -1 with err set. */
int metrics_http_start(struct metrics_http *h, metrics_page_fn page, void *arg, char *err,
		       size_t errlen);
/* Stop the thread (a scrape in progress finishes first), close the
 * socket, free. NULL is fine. */
void metrics_http_stop(struct metrics_http *h);

#endif
