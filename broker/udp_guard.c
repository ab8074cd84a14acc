// SPDX-License-Identifier: BSD-2-Clause
#include "broker/udp_guard.h"

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

uint64_t udp_guard_wire(size_t payload_len, int family)
{
	return (uint64_t)payload_len +
	       (family == AF_INET6 ? UDP_GUARD_OVERHEAD_IPV6 : UDP_GUARD_OVERHEAD_IPV4);
}

void udp_budget_received(struct udp_budget *b, size_t payload_len, int family)
{
	b->rx += udp_guard_wire(payload_len, family);
}

bool udp_budget_allows(const struct udp_budget *b, size_t payload_len, int family)
{
	return b->validated ||
	       b->tx + udp_guard_wire(payload_len, family) <= UDP_GUARD_FACTOR * b->rx;
}

void udp_budget_sent(struct udp_budget *b, size_t payload_len, int family)
{
	b->tx += udp_guard_wire(payload_len, family);
}

size_t udp_budget_room(const struct udp_budget *b, int family)
{
	uint64_t cap = UDP_GUARD_FACTOR * b->rx, wire0 = udp_guard_wire(0, family);

	if (b->validated)
		return SIZE_MAX;
	if (b->tx + wire0 > cap)
		return 0;
	return (size_t)(cap - b->tx - wire0);
}

bool udp_guard_single(size_t in_len, size_t out_len, int family)
{
	return udp_guard_wire(out_len, family) <= UDP_GUARD_FACTOR * udp_guard_wire(in_len, family);
}

void udp_refuse_limiter_init(struct udp_refuse_limiter *l, uint64_t interval_ns)
{
	memset(l, 0, sizeof(*l));
	l->interval_ns = interval_ns;
}

bool udp_refuse_allowed(struct udp_refuse_limiter *l, const struct peer_key *prefix,
			uint64_t now_ns)
{
	struct udp_refuse_slot *set =
		l->set[peer_key_hash(prefix) & (UDP_GUARD_REFUSE_SETS - 1)];
	struct udp_refuse_slot *reuse = NULL;

	for (int i = 0; i < UDP_GUARD_REFUSE_WAYS; i++) {
		struct udp_refuse_slot *e = &set[i];
		bool recent = e->last_ns && now_ns - e->last_ns < l->interval_ns;

		if (e->last_ns && peer_key_eq(&e->prefix, prefix)) {
			if (recent)
				return false;
			e->last_ns = now_ns;
			return true;
		}
		if (!recent && (!reuse || e->last_ns < reuse->last_ns))
			reuse = e; /* free, or its interval is over: forgettable */
	}
	if (!reuse)
		return false; /* every way holds a prefix refused just now */
	reuse->prefix = *prefix;
	reuse->last_ns = now_ns;
	return true;
}
