/*
 * acl_parse.c - hosts.allow / hosts.deny into rules, as libwrap's
 * table_match(), list_match(), server_match(), client_match() and
 * host_match() cut them, but once, at load time.
 *
 * The text of each rule is split exactly as libwrap splits it per request;
 * every pattern is then compiled (addresses parsed, /files read) so that
 * evaluation never parses text again.  Diagnostics carry the file, line and
 * column of the item they are about.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "acl_int.h"
#include "acl_read.h"

static const char acl_sep[] = ", \t\r\n";

struct acl_fcache {
	struct acl_fcache *next;
	const char *path;
	const struct acl_hostset *set;
	bool busy; /* being compiled: a reference now is a loop */
};

struct acl_loader {
	struct acl_ruleset *rs;
	struct acl_arena *ar;
	bool lint;
	acl_vet_fn *vet; /* NULL: every file is fine */
	void *vet_arg;
	struct acl_diags *diags;
	struct acl_fcache *files;
	unsigned depth;
	unsigned geo_have; /* enum acl_geo_bits: the caller's databases */
	int oom;
};

/* Where an item is, for diagnostics. */
struct acl_where {
	const char *file;
	unsigned line, col;
};

struct acl_loader *
acl__loader_new(struct acl_ruleset *rs, bool lint, acl_vet_fn *vet,
    void *vet_arg, struct acl_diags *diags)
{
	struct acl_loader *ld = calloc(1, sizeof(*ld));

	if (ld == NULL)
		return NULL;
	ld->rs = rs;
	ld->ar = &rs->arena;
	ld->lint = lint;
	ld->vet = vet;
	ld->vet_arg = vet_arg;
	ld->diags = diags;
	ld->geo_have = ACL_GEO_COUNTRY | ACL_GEO_ASN;
	return ld;
}

void
acl__loader_geo(struct acl_loader *ld, unsigned have)
{
	ld->geo_have = have;
}

void
acl__loader_free(struct acl_loader *ld)
{
	struct acl_fcache *f, *next;

	if (ld == NULL)
		return;
	for (f = ld->files; f != NULL; f = next) {
		next = f->next;
		free(f);
	}
	free(ld);
}

/* libwrap's split_at(): the first delim outside [...], depth counted. */
static char *
acl_parse_split_at(char *s, int delim)
{
	int bracket = 0;
	char *cp;

	for (cp = s; *cp != '\0'; cp++) {
		if (*cp == '[')
			bracket++;
		else if (*cp == ']')
			bracket--;
		else if (bracket == 0 && *cp == delim) {
			*cp = '\0';
			return cp + 1;
		}
	}
	return NULL;
}

static bool
acl_parse_mask_contiguous(uint32_t m, unsigned *plen)
{
	unsigned n = 0;

	while (n < 32 && (m & (0x80000000u >> n)) != 0)
		n++;
	if (n < 32 && (m << n) != 0)
		return false;
	*plen = n;
	return true;
}

static void
acl_parse_v6_mask(uint8_t *a, unsigned plen)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (plen >= 8) {
			plen -= 8;
		} else {
			a[i] &= (uint8_t)(0xff00u >> plen);
			plen = 0;
		}
	}
}

/* An arena copy that is never NULL: on failure the load is marked failed. */
static char *
acl_parse_dup(struct acl_loader *ld, const char *s)
{
	char *p = acl__strdup(ld->ar, s);

	if (p == NULL) {
		static char empty[1];

		ld->oom = 1;
		empty[0] = '\0';
		return empty;
	}
	return p;
}

/* ---------------------------------------------------------------------
 * Host patterns.
 */
static const struct acl_hostset *acl_parse_file_compile(
    struct acl_loader *ld, const char *path, const struct acl_where *w);

static void
acl_parse_lint(struct acl_loader *ld, const struct acl_where *w,
    const char *fmt, const char *arg)
{
	if (ld->lint)
		acl__diag(ld->diags, w->file, w->line, w->col, ACL_SEV_WARNING,
		    fmt, arg);
}

/* libwrap's atoi() of a CIDR length, without atoi's overflow. */
static long
acl_parse_atoi(const char *s)
{
	long v = strtol(s, NULL, 10);

	if (v > 1000)
		v = 1000;
	if (v < -1000)
		v = -1000;
	return v;
}

static void
acl_parse_net_compile(struct acl_loader *ld, struct acl_hostpat *hp, char *net,
    char *mask, const struct acl_where *w, const char *text)
{
	size_t n = strlen(net);
	uint32_t a, m;
	long len;

	hp->kind = ACL_HP_NEVER;
	if (net[0] == '[') {
		/* [v6net]/len: len 0..128 via atoi. */
		if (n < 2 || net[n - 1] != ']' ||
		    acl__parse_v6(net + 1, n - 2, hp->net6) != 0) {
			acl_parse_lint(ld, w,
			    "bad IPv6 net/len \"%s\": never matches", text);
			return;
		}
		len = acl_parse_atoi(mask);
		if (len < 0 || len > 128) {
			acl_parse_lint(ld, w,
			    "bad IPv6 prefix length in \"%s\": never matches",
			    text);
			return;
		}
		hp->plen6 = (unsigned)len;
		acl_parse_v6_mask(hp->net6, hp->plen6);
		hp->kind = ACL_HP_NET6;
		return;
	}
	if (acl__dot_quad(net, &a) != 0) {
		acl_parse_lint(
		    ld, w, "bad net/mask \"%s\": never matches", text);
		return;
	}
	if (acl__dot_quad(mask, &m) != 0) {
		/* Debian's CIDR patch: /len, atoi, 1..32. */
		len = acl_parse_atoi(mask);
		if (len < 1 || len > 32) {
			acl_parse_lint(ld, w,
			    "bad net/mask \"%s\": never matches "
			    "(mask 255.255.255.255, /0 or length over 32; "
			    "use the bare address)",
			    text);
			return;
		}
		m = len == 32 ? 0xffffffffu : ~(0xffffffffu >> len);
	}
	if ((a & ~m) != 0) {
		acl_parse_lint(ld, w,
		    "net/mask \"%s\" has host bits set: never "
		    "matches",
		    text);
		return;
	}
	hp->net4 = a;
	hp->mask4 = m;
	hp->kind = ACL_HP_NET4;
}

/* ---------------------------------------------------------------------
 * GeoIP patterns: country=XX and asn=N.  To libwrap these are host names
 * that never match (no host name holds '='); wrapd gives them a meaning,
 * and makes a value that is not one an error rather than a pattern that
 * silently never matches.
 */

/* ISO 3166-1 alpha-2, officially assigned (iso-codes 4.15), sorted. */
static const char acl_iso3166[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBV"
    "BWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERES"
    "ETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIE"
    "ILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLY"
    "MAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNU"
    "NZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSM"
    "SNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVE"
    "VGVIVNVUWFWSYEYTZAZMZW";

/*
 * An assigned code, or one ISO 3166-1 leaves to users (AA, QM-QZ, XA-XZ,
 * ZZ), which databases use for what has no country (XK: Kosovo).
 */
static bool
acl_parse_country_known(const char c[2])
{
	size_t lo = 0, hi = (sizeof acl_iso3166 - 1) / 2;

	if ((c[0] == 'A' && c[1] == 'A') || (c[0] == 'Z' && c[1] == 'Z') ||
	    (c[0] == 'Q' && c[1] >= 'M') || c[0] == 'X')
		return true;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int d = memcmp(acl_iso3166 + 2 * mid, c, 2);

		if (d == 0)
			return true;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool
acl_parse_is_letter(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static void
acl_parse_country_compile(struct acl_loader *ld, struct acl_hostpat *hp,
    const char *v, const struct acl_where *w)
{
	if (strlen(v) != 2 || !acl_parse_is_letter(v[0]) ||
	    !acl_parse_is_letter(v[1])) {
		acl__diag(ld->diags, w->file, w->line, w->col, ACL_SEV_ERROR,
		    "\"%.80s\": not a country: write an ISO 3166-1 alpha-2 "
		    "code, two letters such as country=DE",
		    hp->text);
		hp->kind = ACL_HP_GEO_BAD;
		return;
	}
	hp->kind = ACL_HP_COUNTRY;
	hp->country[0] = (char)(v[0] & ~0x20);
	hp->country[1] = (char)(v[1] & ~0x20);
	if (!acl_parse_country_known(hp->country))
		acl__diag(ld->diags, w->file, w->line, w->col, ACL_SEV_WARNING,
		    "\"%s\": %.2s is not an ISO 3166-1 country code%s: it "
		    "matches only clients a database gives that code",
		    hp->text, hp->country,
		    memcmp(hp->country, "UK", 2) == 0
		        ? " (the United Kingdom's is GB)"
		        : "");
}

static void
acl_parse_asn_compile(struct acl_loader *ld, struct acl_hostpat *hp,
    const char *v, const struct acl_where *w)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; v[i] >= '0' && v[i] <= '9' && n <= UINT32_MAX; i++)
		n = n * 10 + (uint64_t)(v[i] - '0');
	if (i == 0 || v[i] != '\0' || n == 0 || n > UINT32_MAX) {
		acl__diag(ld->diags, w->file, w->line, w->col, ACL_SEV_ERROR,
		    "\"%.80s\": not an AS number: write a number from 1 to "
		    "4294967295%s",
		    hp->text,
		    strncasecmp(v, "AS", 2) == 0 ? ", without \"AS\"" : "");
		hp->kind = ACL_HP_GEO_BAD;
		return;
	}
	hp->kind = ACL_HP_ASN;
	hp->asn = (uint32_t)n;
}

/* Compile text if it is a GeoIP pattern; false if it is not one. */
static bool
acl_parse_geo_compile(struct acl_loader *ld, struct acl_hostpat *hp,
    const char *text, const struct acl_where *w)
{
	unsigned need;

	if (strncasecmp(text, "country=", 8) == 0)
		acl_parse_country_compile(ld, hp, text + 8, w);
	else if (strncasecmp(text, "asn=", 4) == 0)
		acl_parse_asn_compile(ld, hp, text + 4, w);
	else
		return false;
	need = acl__hostpat_geo(hp);
	ld->rs->geo_uses |= need;
	if ((need & ~ld->geo_have) != 0)
		acl__diag(ld->diags, w->file, w->line, w->col, ACL_SEV_ERROR,
		    "\"%s\": no GeoIP %s database is configured (geoip.%s in "
		    "wrapd.yaml, --geoip-%s): the rule cannot be decided",
		    hp->text, need == ACL_GEO_COUNTRY ? "country" : "ASN",
		    need == ACL_GEO_COUNTRY ? "country" : "asn",
		    need == ACL_GEO_COUNTRY ? "country" : "asn");
	return true;
}

unsigned
acl__hostpat_geo(const struct acl_hostpat *hp)
{
	switch (hp->kind) {
	case ACL_HP_COUNTRY:
		return ACL_GEO_COUNTRY;
	case ACL_HP_ASN:
		return ACL_GEO_ASN;
	case ACL_HP_FILE:
		return hp->set->geo;
	default:
		return 0;
	}
}

/*
 * One to three decimal groups joined by single dots, such as "192.168.1":
 * a net written without its trailing dot.  libwrap compares it with the
 * client's whole address as a string, so it never matches.
 */
static bool
acl_parse_short_net(const char *text)
{
	unsigned groups = 0;
	const char *p = text;

	for (;;) {
		size_t digits = strspn(p, "0123456789");

		if (digits == 0 || digits > 3)
			return false;
		groups++;
		p += digits;
		if (*p == '\0')
			return groups <= 3;
		if (*p++ != '.')
			return false;
	}
}

/*
 * Compile one host pattern (D5..D15, and wrapd's GeoIP patterns).  text is
 * owned by the arena and may be cut (net/mask split).
 */
static void
acl_parse_hostpat_compile(struct acl_loader *ld, struct acl_hostpat *hp,
    char *text, const struct acl_where *w)
{
	char *mask;
	const char *orig;

	memset(hp, 0, sizeof(*hp));
	orig = acl_parse_dup(ld, text);
	hp->text = orig;
	if (acl_parse_geo_compile(ld, hp, text, w))
		return;
	if (text[0] == '@') {
		hp->kind = ACL_HP_NETGROUP;
		hp->group = text + 1;
		return;
	}
	if (text[0] == '/') {
		hp->kind = ACL_HP_FILE;
		hp->set = acl_parse_file_compile(ld, text, w);
		if (hp->set == NULL)
			hp->kind = ACL_HP_NEVER;
		return;
	}
	if (strcasecmp(text, "KNOWN") == 0) {
		hp->kind = ACL_HP_KNOWN;
		return;
	}
	if (strcasecmp(text, "LOCAL") == 0) {
		hp->kind = ACL_HP_LOCAL;
		return;
	}
	if ((mask = acl_parse_split_at(text, '/')) != NULL) {
		acl_parse_net_compile(ld, hp, text, mask, w, hp->text);
		return;
	}
	hp->kind = ACL_HP_STRING;
	acl__strpat_init(&hp->sp, text);
	hp->name_too = text[strspn(text, "01234567890./")] != '\0';
	/*
	 * ALL always matches the address; [v6] can never match a verified
	 * name: neither needs the name.
	 */
	if (hp->sp.kind == ACL_SP_ALL || hp->sp.kind == ACL_SP_V6)
		hp->name_too = false;
	if (!ld->lint)
		return;
	if (strcasecmp(text, "FAIL") == 0)
		acl_parse_lint(ld, w,
		    "\"%s\": FAIL is obsolete, it is matched as a "
		    "host name",
		    text);
	if (!hp->name_too && text[0] == '.')
		acl_parse_lint(
		    ld, w, "numeric pattern \"%s\" starts with a dot", text);
	else if (hp->name_too && hp->sp.kind == ACL_SP_PREFIX)
		acl_parse_lint(ld, w,
		    "host name \"%s\" ends in a dot: it is matched as "
		    "a prefix",
		    text);
	if (hp->sp.kind == ACL_SP_EXACT && strchr(text, '[') != NULL)
		acl_parse_lint(
		    ld, w, "bad bracketed IPv6 address \"%s\"", text);
	if (hp->sp.kind == ACL_SP_EXACT && acl_parse_short_net(text))
		acl__diag(ld->diags, w->file, w->line, w->col, ACL_SEV_WARNING,
		    "\"%s\" is not a net: without its trailing dot it is "
		    "matched as a whole address and never matches (write "
		    "\"%s.\" for the net)",
		    text, text);
}

bool
acl__hostpat_eager(const struct acl_hostpat *hp)
{
	switch (hp->kind) {
	case ACL_HP_NEVER:
	case ACL_HP_NET4:
	case ACL_HP_NET6:
	case ACL_HP_COUNTRY: /* a GeoIP fact takes no network */
	case ACL_HP_ASN:
	case ACL_HP_GEO_BAD:
		return true;
	case ACL_HP_STRING:
		return !hp->name_too;
	case ACL_HP_FILE:
		return hp->set->eager;
	default:
		return false;
	}
}

/* An IPv4 address in host order as index key bytes (network order). */
static void
acl_parse_v4_bytes(uint8_t b[4], uint32_t a)
{
	b[0] = (uint8_t)(a >> 24);
	b[1] = (uint8_t)(a >> 16);
	b[2] = (uint8_t)(a >> 8);
	b[3] = (uint8_t)a;
}

bool
acl__hostpat_keys(
    const struct acl_hostpat *hp, struct acl_ikeys *keys, uint32_t id, int *err)
{
	uint8_t b[16];
	unsigned plen, parts;
	uint32_t a;
	size_t i;

	switch (hp->kind) {
	case ACL_HP_NEVER:
		return true;
	case ACL_HP_NET4:
		if (!acl_parse_mask_contiguous(hp->mask4, &plen))
			return false;
		if (keys != NULL) {
			a = hp->net4;
			acl_parse_v4_bytes(b, a);
			if (acl__ikeys_add(keys, 4, plen, b, id) != 0)
				*err = -1;
		}
		return true;
	case ACL_HP_NET6:
		if (keys != NULL &&
		    acl__ikeys_add(keys, 6, hp->plen6, hp->net6, id) != 0)
			*err = -1;
		return true;
	case ACL_HP_COUNTRY:
		memset(b, 0, sizeof b);
		memcpy(b, hp->country, 2);
		if (keys != NULL &&
		    acl__ikeys_add(keys, ACL_IFAM_COUNTRY, 16, b, id) != 0)
			*err = -1;
		return true;
	case ACL_HP_ASN:
		acl_parse_v4_bytes(b, hp->asn);
		if (keys != NULL &&
		    acl__ikeys_add(keys, ACL_IFAM_ASN, 32, b, id) != 0)
			*err = -1;
		return true;
	case ACL_HP_STRING:
		if (hp->name_too)
			return false;
		if (hp->sp.kind == ACL_SP_V6) {
			if (keys != NULL &&
			    acl__ikeys_add(keys, 6, 128, hp->sp.v6, id) != 0)
				*err = -1;
			return true;
		}
		if (hp->sp.kind == ACL_SP_EXACT &&
		    acl__is_canonical_quad(
		        hp->sp.text, hp->sp.len, &parts, &a)) {
			if (parts != 4)
				return true; /* "10.1" never equals an address */
			plen = 32;
		} else if (hp->sp.kind == ACL_SP_PREFIX &&
		    acl__is_canonical_quad(
		        hp->sp.text, hp->sp.len - 1, &parts, &a)) {
			if (parts == 4)
				return true; /* "1.2.3.4." is longer than any */
			plen = 8 * parts;
		} else {
			return false;
		}
		if (keys != NULL) {
			acl_parse_v4_bytes(b, a);
			/* family 5: IPv4 address text, see acl_index.c */
			if (acl__ikeys_add(keys, 5, plen, b, id) != 0)
				*err = -1;
		}
		return true;
	case ACL_HP_FILE:
		if (!hp->set->all_indexable)
			return false;
		for (i = 0; keys != NULL && i < hp->set->nixitems; i++)
			acl__hostpat_keys(&hp->set->ixitems[i], keys, id, err);
		return true;
	default:
		return false;
	}
}

/* ---------------------------------------------------------------------
 * /file patterns (Debian 11_tcpd_blacklist), compiled once.
 */
static bool
acl_parse_isspace(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

struct acl_hpvec {
	struct acl_hostpat *v;
	size_t n, cap;
};

static int
acl_parse_hpvec_push(struct acl_hpvec *hv, const struct acl_hostpat *hp)
{
	if (hv->n == hv->cap) {
		size_t nc = hv->cap ? hv->cap * 2 : 16;
		struct acl_hostpat *nv = realloc(hv->v, nc * sizeof(*nv));

		if (nv == NULL)
			return -1;
		hv->v = nv;
		hv->cap = nc;
	}
	hv->v[hv->n++] = *hp;
	return 0;
}

static struct acl_hostpat *
acl_parse_hpvec_finish(struct acl_loader *ld, struct acl_hpvec *hv)
{
	struct acl_hostpat *out = NULL;

	if (hv->n > 0) {
		out = acl__alloc(ld->ar, hv->n * sizeof(*out));
		if (out != NULL)
			memcpy(out, hv->v, hv->n * sizeof(*out));
	}
	free(hv->v);
	hv->v = NULL;
	return out;
}

static const struct acl_hostset *
acl_parse_file_build(
    struct acl_loader *ld, const char *path, const char *buf, size_t len)
{
	struct acl_hostset *set;
	struct acl_hpvec ix = {0}, eager = {0}, lazy = {0};
	struct acl_ikeys keys = {0};
	struct acl_src src;
	size_t i = 0;
	int err = 0;

	set = acl__zalloc(ld->ar, sizeof(*set));
	if (set == NULL || acl__src_init(&src, path, buf, len) != 0) {
		ld->oom = 1;
		return NULL;
	}
	set->path = acl__strdup(ld->ar, path);
	set->all_indexable = true;
	set->eager = true;
	/* Words as fscanf("%s") reads them; a NUL ends a word's string. */
	while (i < len && err == 0) {
		struct acl_hostpat hp;
		struct acl_where w;
		size_t start, wlen;
		char *word;

		while (i < len && acl_parse_isspace((unsigned char)buf[i]))
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && !acl_parse_isspace((unsigned char)buf[i]))
			i++;
		wlen = strnlen(buf + start, i - start);
		if (wlen == 0)
			continue; /* "" never matches */
		word = acl__strndup(ld->ar, buf + start, wlen);
		if (word == NULL) {
			err = -1;
			break;
		}
		w.file = set->path;
		acl__src_pos(&src, start, &w.line, &w.col);
		acl_parse_hostpat_compile(ld, &hp, word, &w);
		if (acl__hostpat_keys(&hp, NULL, 0, &err)) {
			if (acl_parse_hpvec_push(&ix, &hp) != 0 ||
			    !acl__hostpat_keys(&hp, &keys, 0, &err))
				err = -1;
			continue;
		}
		set->all_indexable = false;
		if (acl__hostpat_eager(&hp)) {
			if (acl_parse_hpvec_push(&eager, &hp) != 0)
				err = -1;
		} else {
			set->eager = false;
			if (acl_parse_hpvec_push(&lazy, &hp) != 0)
				err = -1;
		}
	}
	acl__src_free(&src);
	set->nixitems = ix.n;
	set->ixitems = acl_parse_hpvec_finish(ld, &ix);
	/* Eager words first, then the others in file order. */
	for (i = 0; i < lazy.n && err == 0; i++)
		if (acl_parse_hpvec_push(&eager, &lazy.v[i]) != 0)
			err = -1;
	free(lazy.v);
	for (i = 0; set->ixitems != NULL && i < set->nixitems; i++)
		set->ix_geo |= acl__hostpat_geo(&set->ixitems[i]);
	set->geo = set->ix_geo;
	for (i = 0; i < eager.n; i++)
		set->geo |= acl__hostpat_geo(&eager.v[i]);
	set->nitems = eager.n;
	set->items = acl_parse_hpvec_finish(ld, &eager);
	if (err == 0 && acl__index_build(ld->ar, &set->idx, &keys) != 0)
		err = -1;
	free(keys.v);
	if (err != 0 || ld->ar->failed) {
		ld->oom = 1;
		return NULL;
	}
	return set;
}

static const struct acl_hostset *
acl_parse_file_compile(
    struct acl_loader *ld, const char *path, const struct acl_where *w)
{
	struct acl_fcache *f;
	const struct acl_hostset *set;
	char *buf, what[PATH_MAX + 64];
	size_t len;
	enum acl_read r;
	int err;

	for (f = ld->files; f != NULL; f = f->next) {
		if (strcmp(f->path, path) != 0)
			continue;
		if (f->busy) {
			acl__diag(ld->diags, w->file, w->line, w->col,
			    ACL_SEV_WARNING,
			    "%s: /file pattern refers to "
			    "itself (a loop): never matches here",
			    path);
			return NULL;
		}
		return f->set;
	}
	if (ld->depth >= ACL_FILE_DEPTH_MAX) {
		acl__diag(ld->diags, w->file, w->line, w->col, ACL_SEV_WARNING,
		    "%s: /file patterns nested deeper than %d: never matches",
		    path, ACL_FILE_DEPTH_MAX);
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		ld->oom = 1;
		return NULL;
	}
	f->path = acl__strdup(ld->ar, path);
	if (f->path == NULL) {
		free(f);
		ld->oom = 1;
		return NULL;
	}
	f->busy = true;
	f->next = ld->files;
	ld->files = f;
	acl__vet(
	    ld->vet, ld->vet_arg, path, ld->diags, w->file, w->line, w->col);
	r = acl__read_path(path, &buf, &len, &err);
	if (r == ACL_READ_FAILED && err == ENOMEM) {
		ld->oom = 1;
		return NULL;
	}
	if (r != ACL_READ_OK) {
		/*
		 * libwrap silently matches nothing, so a typo or a permission
		 * (wrapd reloads as its user) would quietly drop every entry
		 * of a deny list: an error, for callers that fail closed.
		 */
		acl__read_problem(r, path, err, what, sizeof what);
		acl__diag(ld->diags, w->file, w->line, w->col, ACL_SEV_ERROR,
		    "%s%s", what,
		    r == ACL_READ_FAILED ? ": never matches" : "");
	}
	ld->depth++;
	set = acl_parse_file_build(ld, path, buf != NULL ? buf : "", len);
	ld->depth--;
	free(buf);
	f->set = set;
	f->busy = false;
	return set;
}

/* ---------------------------------------------------------------------
 * Lists.
 */
struct acl_linectx {
	struct acl_loader *ld;
	const struct acl_src *src;
	const struct acl_lline *ll;
	const char *base; /* the buffer the list was cut from */
};

static void
acl_parse_where_at(
    const struct acl_linectx *lc, const char *p, struct acl_where *w)
{
	w->file = lc->src->name;
	acl__lline_pos(
	    lc->src, lc->ll, (size_t)(p - lc->base), &w->line, &w->col);
}

static void
acl_parse_name_lint(struct acl_loader *ld, const char *what, const char *pat,
    const struct acl_where *w)
{
	size_t n = strlen(pat);
	char fmt[128];

	if (!ld->lint || n == 0)
		return;
	if (pat[0] == '@' || pat[0] == '/' || pat[0] == '.' ||
	    pat[n - 1] == '.') {
		snprintf(fmt, sizeof fmt, "%s pattern \"%%s\" %s", what,
		    pat[0] == '@'       ? "starts with \"@\": netgroups are "
		                          "not supported here, matched literally"
		        : pat[0] == '/' ? "starts with \"/\": files are not "
		                          "supported here, matched literally"
		        : pat[0] == '.' ? "starts with a dot"
		                        : "ends in a dot");
		acl_parse_lint(ld, w, fmt, pat);
	}
	if (strcasecmp(pat, "FAIL") == 0)
		acl_parse_lint(ld, w, "\"%s\": FAIL is obsolete", pat);
}

/* Debian match_port: a complete "%u" number up to 65535 is a port. */
static int
acl_parse_port_of(const char *s)
{
	char *end;
	unsigned long v;

	if (s[0] == '\0')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (end == s || *end != '\0')
		return -1;
	v = (unsigned)v; /* scanf stores the value in an unsigned int */
	return v <= 65535 ? (int)v : -1;
}

/*
 * daemon@host names the server's address: GeoIP facts are the client's, so
 * a country= or asn= pattern there (or in a /file named there) is an error,
 * and reaching it denies.
 */
static void
acl_parse_server_geo_check(
    struct acl_loader *ld, struct acl_hostpat *hp, const struct acl_where *w)
{
	if (acl__hostpat_geo(hp) == 0)
		return; /* none, or in error and reported already */
	acl__diag(ld->diags, w->file, w->line, w->col, ACL_SEV_ERROR,
	    "\"%s\": country= and asn= patterns are about the client: not "
	    "in daemon@host, which names the server",
	    hp->text);
	hp->kind = ACL_HP_GEO_BAD;
}

static void
acl_parse_item_compile(
    struct acl_linectx *lc, struct acl_item *it, char *tok, bool server)
{
	struct acl_loader *ld = lc->ld;
	struct acl_where w, hw;
	char *host, *name;

	memset(it, 0, sizeof(*it));
	it->port = -1;
	acl_parse_where_at(lc, tok, &w);
	it->line = w.line;
	it->col = w.col;
	it->text = acl_parse_dup(ld, tok);
	host = acl_parse_split_at(tok + 1, '@');
	if (host != NULL)
		acl_parse_where_at(lc, host, &hw);
	if (server) {
		name = acl_parse_dup(ld, tok);
		it->has_name = true;
		it->port = acl_parse_port_of(name);
		acl__strpat_init(&it->name, name);
		if (it->port < 0)
			acl_parse_name_lint(ld, "daemon", it->name.text, &w);
		if (host != NULL) {
			it->has_host = true;
			acl_parse_hostpat_compile(
			    ld, &it->host, acl_parse_dup(ld, host), &hw);
			acl_parse_server_geo_check(ld, &it->host, &hw);
		}
		it->eager = !it->has_host || acl__hostpat_eager(&it->host);
		return;
	}
	it->has_host = true;
	if (host == NULL) {
		acl_parse_hostpat_compile(
		    ld, &it->host, acl_parse_dup(ld, tok), &w);
		it->eager = acl__hostpat_eager(&it->host);
		return;
	}
	name = acl_parse_dup(ld, tok);
	it->has_name = true;
	acl__strpat_init(&it->name, name);
	acl_parse_name_lint(ld, "user", it->name.text, &w);
	acl_parse_hostpat_compile(ld, &it->host, acl_parse_dup(ld, host), &hw);
	it->eager = false;
}

/*
 * libwrap takes "#" for a comment only in column 1: after a rule it and
 * every word after it are patterns (host names that never match, or a
 * daemon named "#").  Reported once per list, where the "#" is.
 */
static void
acl_parse_lint_hash(const struct acl_linectx *lc, const char *tok)
{
	struct acl_where w;

	acl_parse_where_at(lc, tok, &w);
	acl_parse_lint(lc->ld, &w,
	    "\"%s\": a \"#\" starts a comment only in column 1; here it "
	    "and the words after it are read as patterns",
	    tok);
}

/*
 * Cut a list into items and EXCEPT segments.  list is a NUL-terminated
 * piece of lc->base.
 */
static void
acl_parse_list_compile(struct acl_linectx *lc, struct acl_list *out, char *list,
    bool server, const char *what, const char *field)
{
	struct acl_loader *ld = lc->ld;
	struct acl_item *items = NULL, *tmp;
	unsigned *segstart = NULL;
	unsigned n = 0, cap = 0, nseg = 1, segcap = 0;
	char *tok, *save = NULL, *last = NULL;
	struct acl_where w;
	unsigned s, i, k;
	bool hash_seen = false;

	memset(out, 0, sizeof(*out));
	segcap = 4;
	segstart = malloc(segcap * sizeof(*segstart));
	if (segstart == NULL) {
		ld->oom = 1;
		return;
	}
	segstart[0] = 0;
	for (tok = strtok_r(list, acl_sep, &save); tok != NULL;
	     tok = strtok_r(NULL, acl_sep, &save)) {
		last = tok;
		if (tok[0] == '#' && !hash_seen) {
			hash_seen = true;
			acl_parse_lint_hash(lc, tok);
		}
		if (strcasecmp(tok, "EXCEPT") == 0) {
			if (ld->lint && n == 0 && nseg == 1) {
				acl_parse_where_at(lc, tok, &w);
				acl_parse_lint(ld, &w,
				    "%s list starts with EXCEPT: it "
				    "never matches",
				    what);
			}
			if (nseg == segcap) {
				unsigned *ns =
				    realloc(segstart, 2 * segcap * sizeof(*ns));

				if (ns == NULL) {
					ld->oom = 1;
					break;
				}
				segstart = ns;
				segcap *= 2;
			}
			segstart[nseg++] = n;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			tmp = realloc(items, cap * sizeof(*items));
			if (tmp == NULL) {
				ld->oom = 1;
				break;
			}
			items = tmp;
		}
		acl_parse_item_compile(lc, &items[n++], tok, server);
	}
	if (ld->lint) {
		if (last == NULL) {
			acl_parse_where_at(lc, field, &w);
			acl_parse_lint(ld, &w,
			    "empty %s list: the rule never matches", what);
		} else if (strcasecmp(last, "EXCEPT") == 0) {
			acl_parse_where_at(lc, last, &w);
			acl_parse_lint(ld, &w, "%s list ends in EXCEPT", what);
		}
	}
	out->segs = acl__zalloc(ld->ar, nseg * sizeof(*out->segs));
	if (out->segs == NULL) {
		free(items);
		free(segstart);
		ld->oom = 1;
		return;
	}
	out->nseg = nseg;
	for (s = 0; s < nseg; s++) {
		unsigned from = segstart[s];
		unsigned to = s + 1 < nseg ? segstart[s + 1] : n;
		struct acl_seg *sg = &out->segs[s];

		sg->n = to - from;
		if (sg->n == 0)
			continue;
		sg->items = acl__alloc(ld->ar, sg->n * sizeof(*sg->items));
		if (sg->items == NULL) {
			ld->oom = 1;
			sg->n = 0;
			continue;
		}
		/* Eager items first (OR within a segment), then the rest. */
		k = 0;
		for (i = from; i < to; i++)
			if (items[i].eager)
				sg->items[k++] = items[i];
		for (i = from; i < to; i++)
			if (!items[i].eager)
				sg->items[k++] = items[i];
	}
	free(items);
	free(segstart);
}

/* ---------------------------------------------------------------------
 * Options (hosts_options(5), Debian options.c).
 */
#define OPT_NEED_ARG 1
#define OPT_OPT_ARG  2
#define OPT_USE_LAST 4
#define OPT_EXPAND   8

static const struct {
	const char *name;
	enum acl_opt_kind kind;
	int flags;
} acl_opt_table[] = {
    {"user", ACL_OPT_USER, OPT_NEED_ARG},
    {"group", ACL_OPT_GROUP, OPT_NEED_ARG},
    {"umask", ACL_OPT_UMASK, OPT_NEED_ARG},
    {"linger", ACL_OPT_LINGER, OPT_NEED_ARG},
    {"keepalive", ACL_OPT_KEEPALIVE, 0},
    {"spawn", ACL_OPT_SPAWN, OPT_NEED_ARG | OPT_EXPAND},
    {"twist", ACL_OPT_TWIST, OPT_NEED_ARG | OPT_EXPAND | OPT_USE_LAST},
    {"rfc931", ACL_OPT_RFC931, OPT_OPT_ARG},
    {"setenv", ACL_OPT_SETENV, OPT_NEED_ARG | OPT_EXPAND},
    {"nice", ACL_OPT_NICE, OPT_OPT_ARG},
    {"severity", ACL_OPT_SEVERITY, OPT_NEED_ARG},
    {"allow", ACL_OPT_ALLOW, OPT_USE_LAST},
    {"deny", ACL_OPT_DENY, OPT_USE_LAST},
    {"banners", ACL_OPT_BANNERS, OPT_NEED_ARG},
    {"aclexec", ACL_OPT_ACLEXEC, OPT_NEED_ARG | OPT_EXPAND},
};

const char *
acl_parse_opt_name(enum acl_opt_kind k)
{
	size_t i;

	for (i = 0; i < sizeof(acl_opt_table) / sizeof(acl_opt_table[0]); i++)
		if (acl_opt_table[i].kind == k)
			return acl_opt_table[i].name;
	return "?";
}

/* libwrap's severity option names (case-insensitive, as it compares). */
/* Look name up in libwrap's facility (fac) or level table. */
static int
acl_parse_sev_map(bool fac, const char *name, int *out)
{
	int v = fac ? acl_syslog_facility(name, true) : acl_syslog_level(name);

	if (v < 0)
		return -1;
	*out = v;
	return 0;
}

/* sscanf(s, "%d%c") == 1: a whole int (glibc keeps the low 32 bits). */
static int
acl_parse_scan_int(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0')
		return -1;
	/* Skipped white space then no digits: strtol says end == s. */
	*out = (long)(int)(unsigned)(unsigned long)v;
	return 0;
}

static char *
acl_parse_chop(char *s)
{
	char *start = NULL, *end = NULL, *cp;

	for (cp = s; *cp != '\0'; cp++) {
		if (!acl_parse_isspace((unsigned char)*cp)) {
			if (start == NULL)
				start = cp;
			end = cp;
		}
	}
	if (start == NULL)
		return cp;
	end[1] = '\0';
	return start;
}

/*
 * setenv: libwrap expands the value, trims it, takes the name up to the
 * first blank and calls setenv(3), which fails (and the match denies) for
 * an empty name or one holding '='.  Expand the template to its "shape":
 * request-dependent expansions become one placeholder character (they are
 * never empty and, sanitised, hold no blank), unknown %-escapes nothing,
 * "%%" a '%'.  That decides every case except a request value that itself
 * holds '=' (%u giving "a=b"), which is the caller's run-time check.
 */
static bool
acl_parse_setenv_bad(const char *v)
{
	char shape[ACL_LINE_BUF];
	size_t n = 0;
	const char *p;
	char *name, *end;

	for (p = v; *p != '\0' && n + 1 < sizeof shape; p++) {
		if (*p == '%' && p[1] != '\0') {
			p++;
			if (*p == '%')
				shape[n++] = '%';
			else if (strchr("aAcdhHnNprRsu", *p) != NULL)
				shape[n++] = 'x';
			continue;
		}
		shape[n++] = *p;
	}
	shape[n] = '\0';
	name = acl_parse_chop(shape);
	for (end = name;
	     *end != '\0' && !acl_parse_isspace((unsigned char)*end); end++)
		;
	*end = '\0';
	return name[0] == '\0' || strchr(name, '=') != NULL;
}

/*
 * Check one option as process_options() would when the rule matches.
 * Returns NULL, or the error text (arena) on failure.
 */
static const char *
acl_parse_opt_check(
    struct acl_loader *ld, struct acl_option *o, const char *key, char *value)
{
	char buf[256];
	char *end;
	unsigned long u;
	long v;
	int f, s;
	char *lvl;

	switch (o->kind) {
	case ACL_OPT_UMASK:
		/* sscanf("%o%c") == 1 and within 0777. */
		errno = 0;
		u = strtoul(value, &end, 8);
		if (end == value || *end != '\0' ||
		    ((unsigned)u & 0777u) != (unsigned)u) {
			snprintf(
			    buf, sizeof buf, "bad umask value: \"%s\"", value);
			return acl__strdup(ld->ar, buf);
		}
		o->num = (long)u;
		break;
	case ACL_OPT_RFC931:
		o->num = ACL_RFC931_TIMEOUT;
		if (value != NULL) {
			if (acl_parse_scan_int(value, &v) != 0 || v <= 0) {
				snprintf(buf, sizeof buf,
				    "bad rfc931 timeout: \"%s\"", value);
				return acl__strdup(ld->ar, buf);
			}
			o->num = v;
		}
		break;
	case ACL_OPT_NICE:
		o->num = ACL_NICE_DEFAULT;
		if (value != NULL) {
			if (acl_parse_scan_int(value, &v) != 0) {
				snprintf(buf, sizeof buf,
				    "bad nice value: \"%s\"", value);
				return acl__strdup(ld->ar, buf);
			}
			o->num = v;
		}
		break;
	case ACL_OPT_LINGER:
		if (acl_parse_scan_int(value, &v) != 0 || v < 0) {
			snprintf(
			    buf, sizeof buf, "bad linger value: \"%s\"", value);
			return acl__strdup(ld->ar, buf);
		}
		o->num = v;
		break;
	case ACL_OPT_SEVERITY: {
		char *tmp = acl__strdup(ld->ar, value);

		if (tmp == NULL)
			return "out of memory";
		lvl = acl_parse_split_at(tmp, '.');
		if (lvl != NULL) {
			if (acl_parse_sev_map(true, tmp, &f) != 0) {
				snprintf(buf, sizeof buf,
				    "bad syslog facility "
				    "or severity: \"%s\"",
				    tmp);
				return acl__strdup(ld->ar, buf);
			}
			if (acl_parse_sev_map(false, lvl, &s) != 0) {
				snprintf(buf, sizeof buf,
				    "bad syslog facility "
				    "or severity: \"%s\"",
				    lvl);
				return acl__strdup(ld->ar, buf);
			}
			o->severity = f | s;
		} else {
			if (acl_parse_sev_map(false, tmp, &s) != 0) {
				snprintf(buf, sizeof buf,
				    "bad syslog facility "
				    "or severity: \"%s\"",
				    tmp);
				return acl__strdup(ld->ar, buf);
			}
			o->severity = s;
		}
		break;
	}
	case ACL_OPT_USER: {
		char *tmp = acl__strdup(ld->ar, value);
		char *grp;

		if (tmp == NULL)
			return "out of memory";
		if ((grp = acl_parse_split_at(tmp, '.')) != NULL &&
		    getgrnam(grp) == NULL) {
			snprintf(buf, sizeof buf, "unknown group: \"%s\"", grp);
			return acl__strdup(ld->ar, buf);
		}
		if (getpwnam(tmp) == NULL) {
			snprintf(buf, sizeof buf, "unknown user: \"%s\"", tmp);
			return acl__strdup(ld->ar, buf);
		}
		break;
	}
	case ACL_OPT_GROUP:
		if (getgrnam(value) == NULL) {
			snprintf(
			    buf, sizeof buf, "unknown group: \"%s\"", value);
			return acl__strdup(ld->ar, buf);
		}
		break;
	case ACL_OPT_SETENV:
		if (acl_parse_setenv_bad(value)) {
			snprintf(buf, sizeof buf,
			    "bad setenv name in \"%s\": setenv(3) fails "
			    "(libwrap "
			    "reports \"memory allocation failure\")",
			    value);
			return acl__strdup(ld->ar, buf);
		}
		break;
	default:
		break;
	}
	(void)key;
	return NULL;
}

/*
 * get_field(): the next ':'-separated field, "\:" becoming ':'.  Returns
 * the field (cut in place) and advances *pp, NULL past the last field.
 */
static char *
acl_parse_get_field(char **pp)
{
	char *src, *dst, *ret;
	int ch = 0;

	if (*pp == NULL)
		return NULL;
	src = dst = ret = *pp;
	while ((ch = *src) != '\0') {
		if (ch == ':') {
			src++;
			break;
		}
		if (ch == '\\' && src[1] == ':')
			src++;
		*dst++ = *src++;
	}
	*pp = ch != '\0' ? src : NULL;
	*dst = '\0';
	return ret;
}

static void
acl_parse_opts_compile(struct acl_linectx *lc, struct acl_irule *r, char *text)
{
	struct acl_loader *ld = lc->ld;
	struct acl_option *opts;
	size_t nopts = 0, cap = 0;
	char *p = text, *cur, *next, *value, *key;
	const char *err = NULL;
	unsigned err_col = 0;
	struct acl_where w;
	size_t i;

	for (cap = 1, i = 0; text[i] != '\0'; i++)
		if (text[i] == ':')
			cap++;
	opts = acl__zalloc(ld->ar, cap * sizeof(*opts));
	if (opts == NULL) {
		ld->oom = 1;
		return;
	}
	cur = acl_parse_get_field(&p);
	for (; cur != NULL && err == NULL; cur = next) {
		char *field = cur;
		char buf[300];
		int k = -1;

		next = acl_parse_get_field(&p);
		/* Fields are cut in place: text offsets stay valid. */
		acl_parse_where_at(lc, field, &w);
		cur = acl_parse_chop(cur);
		if (*cur != '\0')
			acl_parse_where_at(lc, cur, &w);
		value = cur + strcspn(cur, " \t\r\n=");
		if (*value != '\0') {
			if (*value != '=') {
				*value++ = '\0';
				value += strspn(value, " \t\r\n");
			}
			if (*value == '=') {
				*value++ = '\0';
				value += strspn(value, " \t\r\n");
			}
		}
		if (*value == '\0')
			value = NULL;
		key = cur;
		err_col = w.col;
		if (*key == '\0') {
			err = "missing option name";
			break;
		}
		for (i = 0;
		     i < sizeof(acl_opt_table) / sizeof(acl_opt_table[0]); i++)
			if (strcasecmp(acl_opt_table[i].name, key) == 0)
				k = (int)i;
		if (k < 0) {
			snprintf(
			    buf, sizeof buf, "bad option name: \"%s\"", key);
			err = acl__strdup(ld->ar, buf);
			break;
		}
		if (value == NULL && (acl_opt_table[k].flags & OPT_NEED_ARG)) {
			snprintf(buf, sizeof buf,
			    "value required for option \"%s\"", key);
			err = acl__strdup(ld->ar, buf);
			break;
		}
		if (value != NULL &&
		    (acl_opt_table[k].flags & (OPT_NEED_ARG | OPT_OPT_ARG)) ==
		        0) {
			snprintf(buf, sizeof buf,
			    "option \"%s\" requires no value", key);
			err = acl__strdup(ld->ar, buf);
			break;
		}
		if (next != NULL && (acl_opt_table[k].flags & OPT_USE_LAST)) {
			snprintf(buf, sizeof buf,
			    "option \"%s\" must be at end", key);
			err = acl__strdup(ld->ar, buf);
			break;
		}
		opts[nopts].kind = acl_opt_table[k].kind;
		opts[nopts].line = w.line;
		opts[nopts].col = w.col;
		opts[nopts].value =
		    value != NULL ? acl__strdup(ld->ar, value) : NULL;
		err = acl_parse_opt_check(ld, &opts[nopts], key, value);
		if (err != NULL)
			break;
		if (acl_opt_table[k].flags & OPT_EXPAND)
			r->pub.opt_needs |= acl_expand_needs(value);
		if (opts[nopts].kind == ACL_OPT_RFC931)
			r->pub.opt_needs |= ACL_NEEDS_USER;
		if (opts[nopts].kind == ACL_OPT_ACLEXEC)
			r->has_aclexec = true;
		if (opts[nopts].kind == ACL_OPT_BANNERS && value != NULL)
			acl__vet(ld->vet, ld->vet_arg, value, ld->diags, w.file,
			    w.line, w.col);
		nopts++;
	}
	r->pub.opts = opts;
	r->pub.nopts = nopts;
	if (err != NULL) {
		r->pub.opt_error = err;
		r->pub.opt_error_col = err_col;
		/* libwrap reports it only when the rule matches; it denies. */
		acl__diag(ld->diags, w.file, w.line, w.col, ACL_SEV_ERROR,
		    "%s (a match of this rule denies)", err);
	}
}

/* ---------------------------------------------------------------------
 * Tables.
 */

/*
 * Lint: an IPv6 address written without brackets is cut at a colon.  Each
 * maximal run of hex digits, colons and dots that holds a colon and parses
 * as IPv6 is reported once (linear in the line length).
 */
static bool
acl_parse_has_hex(const char *s, const char *e)
{
	for (; s < e; s++)
		if (strchr("0123456789abcdefABCDEF", *s) != NULL)
			return true;
	return false;
}

static void
acl_parse_lint_v6(struct acl_linectx *lc, const char *line)
{
	static const char v6chars[] = "0123456789abcdefABCDEF:.";
	const char *s = line, *e;
	struct acl_where w;
	uint8_t b[16];

	while (*s != '\0') {
		if (strchr(v6chars, *s) == NULL) {
			s++;
			continue;
		}
		for (e = s; *e != '\0' && strchr(v6chars, *e) != NULL; e++)
			;
		if (memchr(s, ':', (size_t)(e - s)) != NULL && e - s >= 3 &&
		    acl_parse_has_hex(s, e) && (s == line || s[-1] != '[') &&
		    acl__parse_v6(s, (size_t)(e - s), b) == 0) {
			char tmp[64];

			snprintf(tmp, sizeof tmp, "%.*s", (int)(e - s), s);
			acl_parse_where_at(lc, s, &w);
			acl_parse_lint(lc->ld, &w,
			    "unbracketed IPv6 address \"%s\" is "
			    "cut at its first colon: write [addr] or "
			    "[net]/len",
			    tmp);
		}
		s = e;
	}
}

struct acl_rulevec {
	struct acl_irule *v;
	size_t n, cap;
};

static void
acl_parse_rule_add(struct acl_linectx *lc, struct acl_rulevec *rv, char *text,
    unsigned line, bool keep)
{
	struct acl_loader *ld = lc->ld;
	struct acl_irule r;
	char *cl, *sh;
	struct acl_where w;
	char *copy;

	memset(&r, 0, sizeof(r));
	r.pub.file = lc->src->name;
	r.pub.line = line;
	copy = acl__strdup(ld->ar, text);
	if (copy != NULL) {
		size_t n = strlen(copy);

		if (n > 0 && copy[n - 1] == '\n')
			copy[n - 1] = '\0';
	}
	r.pub.text = copy != NULL ? copy : "";
	if (ld->lint)
		acl_parse_lint_v6(lc, text);
	if ((cl = acl_parse_split_at(text, ':')) == NULL) {
		acl_parse_where_at(lc, text, &w);
		acl__diag(ld->diags, w.file, w.line, 0, ACL_SEV_WARNING,
		    "missing \":\" separator: line ignored");
		return;
	}
	sh = acl_parse_split_at(cl, ':');
	acl_parse_list_compile(lc, &r.daemons, text, true, "daemon", text);
	acl_parse_list_compile(lc, &r.clients, cl, false, "client", cl);
	if (sh != NULL)
		acl_parse_opts_compile(lc, &r, sh);
	if (!keep)
		return;
	if (rv->n == rv->cap) {
		size_t nc = rv->cap ? rv->cap * 2 : 64;
		struct acl_irule *nv = realloc(rv->v, nc * sizeof(*nv));

		if (nv == NULL) {
			ld->oom = 1;
			return;
		}
		rv->v = nv;
		rv->cap = nc;
	}
	rv->v[rv->n++] = r;
}

/*
 * Load one table from memory.  open_errno != 0: the table could not be
 * opened (ENOENT is an empty table, anything else a table error); the
 * caller reported why.
 */
int
acl__load_table(struct acl_ruleset *rs, struct acl_loader *ld, int t,
    const char *name, const char *text, size_t len, int open_errno)
{
	struct acl_tab *tab = &rs->tabs[t];
	struct acl_rulevec rv = {0};
	struct acl_src src;
	struct acl_lline *ll;
	struct acl_linectx lc;
	bool ended = false;
	unsigned line, col;

	tab->path = acl__strdup(ld->ar, name);
	if (tab->path == NULL)
		return -1;
	if (open_errno != 0) {
		if (open_errno != ENOENT) {
			tab->term = true;
			tab->term_line = 0;
		}
		return acl__build_index(rs, tab);
	}
	ll = malloc(sizeof(*ll));
	if (ll == NULL || acl__src_init(&src, tab->path, text, len) != 0) {
		free(ll);
		return -1;
	}
	lc.ld = ld;
	lc.src = &src;
	lc.ll = ll;
	lc.base = ll->text;
	while (acl__xgets(&src, ll) == 1 && !ld->oom) {
		size_t n = strlen(ll->text);

		acl__src_pos(&src,
		    ll->nseg > 0 ? ll->seg[0].foff : ll->first_off, &line,
		    &col);
		if (n == 0 || ll->text[n - 1] != '\n') {
			acl__diag(ld->diags, tab->path, line, 0, ACL_SEV_ERROR,
			    "%s: %s",
			    ll->too_long ? "line too long (over 2046 "
			                   "characters)"
			                 : "missing newline at end of file",
			    ended ? "ignored, the table already ended"
			        : t == 0
			        ? "this and every later allow rule are "
			          "ignored"
			        : "every request that reaches this line "
			          "is denied");
			if (!ended) {
				ended = true;
				tab->term = true;
				tab->term_line = line;
			}
			if (!ld->lint)
				break;
			continue;
		}
		if (ll->text[0] == '#' ||
		    ll->text[strspn(ll->text, " \t\r\n")] == '\0')
			continue;
		acl_parse_rule_add(&lc, &rv, ll->text, line, !ended);
	}
	acl__src_free(&src);
	free(ll);
	if (ld->oom) {
		free(rv.v);
		return -1;
	}
	if (rv.n > 0) {
		tab->rules = acl__alloc(ld->ar, rv.n * sizeof(*tab->rules));
		if (tab->rules == NULL) {
			free(rv.v);
			return -1;
		}
		memcpy(tab->rules, rv.v, rv.n * sizeof(*tab->rules));
		tab->nrules = rv.n;
	}
	free(rv.v);
	if (acl__build_index(rs, tab) != 0)
		return -1;
	if (ld->lint)
		acl__lint_shadow(rs, ld, tab);
	return 0;
}

/* ---------------------------------------------------------------------
 * Lint: rules that can never be reached because an earlier rule of the
 * same table matches everything they match.  Conservative: only when the
 * earlier rule has no EXCEPT, no aclexec, and covers item by item.
 */
static bool
acl_parse_item_same(const struct acl_item *a, const struct acl_item *b)
{
	return strcasecmp(a->text, b->text) == 0;
}

static bool
acl_parse_list_all(const struct acl_list *l, bool server)
{
	unsigned i;

	if (l->nseg != 1)
		return false;
	for (i = 0; i < l->segs[0].n; i++) {
		const struct acl_item *it = &l->segs[0].items[i];

		if (server && !it->has_host && it->port < 0 &&
		    it->name.kind == ACL_SP_ALL)
			return true;
		if (!server && !it->has_name &&
		    it->host.kind == ACL_HP_STRING &&
		    it->host.sp.kind == ACL_SP_ALL)
			return true;
	}
	return false;
}

/* An address-like item: its v4/v6 range, for containment tests. */
static bool
acl_parse_item_range(
    const struct acl_item *it, int *fam, uint8_t *a, unsigned *plen)
{
	struct acl_ikeys k = {0};
	int err = 0;
	bool ok = false;

	if (it->has_name || !acl__hostpat_keys(&it->host, NULL, 0, &err))
		return false;
	if (it->host.kind == ACL_HP_FILE || acl__hostpat_geo(&it->host) != 0)
		return false; /* not an address range */
	if (acl__hostpat_keys(&it->host, &k, 0, &err) && k.n == 1) {
		*fam = k.v[0].fam == 6 ? 6 : 4;
		memcpy(a, k.v[0].addr, 16);
		*plen = k.v[0].plen;
		/* A string prefix "10.1." is 10.1/16 for any address. */
		ok = true;
	}
	free(k.v);
	return ok;
}

static bool
acl_parse_range_covers(int fa, const uint8_t *a, unsigned pa, int fb,
    const uint8_t *b, unsigned pb)
{
	unsigned i;

	if (fa != fb || pa > pb)
		return false;
	for (i = 0; i < pa; i++) {
		unsigned byte = i / 8, bit = 7 - i % 8;

		if (((a[byte] >> bit) & 1) != ((b[byte] >> bit) & 1))
			return false;
	}
	return true;
}

static bool
acl_parse_item_covers(const struct acl_item *a, const struct acl_item *b)
{
	int fa, fb;
	uint8_t xa[16], xb[16];
	unsigned pa, pb;

	if (acl_parse_item_same(a, b))
		return true;
	if (acl_parse_item_range(a, &fa, xa, &pa) &&
	    acl_parse_item_range(b, &fb, xb, &pb))
		return acl_parse_range_covers(fa, xa, pa, fb, xb, pb);
	return false;
}

/* Every item of b's head is covered by some item of a (a: one segment). */
static bool
acl_parse_list_covers(
    const struct acl_list *a, const struct acl_list *b, bool server)
{
	unsigned i, j;

	if (a->nseg != 1 || b->nseg < 1)
		return false;
	if (acl_parse_list_all(a, server))
		return true;
	if (b->segs[0].n == 0)
		return false;
	for (i = 0; i < b->segs[0].n; i++) {
		bool ok = false;

		for (j = 0; j < a->segs[0].n && !ok; j++)
			ok = acl_parse_item_covers(
			    &a->segs[0].items[j], &b->segs[0].items[i]);
		if (!ok)
			return false;
	}
	return true;
}

static bool
acl_parse_rule_can_shadow(const struct acl_irule *r)
{
	return !r->has_aclexec && r->daemons.nseg == 1 &&
	    r->clients.nseg == 1 && r->daemons.segs[0].n > 0 &&
	    r->clients.segs[0].n > 0;
}

#define ACL_SHADOW_SCAN 256
#define ACL_SHADOW_IDS  64

/*
 * The earliest rule before r that covers r's single address item, found
 * through the table's index: an indexed rule without EXCEPT or aclexec
 * whose key contains r's key, and whose daemon list covers r's.
 */
static const struct acl_irule *
acl_parse_shadow_by_index(const struct acl_tab *tab, size_t i)
{
	const struct acl_irule *r = &tab->rules[i], *best = NULL;
	const struct acl_item *it;
	struct acl_ikeys k = {0};
	struct acl_irange rg[200];
	struct acl_addr a;
	size_t nr, j, m;
	int err = 0;

	if (r->clients.nseg < 1 || r->clients.segs[0].n != 1)
		return NULL;
	it = &r->clients.segs[0].items[0];
	if (it->has_name || it->host.kind == ACL_HP_FILE ||
	    !acl__hostpat_keys(&it->host, &k, 0, &err) || k.n != 1) {
		free(k.v);
		return NULL;
	}
	memset(&a, 0, sizeof(a));
	a.family = k.v[0].fam == 6 ? AF_INET6 : AF_INET;
	memcpy(a.bytes, k.v[0].addr, 16);
	nr = acl__index_lookup(&tab->idx, &a, rg, 200);
	for (j = 0; j < nr; j++) {
		if (rg[j].plen > k.v[0].plen)
			continue;
		/* net/mask never matches 255.255.255.255; its text does. */
		if (k.v[0].fam == 5 && rg[j].fam == 4 && a.bytes[0] == 255)
			continue;
		for (m = 0; m < rg[j].n && m < ACL_SHADOW_IDS; m++) {
			const struct acl_irule *e = &tab->rules[rg[j].ids[m]];

			if (rg[j].ids[m] >= i || (best != NULL && e >= best))
				break;
			if (acl_parse_rule_can_shadow(e) &&
			    acl_parse_list_covers(
			        &e->daemons, &r->daemons, true)) {
				best = e;
				break;
			}
		}
	}
	free(k.v);
	return best;
}

void
acl__lint_shadow(
    struct acl_ruleset *rs, struct acl_loader *ld, struct acl_tab *tab)
{
	size_t i, j;
	uint32_t *wide; /* rules that can shadow and whose client list is ALL */
	size_t nwide = 0;

	(void)rs;
	wide = malloc((tab->nrules + 1) * sizeof(*wide));
	if (wide == NULL)
		return;
	for (i = 0; i < tab->nrules; i++) {
		const struct acl_irule *r = &tab->rules[i];
		const struct acl_irule *by = NULL, *e;
		bool single;

		/* Catch-all earlier rules. */
		for (j = 0; j < nwide && by == NULL; j++) {
			e = &tab->rules[wide[j]];
			if (acl_parse_list_covers(
			        &e->daemons, &r->daemons, true))
				by = e;
		}
		/* One address item: the index finds what covers it. */
		single = r->indexed && r->clients.nseg >= 1 &&
		    r->clients.segs[0].n == 1 &&
		    acl__hostpat_geo(&r->clients.segs[0].items[0].host) == 0;
		if (by == NULL && single) {
			e = acl_parse_shadow_by_index(tab, i);
			if (e != NULL)
				by = e;
		}
		/*
		 * Other earlier rules: a bounded look back, so that lint
		 * stays fast on huge tables (it may miss distant shadows).
		 */
		for (j = i > ACL_SHADOW_SCAN ? i - ACL_SHADOW_SCAN : 0;
		     j < i && by == NULL && !single; j++) {
			e = &tab->rules[j];
			if (acl_parse_rule_can_shadow(e) &&
			    acl_parse_list_covers(
			        &e->clients, &r->clients, false) &&
			    acl_parse_list_covers(
			        &e->daemons, &r->daemons, true))
				by = e;
		}
		if (by != NULL)
			acl__diag(ld->diags, r->pub.file, r->pub.line, 1,
			    ACL_SEV_WARNING,
			    "rule never decides anything: "
			    "line %u matches every request it matches",
			    by->pub.line);
		if (acl_parse_rule_can_shadow(r) &&
		    acl_parse_list_all(&r->clients, false))
			wide[nwide++] = (uint32_t)i;
	}
	free(wide);
}
