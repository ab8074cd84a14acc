// SPDX-License-Identifier: BSD-2-Clause
#include "client/tunnel_xml.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "client/config.h"
#include "common/prefix.h"

/* Replies are a few hundred bytes; a broker list of 50 is a few KiB. */
#define REPLY_XML_MAX 65536

/* ---- writing -------------------------------------------------------- */

/* A growable string; on allocation failure it stays NULL and later
 * appends do nothing. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = (b->cap ? b->cap * 2 : 512) + (size_t)n;
		char *ns = realloc(b->s, ncap);

		if (!ns) {
			b->failed = true;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
}

static char *sb_finish(struct sbuf *b, size_t *len)
{
	if (b->failed || !b->s) {
		free(b->s);
		return NULL;
	}
	if (len)
		*len = b->len;
	return b->s;
}

char *txml_create(const struct create_request *r, size_t *len)
{
	struct sbuf b = { 0 };
	char v4[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &r->client_v4, v4, sizeof(v4));
	sb_printf(&b, "<tunnel action=\"create\" type=\"%s\" proxy=\"no\">\r\n", r->type);
	sb_printf(&b, " <client>\r\n");
	sb_printf(&b, "  <address type=\"ipv4\">%s</address>\r\n", v4);
	if (r->keepalive) {
		/* "::" = let the broker choose the address to ping. */
		sb_printf(&b, "  <keepalive interval=\"%u\">\r\n", r->keepalive);
		sb_printf(&b, "    <address type=\"ipv6\">::</address>\r\n");
		sb_printf(&b, "  </keepalive>\r\n");
	}
	if (r->router) {
		sb_printf(&b, "  <router>\r\n");
		if (r->prefixlen)
			sb_printf(&b, "   <prefix length=\"%u\"/>\r\n", r->prefixlen);
		if (r->dns_server && *r->dns_server) {
			sb_printf(&b, "   <dns_server>\r\n");
			sb_printf(&b, "     <address type=\"ipv6\">%s</address>\r\n", r->dns_server);
			sb_printf(&b, "   </dns_server>\r\n");
		}
		sb_printf(&b, "  </router>\r\n");
	}
	sb_printf(&b, " </client>\r\n</tunnel>\r\n");
	return sb_finish(&b, len);
}

char *txml_command(const char *xml, size_t xml_len, size_t *len)
{
	struct sbuf b = { 0 };

	sb_printf(&b, "Content-length: %zu\r\n%.*s", xml_len, (int)xml_len, xml);
	return sb_finish(&b, len);
}

/* ---- reading -------------------------------------------------------- */

static void silence(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static xmlDocPtr parse_doc(const char *xml, size_t len, char *err, size_t errlen)
{
	xmlDocPtr doc;

	if (len > REPLY_XML_MAX) {
		snprintf(err, errlen, "XML reply too large (%zu bytes)", len);
		return NULL;
	}
	/* No DTD means no entity can be defined, so nothing expands and
	 * nothing external is read; refuse one outright rather than trust
	 * parser options to neuter it. */
	if (memmem(xml, len, "<!DOCTYPE", 9) || memmem(xml, len, "<!doctype", 9)) {
		snprintf(err, errlen, "XML reply carries a DTD: refused");
		return NULL;
	}
	xmlSetGenericErrorFunc(NULL, silence);
	doc = xmlReadMemory(xml, (int)len, "tsp-reply.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
				    XML_PARSE_NOBLANKS);
	if (!doc)
		snprintf(err, errlen, "the XML reply is not well-formed");
	return doc;
}

static bool is_elem(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !xmlStrcasecmp(n->name, BAD_CAST name);
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
		if (is_elem(n, name))
			return n;
	return NULL;
}

/* A value from the reply into buf: whitespace trimmed, control characters
 * turned into '?'. The values end up in messages, on stdout and in the
 * hook's environment, where a newline could forge another KEY=value. */
static void copy_clean(const xmlChar *v, char *buf, size_t cap)
{
	const char *s = v ? (const char *)v : "";
	size_t l;

	while (isspace((unsigned char)*s))
		s++;
	l = strlen(s);
	while (l && isspace((unsigned char)s[l - 1]))
		l--;
	if (l >= cap)
		l = cap - 1;
	for (size_t i = 0; i < l; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[l] = '\0';
}

/* Attribute value into buf ("" when absent). */
static void attr(xmlNodePtr n, const char *name, char *buf, size_t cap)
{
	xmlChar *v = xmlGetProp(n, BAD_CAST name);

	copy_clean(v, buf, cap);
	xmlFree(v);
}

/* Element text into buf. */
static void text(xmlNodePtr n, char *buf, size_t cap)
{
	xmlChar *v = xmlNodeGetContent(n);

	copy_clean(v, buf, cap);
	xmlFree(v);
}

/* Letters, digits, '-', '_' and dots: what a host name may hold. */
static bool dns_name(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.' && *s != '_')
			return false;
	return true;
}

/* The text of the first <address type="TYPE"> child of parent. */
static bool address_of(xmlNodePtr parent, const char *type, char *buf, size_t cap)
{
	char t[16];

	for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next) {
		if (!is_elem(n, "address"))
			continue;
		attr(n, "type", t, sizeof(t));
		if (!strcasecmp(t, type)) {
			text(n, buf, cap);
			return true;
		}
	}
	return false;
}

static int get_v4(xmlNodePtr parent, const char *where, struct in_addr *a, char *err, size_t errlen)
{
	char buf[64];

	if (!address_of(parent, "ipv4", buf, sizeof(buf))) {
		snprintf(err, errlen, "the reply has no %s IPv4 address", where);
		return -1;
	}
	if (inet_pton(AF_INET, buf, a) != 1) {
		snprintf(err, errlen, "%s IPv4 address '%s' is not valid", where, buf);
		return -1;
	}
	return 0;
}

static int get_v6(xmlNodePtr parent, const char *where, struct in6_addr *a, char *err, size_t errlen)
{
	char buf[64];

	if (!address_of(parent, "ipv6", buf, sizeof(buf))) {
		snprintf(err, errlen, "the reply has no %s IPv6 address", where);
		return -1;
	}
	if (inet_pton(AF_INET6, buf, a) != 1) {
		snprintf(err, errlen, "%s IPv6 address '%s' is not valid", where, buf);
		return -1;
	}
	return 0;
}

static int parse_uint_attr(xmlNodePtr n, const char *name, unsigned long max, unsigned *out)
{
	char buf[32], *end;
	unsigned long v;

	attr(n, name, buf, sizeof(buf));
	if (!isdigit((unsigned char)buf[0]))
		return -1;
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* The delegated prefix. Brokers write it fully expanded (gogoc cuts the
 * text by character count); a broker that writes only the significant
 * groups ("2001:0db8:1234") is read too. Host bits are cleared. */
static int parse_prefix(xmlNodePtr pfx, struct tunnel_params *p, char *err, size_t errlen)
{
	char buf[64];
	unsigned len;

	if (parse_uint_attr(pfx, "length", 128, &len) < 0 || len == 0) {
		snprintf(err, errlen, "the delegated prefix has no valid length");
		return -1;
	}
	text(pfx, buf, sizeof(buf));
	if (inet_pton(AF_INET6, buf, &p->prefix) != 1) {
		char more[72];

		snprintf(more, sizeof(more), "%s::", buf);
		if (inet_pton(AF_INET6, more, &p->prefix) != 1) {
			snprintf(err, errlen, "the delegated prefix '%s' is not an IPv6 prefix", buf);
			return -1;
		}
	}
	prefix_mask(p->prefix.s6_addr, 16, len);
	p->prefix_len = len;
	p->has_prefix = true;
	return 0;
}

int txml_parse_tunnel(const char *xml, size_t len, struct tunnel_params *p, char *err, size_t errlen)
{
	xmlDocPtr doc;
	xmlNodePtr root, server, client, ka, router, pfx, dns;
	char buf[64];
	int rc = -1;

	memset(p, 0, sizeof(*p));
	doc = parse_doc(xml, len, err, errlen);
	if (!doc)
		return -1;
	root = xmlDocGetRootElement(doc);
	if (!is_elem(root, "tunnel")) {
		snprintf(err, errlen, "the reply is not a <tunnel> element");
		goto out;
	}
	attr(root, "action", buf, sizeof(buf));
	if (strcasecmp(buf, "info") != 0) {
		snprintf(err, errlen, "the reply's action is '%s', not info", buf);
		goto out;
	}
	attr(root, "type", buf, sizeof(buf));
	if (!strcasecmp(buf, "v6udpv4")) {
		p->type = TUN_V6UDPV4;
	} else if (!strcasecmp(buf, "v6v4")) {
		p->type = TUN_V6V4;
	} else {
		snprintf(err, errlen, "the broker offered a '%s' tunnel, which tspc cannot run", buf);
		goto out;
	}
	p->lifetime = 1440; /* RFC 5572: minutes, when not given */
	attr(root, "lifetime", buf, sizeof(buf));
	if (buf[0] && parse_uint_attr(root, "lifetime", 0xFFFFFFFFul, &p->lifetime) < 0) {
		snprintf(err, errlen, "lifetime '%s' is not a number", buf);
		goto out;
	}
	server = child(root, "server");
	client = child(root, "client");
	if (!server || !client) {
		snprintf(err, errlen, "the reply lacks its <%s> element", server ? "client" : "server");
		goto out;
	}
	if (get_v4(server, "server", &p->server_v4, err, errlen) ||
	    get_v6(server, "server", &p->server_v6, err, errlen) ||
	    get_v4(client, "client", &p->client_v4, err, errlen) ||
	    get_v6(client, "client", &p->client_v6, err, errlen))
		goto out;
	/* The name is only informative: one that is not a host name is
	 * dropped rather than passed on to scripts. */
	if (address_of(client, "dn", p->client_dn, sizeof(p->client_dn)) && !dns_name(p->client_dn))
		p->client_dn[0] = '\0';

	ka = child(client, "keepalive");
	if (ka) {
		if (parse_uint_attr(ka, "interval", 86400, &p->keepalive_interval) < 0) {
			snprintf(err, errlen, "the keepalive interval is not a number");
			goto out;
		}
		if (address_of(ka, "ipv6", buf, sizeof(buf))) {
			if (inet_pton(AF_INET6, buf, &p->keepalive_addr) != 1) {
				snprintf(err, errlen, "keepalive address '%s' is not valid", buf);
				goto out;
			}
			p->keepalive = p->keepalive_interval > 0 &&
				       !IN6_IS_ADDR_UNSPECIFIED(&p->keepalive_addr);
		}
	}
	router = child(client, "router");
	pfx = router ? child(router, "prefix") : NULL;
	if (pfx && parse_prefix(pfx, p, err, errlen) < 0)
		goto out;
	/* Our broker writes client/dns_server; RFC examples put it in router. */
	dns = child(client, "dns_server");
	if (!dns && router)
		dns = child(router, "dns_server");
	if (dns && address_of(dns, "ipv6", buf, sizeof(buf)) &&
	    inet_pton(AF_INET6, buf, &p->dns) == 1 && !IN6_IS_ADDR_UNSPECIFIED(&p->dns))
		p->has_dns = true;
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
}

int txml_parse_brokers(const char *xml, size_t len, char (*list)[256], int max, char *err,
		       size_t errlen)
{
	xmlDocPtr doc = parse_doc(xml, len, err, errlen);
	xmlNodePtr root;
	char buf[32];
	int n = 0;

	if (!doc)
		return -1;
	root = xmlDocGetRootElement(doc);
	attr(root, "action", buf, sizeof(buf));
	if (!is_elem(root, "tunnel") || strcasecmp(buf, "list") != 0) {
		snprintf(err, errlen, "the redirect does not carry a broker list");
		xmlFreeDoc(doc);
		return -1;
	}
	for (xmlNodePtr b = root->children; b && n < max; b = b->next) {
		xmlNodePtr a;

		if (!is_elem(b, "broker"))
			continue;
		for (a = b->children; a; a = a->next)
			if (is_elem(a, "address"))
				break;
		if (!a)
			continue;
		text(a, list[n], sizeof(list[n]));
		if (list[n][0])
			n++;
	}
	xmlFreeDoc(doc);
	if (n == 0)
		snprintf(err, errlen, "the broker list is empty");
	return n ? n : -1;
}
