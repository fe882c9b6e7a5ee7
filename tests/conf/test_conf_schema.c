/*
 * test_conf_schema.c - the schema table is the single source of truth:
 * its rows are well-formed, its defaults parse, and the man page documents
 * exactly its keys with their defaults (in the spirit of curl's test1139).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf_int.h"
#include "conf_test.h"

#define MAN_PATH WRAPD_SOURCE_DIR "/man/wrapd.yaml.5"

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		perror(path);
		return NULL;
	}
	char *buf = NULL;
	size_t cap = 0, len = 0, n;
	char chunk[4096];
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(fp);
	if (buf != NULL)
		buf[len] = '\0';
	return buf;
}

/* How a key is named in the man page: service keys without "services[]". */
static const char *
display(const char *path)
{
	return strncmp(path, "services[].", 11) == 0 ? path + 11 : path;
}

static void
test_rows_well_formed(void **state)
{
	(void)state;
	assert_true(conf_schema_len > 0);
	assert_true(conf_schema_len <= 64); /* CONF_SCHEMA_MAX */
	for (size_t i = 0; i < conf_schema_len; i++) {
		const struct conf_key *k = &conf_schema[i];
		assert_non_null(k->path);
		assert_non_null(k->help);
		/* Paths are unique. */
		for (size_t j = i + 1; j < conf_schema_len; j++)
			assert_string_not_equal(k->path, conf_schema[j].path);
		/* A nested key's parent is a mapping row (or the service). */
		const char *leaf = conf__key_leaf(k->path);
		if (leaf != k->path) {
			size_t plen = (size_t)(leaf - k->path - 1);
			bool parent =
			    strncmp(k->path, "services[]", plen) == 0 &&
			    plen == 10;
			for (size_t j = 0; j < conf_schema_len; j++)
				if (strlen(conf_schema[j].path) == plen &&
				    strncmp(conf_schema[j].path, k->path,
				        plen) == 0 &&
				    conf_schema[j].type == CONF_T_MAP)
					parent = true;
			if (!parent)
				fail_msg(
				    "%s has no parent mapping row", k->path);
		}
		/* Scope follows the path. */
		assert_int_equal(k->scope == CONF_SCOPE_SERVICE,
		    strncmp(k->path, "services[].", 11) == 0);
		if (k->type == CONF_T_ENUM)
			assert_non_null(k->words);
		if (k->type == CONF_T_UINT || k->type == CONF_T_DURATION)
			assert_true(k->min <= k->max);
	}
}

/* Every default in the table is applied by conf_new / conf_service_add. */
static void
test_defaults_apply(void **state)
{
	(void)state;
	struct wrapd_conf *c = conf_new();
	assert_non_null(c);
	struct conf_service *s = conf_service_add(c, "x");
	assert_non_null(s);
	/* Zeroed structs, then each row's default, must equal conf_new. */
	struct wrapd_conf top = {0};
	struct conf_service svc = {0};
	assert_int_equal(conf__schema_defaults(CONF_SCOPE_TOP, &top), 0);
	assert_int_equal(conf__schema_defaults(CONF_SCOPE_SERVICE, &svc), 0);
	assert_string_equal(top.allow_path, c->allow_path);
	assert_string_equal(top.syslog_facility, c->syslog_facility);
	assert_int_equal(svc.idle_timeout_ms, s->idle_timeout_ms);
	assert_int_equal(svc.max_connections, s->max_connections);
	free(svc.on_deny.reply);
	free(top.allow_path);
	free(top.deny_path);
	free(top.syslog_facility);
	free(top.actions.sendmail);
	free(top.control);
	conf_free(c);
}

/*
 * ", key: MIN" for each required number beside k in its mapping (ban.after
 * beside ban.within), so that the mapping is valid with k alone.
 */
static const char *
required_siblings(const struct conf_key *k)
{
	static char buf[256];
	const char *leaf = conf__key_leaf(k->path);
	size_t plen = (size_t)(leaf - k->path), o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < conf_schema_len; i++) {
		const struct conf_key *r = &conf_schema[i];
		if (r == k || !(r->flags & CONF_F_REQUIRED) ||
		    r->type != CONF_T_UINT || strncmp(r->path, k->path, plen) ||
		    strchr(r->path + plen, '.') != NULL)
			continue;
		o += (size_t)snprintf(buf + o, sizeof buf - o, ", %s: %llu",
		    r->path + plen, (unsigned long long)r->min);
	}
	return buf;
}

#define AT(base, off, type)                                                    \
	(*(const type *)(const void *)((const char *)(base) + (off)))

/*
 * Writing a key's default explicitly must give the same value as leaving
 * the key out: the table's default text and its parser agree.
 */
static void
test_defaults_round_trip(void **state)
{
	(void)state;
	struct wrapd_conf *plain = load_ok(SVC);
	int checked = 0;
	for (size_t i = 0; i < conf_schema_len; i++) {
		const struct conf_key *k = &conf_schema[i];
		if (k->def == NULL)
			continue;
		const char *d = display(k->path);
		const char *leaf = conf__key_leaf(d);
		char y[1024];
		bool svc = k->scope == CONF_SCOPE_SERVICE;
		if (leaf == d)
			snprintf(y, sizeof y, "%s%s: %s\n%s",
			    svc ? SVC "    " : "", d, k->def, svc ? "" : SVC);
		else
			snprintf(y, sizeof y, "%s%.*s: { %s: %s%s }\n%s",
			    svc ? SVC "    " : "", (int)(leaf - d - 1), d, leaf,
			    k->def, required_siblings(k), svc ? "" : SVC);
		struct wrapd_conf *c = load_ok(y);
		const void *a = svc ? (const void *)&plain->services[0]
		                    : (const void *)plain;
		const void *b =
		    svc ? (const void *)&c->services[0] : (const void *)c;
		switch (k->type) {
		case CONF_T_STRING:
		case CONF_T_PATH:
		case CONF_T_ABSPATH:
		case CONF_T_FACILITY:
			assert_string_equal(
			    AT(a, k->offset, char *), AT(b, k->offset, char *));
			break;
		case CONF_T_BOOL:
			assert_int_equal(
			    AT(a, k->offset, bool), AT(b, k->offset, bool));
			break;
		case CONF_T_UINT:
			assert_int_equal(AT(a, k->offset, unsigned),
			    AT(b, k->offset, unsigned));
			break;
		case CONF_T_DURATION:
			assert_int_equal(AT(a, k->offset, uint64_t),
			    AT(b, k->offset, uint64_t));
			break;
		case CONF_T_RATE:
			assert_int_equal(AT(a, k->offset, unsigned),
			    AT(b, k->offset, unsigned));
			assert_int_equal(AT(a, k->offset2, unsigned),
			    AT(b, k->offset2, unsigned));
			break;
		case CONF_T_ENUM:
			assert_int_equal(
			    AT(a, k->offset, int), AT(b, k->offset, int));
			break;
		default:
			fail_msg(
			    "%s: unexpected default on this type", k->path);
		}
		checked++;
		conf_free(c);
	}
	assert_true(checked >= 10);
	conf_free(plain);
}

/* The entry of key in the man page: from its ".It Ic" to the next one. */
static char *
man_entry(const char *man, const char *key)
{
	char want[128];
	snprintf(want, sizeof want, "\n.It Ic %s", key);
	const char *p = man;
	while ((p = strstr(p, want)) != NULL) {
		char after = p[strlen(want)];
		if (after == ' ' || after == '\n')
			break;
		p++;
	}
	if (p == NULL)
		return NULL;
	p++;
	const char *end = strstr(p + 1, "\n.It Ic ");
	const char *sh = strstr(p + 1, "\n.Sh ");
	if (end == NULL || (sh != NULL && sh < end))
		end = sh;
	if (end == NULL)
		end = p + strlen(p);
	return strndup(p, (size_t)(end - p));
}

/* Is word in text as a token, ignoring mdoc punctuation around it? */
static bool
has_token(const char *text, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = text; (p = strstr(p, word)) != NULL; p++) {
		char before = p == text ? ' ' : p[-1];
		char after = p[wl];
		if ((isspace((unsigned char)before) || before == '(') &&
		    (after == '\0' || isspace((unsigned char)after) ||
		        strchr(".,;:)", after) != NULL))
			return true;
	}
	return false;
}

static void
test_man_documents_every_key(void **state)
{
	(void)state;
	char *man = slurp(MAN_PATH);
	assert_non_null(man);
	int missing = 0;
	for (size_t i = 0; i < conf_schema_len; i++) {
		const struct conf_key *k = &conf_schema[i];
		char *entry = man_entry(man, display(k->path));
		if (entry == NULL) {
			fprintf(stderr, "%s: no \".It Ic %s\" entry\n",
			    MAN_PATH, display(k->path));
			missing++;
			continue;
		}
		if (k->def != NULL &&
		    (strstr(entry, "default") == NULL ||
		        !has_token(entry, k->def))) {
			fprintf(stderr,
			    "%s: the entry for %s does not give "
			    "its default %s\n",
			    MAN_PATH, display(k->path), k->def);
			missing++;
		}
		if (k->type == CONF_T_ENUM) {
			for (size_t w = 0; k->words[w] != NULL; w++) {
				if (!has_token(entry, k->words[w])) {
					fprintf(stderr,
					    "%s: %s does not list "
					    "%s\n",
					    MAN_PATH, display(k->path),
					    k->words[w]);
					missing++;
				}
			}
		}
		free(entry);
	}
	free(man);
	assert_int_equal(missing, 0);
}

/* ... and documents no key the parser does not know. */
static void
test_man_has_no_extra_keys(void **state)
{
	(void)state;
	char *man = slurp(MAN_PATH);
	assert_non_null(man);
	int extra = 0;
	for (const char *p = man; (p = strstr(p, "\n.It Ic ")) != NULL; p++) {
		const char *k = p + 8;
		size_t n = strcspn(k, " \n");
		bool known = false;
		for (size_t i = 0; i < conf_schema_len && !known; i++) {
			const char *d = display(conf_schema[i].path);
			known = strlen(d) == n && strncmp(d, k, n) == 0;
		}
		if (!known) {
			fprintf(stderr, "%s: documents unknown key %.*s\n",
			    MAN_PATH, (int)n, k);
			extra++;
		}
	}
	free(man);
	assert_int_equal(extra, 0);
}

/* The "valid keys" list of an error message comes from the table. */
static void
test_unknown_key_lists_table(void **state)
{
	(void)state;
	struct conf_errs e = {0};
	assert_null(load(SVC "    on_deny: { nope: 1 }\n", &e));
	assert_int_equal(e.n, 1);
	for (size_t i = 0; i < conf_schema_len; i++) {
		const char *p = conf_schema[i].path;
		if (strncmp(p, "services[].on_deny.", 19) == 0)
			assert_non_null(strstr(e.v[0].msg, p + 19));
	}
	conf_errs_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows_well_formed),
	    cmocka_unit_test(test_defaults_apply),
	    cmocka_unit_test(test_defaults_round_trip),
	    cmocka_unit_test(test_man_documents_every_key),
	    cmocka_unit_test(test_man_has_no_extra_keys),
	    cmocka_unit_test(test_unknown_key_lists_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
