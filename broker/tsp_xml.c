// SPDX-License-Identifier: BSD-2-Clause
/* TSP XML with libxml2: a defensive reader for client commands and a
 * writer whose output gogoc's hand-rolled parser (xml/xmlparse.c) reads.
 * See tsp_xml.h for what is accepted and produced, and
 * shared/reference/tsp-wire.md for the client's quirks. */
#include "broker/tsp_xml.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "common/prefix.h"

/* Longest element text the parser looks at: a host name (253) plus slack
 * for blanks the RFC examples put around addresses. */
#define TEXT_MAX 320

/* ------------------------------------------------------------------ */
/* Small helpers shared by reader and writer                          */

void tsp_ipv6_expanded(const struct in6_addr *a, char out[40])
{
	static const char hex[] = "0123456789abcdef";
	char *p = out;

	for (int i = 0; i < 16; i++) {
		*p++ = hex[a->s6_addr[i] >> 4];
		*p++ = hex[a->s6_addr[i] & 0xf];
		if (i % 2 == 1 && i != 15)
			*p++ = ':';
	}
	*p = '\0';
}

static bool is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* A DNS host name: dot-separated labels of letters, digits, '-' and '_'
 * (1..63 each, no '-' at either end), 253 at most, and a last label that is
 * not all digits, so that a mistyped IPv4 address ("192.0.2.300") is never
 * taken for a name. The character set also keeps the text free of XML
 * specials and of '%' (gogoc feeds broker names to a printf format). */
static bool valid_hostname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	const char *label = s;
	bool all_digits = true;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			size_t ll = (size_t)(s + i - label);
			if (ll == 0 || ll > 63 || label[0] == '-' || label[ll - 1] == '-')
				return false;
			if (c == '\0')
				break;
			label = s + i + 1;
			all_digits = true;
			continue;
		}
		if (!is_ldh(c))
			return false;
		if (c < '0' || c > '9')
			all_digits = false;
	}
	return !all_digits;
}

static const char *kind_name(enum tsp_tunnel_kind k)
{
	switch (k) {
	case TSP_TUN_V6V4: return "v6v4";
	case TSP_TUN_V6UDPV4: return "v6udpv4";
	case TSP_TUN_V6ANYV4: return "v6anyv4";
	case TSP_TUN_V4V6: return "v4v6";
	default: return NULL;
	}
}

/* libxml2 keeps process-wide tables; initialising them up front makes the
 * first use from several threads safe. Repeated calls are cheap no-ops. */
static void xml_init(void)
{
	xmlInitParser();
}

/* ------------------------------------------------------------------ */
/* Reader                                                             */

struct pctx {
	struct tsp_request *req;
	char *err;
	size_t errlen;
};

static int fail(const struct pctx *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(const struct pctx *c, int code, const char *fmt, ...)
{
	if (c->err != NULL && c->errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* A copy of untrusted text fit for an error message (and so for logs):
 * bounded, control and non-ASCII bytes replaced. */
static const char *shown(const char *s, char out[48])
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < 47; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
	return out;
}

static bool name_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name);
}

/* An attribute's value, NULL when absent. Without a DTD an attribute's
 * value is a single text node (character and predefined entity references
 * are already resolved), which we read in place instead of copying. */
static const char *attr(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
		if (!xmlStrEqual(a->name, BAD_CAST name))
			continue;
		if (a->children == NULL)
			return "";
		if (a->children->type != XML_TEXT_NODE || a->children->next != NULL)
			return NULL;
		return (const char *)a->children->content;
	}
	return NULL;
}

/* The text of a leaf element with surrounding blanks trimmed (the RFC's
 * examples pad addresses with spaces; gogoc does not). false when the
 * element has element children or the text does not fit. */
static bool leaf_text(const xmlNode *n, char out[TEXT_MAX])
{
	size_t len = 0;

	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE)
			return false;
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			continue;
		size_t l = strlen((const char *)c->content);
		if (len + l >= TEXT_MAX)
			return false;
		memcpy(out + len, c->content, l);
		len += l;
	}
	out[len] = '\0';

	size_t start = strspn(out, " \t\r\n");
	while (len > start && strchr(" \t\r\n", out[len - 1]) != NULL)
		len--;
	memmove(out, out + start, len - start);
	out[len - start] = '\0';
	return true;
}

/* Strict decimal: digits only, no sign or blanks, at most max. */
static bool parse_uint(const char *s, unsigned long max, unsigned *out)
{
	unsigned long v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 10)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

/* Text of an <address> element as IPv4 / IPv6, with the error code the
 * caller maps to 501 / 502. `what` names the element in the message. */
static int text_ipv4(const struct pctx *c, const xmlNode *n, const char *what, struct in_addr *a)
{
	char t[TEXT_MAX], s[48];

	if (!leaf_text(n, t))
		return fail(c, TSP_XML_BAD_IPV4, "%s: IPv4 address is not plain text", what);
	if (inet_pton(AF_INET, t, a) != 1)
		return fail(c, TSP_XML_BAD_IPV4, "%s: invalid IPv4 address '%s'", what, shown(t, s));
	return TSP_XML_OK;
}

static int text_ipv6(const struct pctx *c, const xmlNode *n, const char *what, struct in6_addr *a)
{
	char t[TEXT_MAX], s[48];

	if (!leaf_text(n, t))
		return fail(c, TSP_XML_BAD_IPV6, "%s: IPv6 address is not plain text", what);
	if (inet_pton(AF_INET6, t, a) != 1)
		return fail(c, TSP_XML_BAD_IPV6, "%s: invalid IPv6 address '%s'", what, shown(t, s));
	return TSP_XML_OK;
}

static int client_address(const struct pctx *c, const xmlNode *n)
{
	struct tsp_request *r = c->req;
	const char *type = attr(n, "type");
	char t[TEXT_MAX], s[48];

	if (type == NULL)
		return fail(c, TSP_XML_MALFORMED, "client address without type");
	if (strcasecmp(type, "ipv4") == 0) {
		if (r->has_client_ipv4)
			return fail(c, TSP_XML_MALFORMED, "client IPv4 address given twice");
		r->has_client_ipv4 = true;
		return text_ipv4(c, n, "client address", &r->client_ipv4);
	}
	if (strcasecmp(type, "ipv6") == 0) {
		if (r->has_client_ipv6)
			return fail(c, TSP_XML_MALFORMED, "client IPv6 address given twice");
		r->has_client_ipv6 = true;
		return text_ipv6(c, n, "client address", &r->client_ipv6);
	}
	if (strcasecmp(type, "dn") == 0) {
		if (r->has_client_dn)
			return fail(c, TSP_XML_MALFORMED, "client name given twice");
		if (!leaf_text(n, t) || !valid_hostname(t))
			return fail(c, TSP_XML_MALFORMED, "client address: invalid name");
		r->has_client_dn = true;
		snprintf(r->client_dn, sizeof(r->client_dn), "%s", t);
		return TSP_XML_OK;
	}
	return fail(c, TSP_XML_MALFORMED, "client address of unknown type '%s'", shown(type, s));
}

static int keepalive(const struct pctx *c, const xmlNode *n)
{
	struct tsp_request *r = c->req;
	char s[48];

	if (r->has_keepalive)
		return fail(c, TSP_XML_MALFORMED, "keepalive given twice");
	const char *iv = attr(n, "interval");
	if (iv == NULL)
		return fail(c, TSP_XML_MALFORMED, "keepalive without interval");
	if (!parse_uint(iv, 86400, &r->keepalive_interval))
		return fail(c, TSP_XML_MALFORMED, "invalid keepalive interval '%s'", shown(iv, s));
	r->has_keepalive = true;

	for (const xmlNode *a = n->children; a != NULL; a = a->next) {
		if (!name_is(a, "address"))
			continue;
		const char *type = attr(a, "type");
		int rc;
		if (type != NULL && strcasecmp(type, "ipv6") == 0) {
			if (r->has_keepalive_addr)
				return fail(c, TSP_XML_MALFORMED, "keepalive address given twice");
			r->has_keepalive_addr = true;
			rc = text_ipv6(c, a, "keepalive address", &r->keepalive_addr);
		} else if (type != NULL && strcasecmp(type, "ipv4") == 0) {
			/* v4v6 clients send 127.0.0.1 here; checked, nothing to keep. */
			struct in_addr unused;
			rc = text_ipv4(c, a, "keepalive address", &unused);
		} else {
			rc = fail(c, TSP_XML_MALFORMED, "keepalive address without a valid type");
		}
		if (rc != TSP_XML_OK)
			return rc;
	}
	return TSP_XML_OK;
}

/* One router/dns_server/address: a name server for the reverse zone of
 * the delegated prefix. */
static int dns_address(const struct pctx *c, const xmlNode *n)
{
	struct tsp_request *r = c->req;
	const char *type = attr(n, "type");
	struct in6_addr a6;
	struct in_addr a4;
	char t[TEXT_MAX];
	int rc;

	if (type != NULL && strcasecmp(type, "ipv6") == 0) {
		rc = text_ipv6(c, n, "dns_server address", &a6);
		if (rc != TSP_XML_OK)
			return rc;
	} else if (type != NULL && strcasecmp(type, "ipv4") == 0) {
		return text_ipv4(c, n, "dns_server address", &a4);
	} else if (type != NULL && strcasecmp(type, "dn") == 0) {
		/* gogoc sends its configured names as type dn. */
		if (!leaf_text(n, t))
			return fail(c, TSP_XML_MALFORMED, "dns_server name is not plain text");
		if (inet_pton(AF_INET6, t, &a6) != 1) {
			if (inet_pton(AF_INET, t, &a4) == 1 || valid_hostname(t))
				return TSP_XML_OK;
			return fail(c, TSP_XML_MALFORMED, "dns_server: invalid name");
		}
	} else {
		return fail(c, TSP_XML_MALFORMED, "dns_server address without a valid type");
	}
	if (r->n_dns < TSP_MAX_DNS)
		r->dns[r->n_dns++] = a6;
	return TSP_XML_OK;
}

static int router(const struct pctx *c, const xmlNode *n)
{
	struct tsp_request *r = c->req;
	bool has_prefix = false;
	char s[48];

	if (r->router)
		return fail(c, TSP_XML_MALFORMED, "router given twice");
	r->router = true; /* protocol= (rip, bgp, ...) is the broker's business */

	for (const xmlNode *e = n->children; e != NULL; e = e->next) {
		if (name_is(e, "prefix")) {
			const char *len = attr(e, "length");
			if (has_prefix)
				return fail(c, TSP_XML_MALFORMED, "prefix given twice");
			has_prefix = true;
			if (len == NULL)
				return fail(c, TSP_XML_MALFORMED, "prefix without length");
			if (!parse_uint(len, 128, &r->prefix_len) || r->prefix_len == 0)
				return fail(c, TSP_XML_MALFORMED, "invalid prefix length '%s'",
					    shown(len, s));
		} else if (name_is(e, "dns_server")) {
			for (const xmlNode *a = e->children; a != NULL; a = a->next) {
				if (!name_is(a, "address"))
					continue;
				int rc = dns_address(c, a);
				if (rc != TSP_XML_OK)
					return rc;
			}
		}
	}
	return TSP_XML_OK;
}

static int client(const struct pctx *c, const xmlNode *n)
{
	for (const xmlNode *e = n->children; e != NULL; e = e->next) {
		int rc = TSP_XML_OK;
		if (name_is(e, "address"))
			rc = client_address(c, e);
		else if (name_is(e, "keepalive"))
			rc = keepalive(c, e);
		else if (name_is(e, "router"))
			rc = router(c, e);
		if (rc != TSP_XML_OK)
			return rc;
	}
	return TSP_XML_OK;
}

static bool parse_action(const char *s, enum tsp_action *a)
{
	static const struct { const char *name; enum tsp_action action; } actions[] = {
		{ "create", TSP_ACTION_CREATE }, { "delete", TSP_ACTION_DELETE },
		{ "info", TSP_ACTION_INFO },     { "accept", TSP_ACTION_ACCEPT },
		{ "reject", TSP_ACTION_REJECT },
	};

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcasecmp(s, actions[i].name) == 0) {
			*a = actions[i].action;
			return true;
		}
	}
	return false;
}

/* type= into kind and type_text. type_text keeps what was sent, lower-
 * cased, truncated and with anything but [a-z0-9] shown as '?', so the
 * caller can log it as is. */
static void parse_type(const char *s, struct tsp_request *r)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < sizeof(r->type_text) - 1; i++) {
		char ch = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i]);
		r->type_text[i] = ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) ? ch : '?';
	}
	r->type_text[i] = '\0';

	r->kind = TSP_TUN_UNKNOWN;
	for (int k = TSP_TUN_V6V4; k < TSP_TUN_UNKNOWN; k++) {
		if (strcasecmp(s, kind_name((enum tsp_tunnel_kind)k)) == 0)
			r->kind = (enum tsp_tunnel_kind)k;
	}
}

/* create must say where the tunnel ends on the client: RFC 5572 §4.4.1,
 * "the client MUST send only its IPv4 address" (IPv6 for v4v6). */
static int check_create(const struct pctx *c)
{
	const struct tsp_request *r = c->req;

	if (r->kind == TSP_TUN_V4V6 && !r->has_client_ipv6)
		return fail(c, TSP_XML_MALFORMED, "create v4v6 without client IPv6 address");
	if (r->kind != TSP_TUN_V4V6 && r->kind != TSP_TUN_UNKNOWN && !r->has_client_ipv4)
		return fail(c, TSP_XML_MALFORMED, "create %s without client IPv4 address",
			    r->type_text);
	return TSP_XML_OK;
}

static int tunnel(const struct pctx *c, const xmlNode *root)
{
	struct tsp_request *r = c->req;
	const char *action = attr(root, "action");
	const char *type = attr(root, "type");
	const char *lifetime = attr(root, "lifetime");
	bool seen_client = false;
	char s[48];

	if (!name_is(root, "tunnel"))
		return fail(c, TSP_XML_MALFORMED, "root element is not tunnel");
	if (action == NULL)
		return fail(c, TSP_XML_MALFORMED, "tunnel without action");
	if (!parse_action(action, &r->action))
		return fail(c, TSP_XML_MALFORMED, "unknown action '%s'", shown(action, s));
	r->kind = TSP_TUN_UNKNOWN;
	if (type != NULL)
		parse_type(type, r);
	else if (r->action == TSP_ACTION_CREATE)
		return fail(c, TSP_XML_MALFORMED, "create without tunnel type");
	if (lifetime != NULL && !parse_uint(lifetime, UINT32_MAX, &r->lifetime))
		return fail(c, TSP_XML_MALFORMED, "invalid lifetime '%s'", shown(lifetime, s));

	for (const xmlNode *e = root->children; e != NULL; e = e->next) {
		if (!name_is(e, "client"))
			continue; /* server/broker are the broker's own words */
		if (seen_client)
			return fail(c, TSP_XML_MALFORMED, "client given twice");
		seen_client = true;
		int rc = client(c, e);
		if (rc != TSP_XML_OK)
			return rc;
	}
	return r->action == TSP_ACTION_CREATE ? check_create(c) : TSP_XML_OK;
}

/* Element depth and count caps, checked on the tree libxml2 built (itself
 * bounded by TSP_XML_MAX bytes and libxml2's own depth limit of 256). */
static bool within_limits(const xmlNode *n, int depth, int *count)
{
	if (depth > TSP_XML_MAX_DEPTH || ++*count > TSP_XML_MAX_ELEMENTS)
		return false;
	for (const xmlNode *c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE && !within_limits(c, depth + 1, count))
			return false;
	}
	return true;
}

/* Checks on the raw bytes, before libxml2 sees them.
 *  - No NUL inside: libxml2 would stop or complain in odd places.
 *  - The first byte must be '<'. That rules out byte-order marks and the
 *    UTF-16/UCS-4/EBCDIC auto-detection, so together with a forced UTF-8
 *    decoding (XML_PARSE_IGNORE_ENC) the bytes below are the characters
 *    the parser will see.
 *  - No DOCTYPE: an internal subset can declare entities (billion laughs,
 *    external SYSTEM entities). TSP never needs one, so refusing it here
 *    means libxml2 never parses a DTD at all. */
static int prescan(const struct pctx *c, const char *p, size_t n)
{
	if (n == 0)
		return fail(c, TSP_XML_MALFORMED, "empty command");
	if (memchr(p, '\0', n) != NULL)
		return fail(c, TSP_XML_MALFORMED, "NUL byte inside the XML");
	if (p[0] != '<')
		return fail(c, TSP_XML_MALFORMED, "XML does not start with '<'");
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] != '<' || p[i + 1] != '!')
			continue;
		const char *rest = p + i + 2;
		size_t left = n - i - 2;
		if ((left >= 7 && strncasecmp(rest, "DOCTYPE", 7) == 0) ||
		    (left >= 6 && strncasecmp(rest, "ENTITY", 6) == 0))
			return fail(c, TSP_XML_MALFORMED, "DTD not allowed");
	}
	return TSP_XML_OK;
}

/* libxml2 reports some errors through its global handlers even with
 * XML_PARSE_NOERROR; these swallow them while we parse. */
static void quiet_generic(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

#if LIBXML_VERSION >= 21200
static void quiet_structured(void *ctx, const xmlError *e)
#else
static void quiet_structured(void *ctx, xmlErrorPtr e)
#endif
{
	(void)ctx;
	(void)e;
}

static int parser_options(void)
{
	/* Deliberately absent: NOENT (entity substitution), DTDLOAD, DTDATTR,
	 * DTDVALID, XINCLUDE and HUGE (which lifts libxml2's own limits). */
	/* COMPACT keeps a text of up to 15 bytes (an IPv4 address, "::") in
	 * its node instead of a copy of its own: one malloc less each. It
	 * forbids changing the tree, which is only read here, then freed. */
	int opts = XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
		   XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC | XML_PARSE_COMPACT;
#if LIBXML_VERSION >= 21300
	opts |= XML_PARSE_NO_XXE;
#endif
	return opts;
}

/* A parser context per thread, reused: making one (its dictionary, input
 * and node stacks) cost about as much as parsing a gogoc command.
 * xmlCtxtReadMemory resets it before every document, so nothing of one
 * command's parse state reaches the next. What does carry over is its
 * dictionary of interned names: a client sending ever new element names
 * would grow it, so past DICT_MAX entries the context is replaced (gogoc's
 * commands use about 20 names). The documents are freed before the next
 * parse, so no tree still refers to the old dictionary. */
#define DICT_MAX 1024
static _Thread_local xmlParserCtxtPtr reused_ctxt;

static xmlParserCtxtPtr parser_ctxt(void)
{
	if (reused_ctxt != NULL && reused_ctxt->dict != NULL && xmlDictSize(reused_ctxt->dict) > DICT_MAX) {
		xmlFreeParserCtxt(reused_ctxt);
		reused_ctxt = NULL;
	}
	if (reused_ctxt == NULL)
		reused_ctxt = xmlNewParserCtxt();
	return reused_ctxt;
}

/* One document from the n bytes at p, parsed as xmlCtxtReadMemory does
 * it (reset the context, set the options, xmlParseDocument, keep the
 * document only when well formed) with one difference: the input buffer
 * has no read callback. Its memory holds the whole command, so there is
 * nothing to read; with xmlCtxtReadMemory's no-op callback, libxml2 2.9
 * went through its buffer-growing code at every step of the last 250
 * bytes, that is all along a gogoc command: a third of the parse. Newer
 * libxml2 skips that for memory, and deprecates the fields. */
#if LIBXML_VERSION < 21200
static xmlDocPtr parse_doc(xmlParserCtxtPtr ctxt, const char *p, size_t n)
{
	xmlParserInputBufferPtr buf;
	xmlParserInputPtr in;
	xmlDocPtr doc;

	xmlCtxtReset(ctxt);
	buf = xmlParserInputBufferCreateMem(p, (int)n, XML_CHAR_ENCODING_NONE);
	if (buf == NULL)
		return NULL;
	buf->readcallback = NULL; /* all of it is there already */
	in = xmlNewIOInputStream(ctxt, buf, XML_CHAR_ENCODING_NONE);
	if (in == NULL) {
		xmlFreeParserInputBuffer(buf);
		return NULL;
	}
	/* As xmlCtxtReadMemory: a context just reset has room for it. */
	inputPush(ctxt, in);
	xmlCtxtUseOptions(ctxt, parser_options());
	xmlParseDocument(ctxt);
	doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	if (doc != NULL && !ctxt->wellFormed) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	return doc;
}
#else
static xmlDocPtr parse_doc(xmlParserCtxtPtr ctxt, const char *p, size_t n)
{
	return xmlCtxtReadMemory(ctxt, p, (int)n, NULL, NULL, parser_options());
}
#endif

/* Parse with libxml2's global error handlers silenced for the duration and
 * then restored, so other libxml2 users in the process keep theirs. */
static xmlDocPtr read_doc(const struct pctx *c, const char *p, size_t n)
{
	xmlGenericErrorFunc old_generic = xmlGenericError;
	void *old_generic_ctx = xmlGenericErrorContext;
	xmlStructuredErrorFunc old_structured = xmlStructuredError;
	void *old_structured_ctx = xmlStructuredErrorContext;
	xmlParserCtxtPtr ctxt = parser_ctxt();
	xmlDocPtr doc = NULL;

	if (ctxt == NULL) {
		fail(c, TSP_XML_MALFORMED, "out of memory");
		return NULL;
	}
	xmlSetGenericErrorFunc(NULL, quiet_generic);
	xmlSetStructuredErrorFunc(NULL, quiet_structured);
	/* UTF-8 without naming it: prescan let through only text that starts
	 * with '<' and holds no NUL, which libxml2 reads as UTF-8 itself (no
	 * BOM or UTF-16/UCS-4/EBCDIC pattern can start it; IGNORE_ENC drops
	 * a declared encoding). Named, it ran the input through its UTF-8 to
	 * UTF-8 converter in chunks: about a fifth of the parse. */
	doc = parse_doc(ctxt, p, n);
	xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
	xmlSetStructuredErrorFunc(old_structured_ctx, old_structured);

	if (doc == NULL) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[128] = "not well-formed";
		if (e != NULL && e->message != NULL) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			msg[strcspn(msg, "\r\n")] = '\0';
		}
		fail(c, TSP_XML_MALFORMED, "XML: %s", msg);
	}
	return doc;
}

static bool trim_byte(char ch)
{
	return ch == '\r' || ch == '\n' || ch == ' ' || ch == '\t' || ch == '\0';
}

int tsp_xml_parse_request(const char *buf, size_t len, struct tsp_request *out, char *err,
			  size_t errlen)
{
	struct tsp_request req;
	struct pctx c = { .req = &req, .err = err, .errlen = errlen };
	int count = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&req, 0, sizeof(req));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (buf == NULL)
		return fail(&c, TSP_XML_MALFORMED, "no command");
	if (len > TSP_XML_MAX)
		return fail(&c, TSP_XML_MALFORMED, "command longer than %d bytes", TSP_XML_MAX);

	/* gogoc counts its final CRLF in Content-length; a C string may bring
	 * its NUL along. */
	while (len > 0 && trim_byte(buf[0])) {
		buf++;
		len--;
	}
	while (len > 0 && trim_byte(buf[len - 1]))
		len--;
	rc = prescan(&c, buf, len);
	if (rc != TSP_XML_OK)
		return rc;

	xml_init();
	xmlDocPtr doc = read_doc(&c, buf, len);
	if (doc == NULL)
		return TSP_XML_MALFORMED;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (doc->intSubset != NULL || doc->extSubset != NULL)
		rc = fail(&c, TSP_XML_MALFORMED, "DTD not allowed"); /* prescan's backstop */
	else if (root == NULL)
		rc = fail(&c, TSP_XML_MALFORMED, "no root element");
	else if (!within_limits(root, 1, &count))
		rc = fail(&c, TSP_XML_MALFORMED, "XML nested deeper than %d or more than %d elements",
			  TSP_XML_MAX_DEPTH, TSP_XML_MAX_ELEMENTS);
	else
		rc = tunnel(&c, root);
	xmlFreeDoc(doc);

	if (rc == TSP_XML_OK)
		*out = req;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Writer                                                             */

/* The broker list goes through libxml2's tree and serialiser, the tunnel
 * reply through xml_put_esc (below); either way text and attribute values
 * are escaped. The inputs are also validated so that nothing needs
 * escaping, because gogoc does not decode entities. */

static xmlNodePtr add_elem(xmlNodePtr parent, const char *name, const char *text)
{
	return xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST text);
}

static bool add_prop(xmlNodePtr n, const char *name, const char *value)
{
	return n != NULL && xmlNewProp(n, BAD_CAST name, BAD_CAST value) != NULL;
}

static bool add_address(xmlNodePtr parent, const char *type, const char *text)
{
	return add_prop(add_elem(parent, "address", text), "type", type);
}

static bool add_ipv4(xmlNodePtr parent, const struct in_addr *a)
{
	char t[INET_ADDRSTRLEN];

	return inet_ntop(AF_INET, a, t, sizeof(t)) != NULL && add_address(parent, "ipv4", t);
}

static bool add_ipv6(xmlNodePtr parent, const struct in6_addr *a)
{
	char t[40];

	tsp_ipv6_expanded(a, t);
	return add_address(parent, "ipv6", t);
}

/* A document whose root is <tunnel action=.. type=..>; NULL on failure. */
static xmlDocPtr new_tunnel_doc(const char *action, const char *type)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = doc != NULL ? xmlNewDocNode(doc, NULL, BAD_CAST "tunnel", NULL) : NULL;

	if (root == NULL) {
		xmlFreeDoc(doc);
		return NULL;
	}
	xmlDocSetRootElement(doc, root);
	if (!add_prop(root, "action", action) || !add_prop(root, "type", type)) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/* Serialise the root element alone: dumping the node rather than the
 * document leaves out the <?xml ...?> declaration gogoc cannot parse, and
 * format 0 adds no whitespace. Frees doc. */
static char *dump_and_free(xmlDocPtr doc, size_t *len)
{
	xmlBufferPtr b = xmlBufferCreate();
	char *s = NULL;

	if (b != NULL && xmlNodeDump(b, doc, xmlDocGetRootElement(doc), 0, 0) >= 0) {
		size_t n = (size_t)xmlBufferLength(b);
		s = malloc(n + 1);
		if (s != NULL) {
			memcpy(s, xmlBufferContent(b), n);
			s[n] = '\0';
			if (len != NULL)
				*len = n;
		}
	}
	xmlBufferFree(b);
	xmlFreeDoc(doc);
	return s;
}

static bool valid_action(const char *a)
{
	size_t n = a != NULL ? strlen(a) : 0;

	if (n == 0 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (a[i] < 'a' || a[i] > 'z')
			return false;
	}
	return true;
}

static bool reply_valid(const struct tsp_tunnel_reply *r, const char *action)
{
	if (r->kind != TSP_TUN_V6V4 && r->kind != TSP_TUN_V6UDPV4)
		return false;
	if (!valid_action(action))
		return false;
	if (r->client_dn != NULL && !valid_hostname(r->client_dn))
		return false;
	if (r->has_prefix && (r->prefix_len == 0 || r->prefix_len > 128))
		return false;
	if (r->keepalive && r->keepalive_interval == 0)
		return false;
	return r->n_dns >= 0 && r->n_dns <= TSP_MAX_DNS;
}

/* Clear the bits past len: gogoc uses the leading characters of the
 * prefix text as is, so host bits would end up in its radvd prefix. */
static struct in6_addr masked(const struct in6_addr *p, unsigned len)
{
	struct in6_addr m = *p;

	prefix_mask(m.s6_addr, sizeof(m.s6_addr), len);
	return m;
}

/* The tunnel reply is written with snprintf into a bounded buffer rather
 * than built as a libxml2 tree: it is on every setup's path, and the tree
 * (a node and a malloc per element and attribute, then the serialiser)
 * was about a tenth of the broker's time (bench/README.md §3). The shape
 * is the one libxml2's serialiser produced; tests/unit/test_tsp_xml.c
 * compares the two. Every interpolated string goes through xml_put_esc,
 * even those validated to need no escaping, so a future input that slips
 * past validation still cannot change the document's structure. */
struct xbuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static void xml_put(struct xbuf *b, const char *s, size_t n)
{
	if (b->overflow || n >= b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void xml_puts(struct xbuf *b, const char *s)
{
	xml_put(b, s, strlen(s));
}

static void xml_put_esc(struct xbuf *b, const char *s)
{
	for (; *s; s++) {
		const char *e = tsp_xml_escape_char(*s);

		if (e)
			xml_puts(b, e);
		else
			xml_put(b, s, 1);
	}
}

const char *tsp_xml_escape_char(char c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&apos;";
	/* Attribute value normalisation would turn these into spaces. */
	case '\t': return "&#9;";
	case '\n': return "&#10;";
	case '\r': return "&#13;";
	default: return NULL;
	}
}

size_t tsp_xml_escape(const char *s, char *out, size_t cap)
{
	struct xbuf b = { .p = out, .cap = cap };

	if (cap == 0)
		return (size_t)-1;
	out[0] = '\0';
	xml_put_esc(&b, s);
	return b.overflow ? (size_t)-1 : b.len;
}

static void xml_put_uint(struct xbuf *b, unsigned v)
{
	char num[16];

	snprintf(num, sizeof(num), "%u", v);
	xml_puts(b, num);
}

static void xml_put_address(struct xbuf *b, const char *type, const char *text)
{
	xml_puts(b, "<address type=\"");
	xml_put_esc(b, type);
	xml_puts(b, "\">");
	xml_put_esc(b, text);
	xml_puts(b, "</address>");
}

static void xml_put_ipv4(struct xbuf *b, const struct in_addr *a)
{
	char t[INET_ADDRSTRLEN];

	if (inet_ntop(AF_INET, a, t, sizeof(t)) == NULL)
		b->overflow = true;
	else
		xml_put_address(b, "ipv4", t);
}

static void xml_put_ipv6(struct xbuf *b, const struct in6_addr *a)
{
	char t[40];

	tsp_ipv6_expanded(a, t);
	xml_put_address(b, "ipv6", t);
}

int tsp_xml_format_tunnel(const struct tsp_tunnel_reply *r, const char *action, char *buf,
			  size_t cap)
{
	static const struct in6_addr unspecified;
	struct xbuf b = { .p = buf, .cap = cap };

	if (r == NULL || buf == NULL || cap == 0 || !reply_valid(r, action))
		return -1;
	buf[0] = '\0';
	xml_puts(&b, "<tunnel action=\"");
	xml_put_esc(&b, action);
	xml_puts(&b, "\" type=\"");
	xml_put_esc(&b, kind_name(r->kind));
	xml_puts(&b, "\" lifetime=\"");
	xml_put_uint(&b, r->lifetime);
	xml_puts(&b, "\"><server>");
	xml_put_ipv4(&b, &r->server_ipv4);
	xml_put_ipv6(&b, &r->server_ipv6);
	xml_puts(&b, "</server><client>");
	xml_put_ipv4(&b, &r->client_ipv4);
	xml_put_ipv6(&b, &r->client_ipv6);
	if (r->client_dn != NULL)
		xml_put_address(&b, "dn", r->client_dn);
	if (r->has_prefix) {
		/* Host bits cleared: gogoc uses the leading characters of
		 * the prefix text as is. */
		struct in6_addr p = masked(&r->prefix, r->prefix_len);
		char t[40];

		tsp_ipv6_expanded(&p, t);
		xml_puts(&b, "<router><prefix length=\"");
		xml_put_uint(&b, r->prefix_len);
		xml_puts(&b, "\">");
		xml_put_esc(&b, t);
		xml_puts(&b, "</prefix></router>");
	}
	/* gogoc keeps a single client/dns_server address (the last one seen)
	 * and crashes without one; write exactly one. */
	xml_puts(&b, "<dns_server>");
	xml_put_ipv6(&b, r->n_dns > 0 ? &r->dns[0] : &unspecified);
	xml_puts(&b, "</dns_server>");
	if (r->keepalive) {
		xml_puts(&b, "<keepalive interval=\"");
		xml_put_uint(&b, r->keepalive_interval);
		xml_puts(&b, "\">");
		xml_put_ipv6(&b, &r->keepalive_addr);
		xml_puts(&b, "</keepalive>");
	}
	xml_puts(&b, "</client></tunnel>");
	return b.overflow ? -1 : (int)b.len;
}

char *tsp_xml_write_tunnel(const struct tsp_tunnel_reply *r, const char *action, size_t *len)
{
	char buf[TSP_XML_TUNNEL_MAX];
	int n = tsp_xml_format_tunnel(r, action, buf, sizeof(buf));
	char *s;

	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	memcpy(s, buf, (size_t)n + 1);
	if (len != NULL)
		*len = (size_t)n;
	return s;
}

bool tsp_xml_broker_entry_ok(const char *entry)
{
	struct in_addr a4;
	struct in6_addr a6;

	return entry != NULL && (inet_pton(AF_INET, entry, &a4) == 1 ||
				 inet_pton(AF_INET6, entry, &a6) == 1 || valid_hostname(entry));
}

/* One <broker><address type=..>..</address></broker>. */
static bool add_broker(xmlNodePtr root, const char *entry)
{
	struct in_addr a4;
	struct in6_addr a6;
	xmlNodePtr b;

	if (entry == NULL)
		return false;
	if (inet_pton(AF_INET, entry, &a4) == 1)
		return (b = add_elem(root, "broker", NULL)) != NULL && add_ipv4(b, &a4);
	if (inet_pton(AF_INET6, entry, &a6) == 1)
		return (b = add_elem(root, "broker", NULL)) != NULL && add_ipv6(b, &a6);
	if (valid_hostname(entry))
		return (b = add_elem(root, "broker", NULL)) != NULL && add_address(b, "dn", entry);
	return false;
}

char *tsp_xml_write_broker_list(const char *const *brokers, int n, size_t *len)
{
	if (brokers == NULL || n < 1 || n > TSP_XML_MAX_BROKERS)
		return NULL;
	xml_init();
	xmlDocPtr doc = new_tunnel_doc("list", "broker");
	if (doc == NULL)
		return NULL;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	for (int i = 0; i < n; i++) {
		if (!add_broker(root, brokers[i])) {
			xmlFreeDoc(doc);
			return NULL;
		}
	}
	return dump_and_free(doc, len);
}
