/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Protocol constants that vmlinux.h cannot carry (they are macros in the
 * kernel's uapi headers, and macros do not survive into BTF). */
#ifndef TSPGW_BPF_CONSTS_H
#define TSPGW_BPF_CONSTS_H

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

#define AF_INET 2
#define AF_INET6 10

#define IPPROTO_UDP_NR 17
#define IPPROTO_IPV6_NR 41 /* IPv6-in-IPv4, "protocol 41" */
#define IPPROTO_ICMPV6_NR 58

#define IP_MF 0x2000
#define IP_DF 0x4000
#define IP_OFFSET 0x1fff

#define IPV4_HLEN 20
#define UDP_HLEN 8
#define IPV6_HLEN 40

#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

/* Every check the data plane makes only to refuse hostile or foreign
 * input (README "Security") is written HARDENED(condition). The
 * production build keeps them all; `make bench` also builds a copy with
 * -DTSPGW_BENCH_UNHARDENED, in which each such condition is false, and
 * runs both in the same rounds, so section 1 prints what the checks cost
 * as a ratio measured at one time, not against a figure from another day. */
#ifdef TSPGW_BENCH_UNHARDENED
#define HARDENED(cond) ((void)sizeof(cond), 0)
#else
#define HARDENED(cond) (cond)
#endif

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

/* TTL of the outer IPv4 header we build, and hop limit of keepalive replies. */
#define TSPGW_OUTER_TTL 64

#endif
