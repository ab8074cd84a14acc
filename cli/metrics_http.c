// SPDX-License-Identifier: BSD-2-Clause
#include "cli/metrics_http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/addr_parse.h"
#include "common/log.h"
#include "cli/metrics_text.h"

struct metrics_http {
	int fd;
	char listen[LISTEN_STRLEN];
	struct MHD_Daemon *mhd;
	metrics_page_fn page;
	void *arg;
};

static const char not_found[] = "only /metrics is served here\n";
static const char not_allowed[] = "only GET and HEAD\n";
static const char failed[] = "cannot read the counters\n";

struct metrics_http *metrics_http_bind(const char *listen_at, char *err, size_t errlen)
{
	struct metrics_http *h;
	struct sockaddr_storage sa;
	socklen_t salen;
	int one = 1;

	if (parse_listen(listen_at, &sa, &salen)) {
		snprintf(err, errlen, "metrics.listen '%s' is not ADDRESS:PORT", listen_at);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	format_listen(&sa, h->listen);
	h->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (sa.ss_family == AF_INET6 &&
	     setsockopt(h->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    bind(h->fd, (struct sockaddr *)&sa, salen) || listen(h->fd, 16)) {
		snprintf(err, errlen, "metrics.listen %s: %s", h->listen, strerror(errno));
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return NULL;
	}
	return h;
}

static enum MHD_Result answer_static(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* Every request is answered at its first call, before any body is read:
 * nothing here takes a body, and one sent anyway is not buffered. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **req_ctx)
{
	struct metrics_http *h = cls;
	struct MHD_Response *r;
	enum MHD_Result rc;
	char *body = NULL;
	size_t len = 0;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)req_ctx;
	if (strcmp(url, "/metrics"))
		return answer_static(c, MHD_HTTP_NOT_FOUND, not_found);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return answer_static(c, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed);
	if (h->page(h->arg, &body, &len))
		return answer_static(c, MHD_HTTP_INTERNAL_SERVER_ERROR, failed);
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
	rc = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

/* MHD's complaints (a client that misbehaved, a full connection table) are
 * the clients' doing: debug, so no client can fill the log. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	log_msg(LOG_LEVEL_DEBUG, "metrics: %s", line);
}

int metrics_http_start(struct metrics_http *h, metrics_page_fn page, void *arg, char *err,
		       size_t errlen)
{
	sigset_t all, old;

	h->page = page;
	h->arg = arg;
	/* Signals are the event loop's: MHD's thread starts with them blocked,
	 * so SIGTERM always interrupts the loop's epoll_wait. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	h->mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0,
		NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, h->fd, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)METRICS_HTTP_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)METRICS_HTTP_MAX_PER_ADDRESS, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)METRICS_HTTP_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)METRICS_HTTP_MEMORY_PER_CONNECTION, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->mhd) {
		snprintf(err, errlen, "metrics.listen %s: libmicrohttpd would not start", h->listen);
		return -1;
	}
	log_msg(LOG_LEVEL_INFO, "serving metrics on http://%s/metrics", h->listen);
	return 0;
}

void metrics_http_stop(struct metrics_http *h)
{
	if (!h)
		return;
	if (h->mhd) {
		/* Quiesced first, the listening socket stays ours to close. */
		MHD_quiesce_daemon(h->mhd);
		MHD_stop_daemon(h->mhd);
	}
	if (h->fd >= 0)
		close(h->fd);
	free(h);
}
