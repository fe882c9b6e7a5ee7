/*
 * conf_set.c - set one configuration key from text that is not in a file:
 * the quick-mode flags of the command line (proxy/cmd_run.c).
 *
 * The text goes through the key's row of conf_schema[] exactly as the
 * file's value would (conf__schema_apply), so a flag has the file's syntax,
 * bounds, checks and messages, and nothing about a key is written twice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

/* The types whose value is a list; the others take one scalar. */
static bool
conf_set_is_list(enum conf_type type)
{
	return type == CONF_T_LISTEN || type == CONF_T_ARGV ||
	    type == CONF_T_CIDRS || type == CONF_T_TIMES;
}

bool
conf_set_known(const char *path, bool *is_list, bool *per_service)
{
	const struct conf_key *k = conf__schema_find(path);

	if (k == NULL || k->type == CONF_T_MAP || k->type == CONF_T_SERVICES)
		return false;
	if (is_list != NULL)
		*is_list = conf_set_is_list(k->type);
	if (per_service != NULL)
		*per_service = k->scope == CONF_SCOPE_SERVICE;
	return true;
}

int
conf_set(struct wrapd_conf *c, struct conf_service *s, const char *path,
    const char *const *values, size_t nvalues, const char *origin,
    struct conf_errs *errs)
{
	const struct conf_key *k = conf__schema_find(path);
	struct conf_ctx cx = {.file = origin, .errs = errs, .conf = c};
	struct conf_node *items, **kids, seq = {.kind = CONF_NODE_SEQ};
	bool list;
	size_t i;

	if (!conf_set_known(path, &list, NULL) ||
	    (k->scope == CONF_SCOPE_SERVICE && s == NULL) ||
	    (!list && nvalues != 1) || nvalues == 0) {
		errno = EINVAL; /* a caller's mistake, not the user's */
		return -1;
	}
	items = calloc(nvalues, sizeof *items);
	kids = calloc(nvalues, sizeof *kids);
	if (items == NULL || kids == NULL) {
		free(items);
		free(kids);
		return -1;
	}
	/*
	 * Plain scalars, as a file's unquoted words: "false" is a boolean for
	 * a boolean key.  Never null (the file's "~"): a flag's text is the
	 * value it says.  Line 0: the messages carry no position.
	 */
	for (i = 0; i < nvalues; i++) {
		items[i].kind = CONF_NODE_SCALAR;
		items[i].str = (char *)(uintptr_t)values[i];
		items[i].len = strlen(values[i]);
		items[i].plain = true;
		kids[i] = &items[i];
	}
	seq.kids = kids;
	seq.nkids = seq.cap = nvalues;
	conf__schema_apply(&cx, k, list ? &seq : &items[0], s);
	free(items);
	free(kids);
	if (cx.nerr > 0) {
		errno = 0;
		return -1;
	}
	return 0;
}
