/* SPDX-License-Identifier: BSD-2-Clause */
/* The XML layer of TSP (RFC 5572 §4.4, appendix A): parse a client's
 * command, write the broker's tunnel and broker-list replies.
 *
 * The parser is hostile-input safe: size, depth and element caps, no DTD
 * at all (a DOCTYPE is refused before libxml2 sees the document, so no
 * entity expansion and no external entity can ever be read), no network,
 * and libxml2's error printing silenced.
 *
 * The writers emit exactly the shape the deployed client (gogoc) can read
 * with its home-made parser: no XML declaration, lower-case names, one
 * space before each attribute, double quotes, no whitespace inside
 * elements, IPv6 fully expanded and zero-padded (gogoc cuts the delegated
 * prefix by character count), and client/dns_server always present
 * (gogoc hands its value to setenv() unchecked). */
#ifndef TSPGW_TSP_XML_H
#define TSPGW_TSP_XML_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/* Largest command accepted, in bytes, before trimming. */
#define TSP_XML_MAX 65536
/* Deepest element nesting and most elements accepted in a command.
 * gogoc's deepest is tunnel/client/router/dns_server/address (5). */
#define TSP_XML_MAX_DEPTH 16
#define TSP_XML_MAX_ELEMENTS 256
/* gogoc refuses a whole redirect list longer than this. */
#define TSP_XML_MAX_BROKERS 50

enum tsp_action { TSP_ACTION_CREATE, TSP_ACTION_DELETE, TSP_ACTION_INFO, TSP_ACTION_ACCEPT, TSP_ACTION_REJECT };
enum tsp_tunnel_kind { TSP_TUN_V6V4, TSP_TUN_V6UDPV4, TSP_TUN_V6ANYV4, TSP_TUN_V4V6, TSP_TUN_UNKNOWN };

#define TSP_MAX_DNS 4

/* A parsed client command. */
struct tsp_request {
	enum tsp_action action;
	enum tsp_tunnel_kind kind;      /* from type=; accept/reject may omit type */
	char type_text[16];             /* as sent, lower-cased */
	bool has_client_ipv4;  struct in_addr client_ipv4;
	bool has_client_ipv6;  struct in6_addr client_ipv6;
	bool has_client_dn;    char client_dn[256];
	bool has_keepalive;    unsigned keepalive_interval;  /* seconds */
	bool has_keepalive_addr; struct in6_addr keepalive_addr;
	bool router;           unsigned prefix_len;          /* 0 = not requested */
	int n_dns;             struct in6_addr dns[TSP_MAX_DNS];
	unsigned lifetime;     /* 0 = not given */
};

/* Results of tsp_xml_parse_request(). The caller answers MALFORMED with
 * 500, BAD_IPV4 with 501, BAD_IPV6 with 502. */
enum tsp_xml_error {
	TSP_XML_OK = 0,
	TSP_XML_MALFORMED = -1,
	TSP_XML_BAD_IPV4 = -2,
	TSP_XML_BAD_IPV6 = -3,
};

/* Parse the XML of a command (the bytes after the Content-length line).
 * CR, LF, blanks and NULs around the document are ignored (gogoc counts
 * its final CRLF). Returns TSP_XML_OK with *out filled, or a negative
 * enum tsp_xml_error with *out zeroed and a reason in err (may be NULL).
 *
 * What is accepted:
 *  - root <tunnel> with action create|delete|info|accept|reject (any
 *    case); type and lifetime optional except that create needs a type;
 *    other attributes (gogoc's proxy=, mtu=) are ignored;
 *  - a type outside v6v4/v6udpv4/v6anyv4/v4v6 parses fine with kind
 *    TSP_TUN_UNKNOWN (type_text says what it was) so the caller can
 *    answer 303 rather than 500;
 *  - create with a known type must carry the client's endpoint address:
 *    IPv4 for v6*v4, IPv6 for v4v6;
 *  - client/address of type ipv4, ipv6 or dn (a DNS name), each at most
 *    once; client/keepalive interval= with an optional address (ipv6, or
 *    ipv4 for v4v6: validated, not kept); client/router with any
 *    protocol=, an optional prefix length= (1..128) and dns_server
 *    addresses: ipv6 ones are kept (up to TSP_MAX_DNS), ipv4 ones are
 *    validated only, and type dn ones (what gogoc sends: names from its
 *    config) are kept when their text is an IPv6 literal, otherwise
 *    validated as host names and dropped;
 *  - elements the broker does not know are skipped (gogoc pastes its
 *    free-form routing_info into <router>). */
int tsp_xml_parse_request(const char *buf, size_t len, struct tsp_request *out, char *err,
			  size_t errlen);

/* The broker's tunnel offer. */
struct tsp_tunnel_reply {
	enum tsp_tunnel_kind kind;       /* V6V4 or V6UDPV4 */
	unsigned lifetime;               /* tunnel lifetime attribute */
	struct in_addr server_ipv4;  struct in6_addr server_ipv6;
	struct in_addr client_ipv4;  struct in6_addr client_ipv6;
	const char *client_dn;           /* NULL = none */
	bool keepalive; unsigned keepalive_interval; struct in6_addr keepalive_addr;
	bool has_prefix; struct in6_addr prefix; unsigned prefix_len;
	/* DNS resolver for the client, written as client/dns_server. gogoc keeps
	 * only one such address, so only dns[0] is written; with n_dns == 0 the
	 * unspecified address (all zeros) is written, because gogoc passes the
	 * value to setenv() and crashes on a missing element. */
	int n_dns; struct in6_addr dns[TSP_MAX_DNS];
};

/* Serialise a tunnel reply, e.g. for action "info":
 *   <tunnel action="info" type="v6udpv4" lifetime="1440">
 *    <server><address type="ipv4">..</address><address type="ipv6">..</address></server>
 *    <client><address type="ipv4">..</address><address type="ipv6">..</address>
 *     [<address type="dn">..</address>]
 *     [<router><prefix length="48">..</prefix></router>]
 *     <dns_server><address type="ipv6">..</address></dns_server>
 *     [<keepalive interval="30"><address type="ipv6">..</address></keepalive>]
 *    </client></tunnel>
 * (one line, no whitespace between elements, no trailing newline).
 * Returns a malloc'd NUL-terminated string (caller frees) with its length
 * in *len (if len is non-NULL), or NULL when an argument cannot be
 * represented (kind not V6V4/V6UDPV4, action not lower-case letters,
 * client_dn not a host name, prefix_len outside 1..128, keepalive with
 * interval 0, n_dns outside 0..TSP_MAX_DNS) or on allocation failure.
 * Host bits beyond prefix_len are cleared. */
char *tsp_xml_write_tunnel(const struct tsp_tunnel_reply *r, const char *action /* "info" */, size_t *len);

/* Room for any tunnel reply tsp_xml_format_tunnel can write: the longest
 * is about 900 bytes (a 253-character dn, every optional element). */
#define TSP_XML_TUNNEL_MAX 2048

/* The same reply written into buf (NUL-terminated), no allocation.
 * Returns its length, or -1 where tsp_xml_write_tunnel returns NULL or
 * when it does not fit in cap bytes (NUL included). */
int tsp_xml_format_tunnel(const struct tsp_tunnel_reply *r, const char *action, char *buf,
			  size_t cap);

/* XML escaping of one character for text and double- or single-quoted
 * attribute values: & < > " ' and TAB, LF, CR (as character references,
 * which attribute normalisation would otherwise turn into spaces). NULL
 * when c stands for itself. */
const char *tsp_xml_escape_char(char c);
/* s escaped into out (NUL-terminated); its length, or (size_t)-1 when it
 * does not fit in cap bytes. */
size_t tsp_xml_escape(const char *s, char *out, size_t cap);

/* Broker list for 1xxx redirects:
 *   <tunnel action="list" type="broker"><broker><address type="ipv4">..</address></broker>...</tunnel>
 * Each entry is an IPv4 literal, an IPv6 literal (written expanded) or a
 * DNS host name; the address type is chosen accordingly. NULL when n is
 * outside 1..TSP_XML_MAX_BROKERS (gogoc rejects an empty or longer list),
 * an entry is none of the three, or on allocation failure. */
char *tsp_xml_write_broker_list(const char *const *brokers, int n, size_t *len);
/* Can entry stand in a broker list (one of the three forms above)? */
bool tsp_xml_broker_entry_ok(const char *entry);

/* Full zero-padded form, e.g. 2001:0db8:0000:0000:0000:0000:0000:0002. */
void tsp_ipv6_expanded(const struct in6_addr *a, char out[40]);

#endif
