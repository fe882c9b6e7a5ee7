/*
 * conf_yaml.c - YAML text to a conf_node tree.  The only file that includes
 * yaml.h.
 *
 * libyaml's event parser is driven to build a small tree that remembers the
 * position of every node, so the schema walk can report file:line:col for
 * any key or value.  The document API would do most of this, but it forgets
 * whether a scalar carried an explicit tag (so "!!str null" would read as
 * null) and it silently expands aliases.  wrapd rejects aliases instead:
 * they add nothing a short config file needs, and refusing them removes any
 * question of alias cycles or expansion blow-up.
 */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "conf_int.h"

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

void
conf__node_free(struct conf_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		conf__node_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
}

static struct conf_node *
conf_yaml_node_new(enum conf_node_kind kind, const yaml_mark_t *m)
{
	struct conf_node *n = calloc(1, sizeof *n);
	if (n == NULL)
		abort();
	n->kind = kind;
	n->line = (unsigned)m->line + 1;
	n->col = (unsigned)m->column + 1;
	return n;
}

static void
conf_yaml_node_append(struct conf_node *parent, struct conf_node *kid)
{
	if (parent->nkids == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 4;
		parent->kids =
		    realloc(parent->kids, parent->cap * sizeof *parent->kids);
		if (parent->kids == NULL)
			abort();
	}
	parent->kids[parent->nkids++] = kid;
}

static bool
conf_yaml_plain_null(const char *s, size_t len)
{
	return len == 0 || (len == 1 && s[0] == '~') ||
	    (len == 4 &&
	        (memcmp(s, "null", 4) == 0 || memcmp(s, "Null", 4) == 0 ||
	            memcmp(s, "NULL", 4) == 0));
}

/*
 * Tags: !!str (and the non-specific "!") force a string, !!null forces
 * null; the other core tags are accepted and the schema decides the type
 * anyway.  Anything else means the author expected semantics wrapd does
 * not have, so it is an error.
 */
static int
conf_yaml_tag_check(
    struct conf_ctx *cx, const yaml_mark_t *m, const unsigned char *tag)
{
	if (tag == NULL || strcmp((const char *)tag, "!") == 0 ||
	    strncmp((const char *)tag, YAML_TAG_PREFIX,
	        strlen(YAML_TAG_PREFIX)) == 0)
		return 0;
	conf__err(cx, (unsigned)m->line + 1, (unsigned)m->column + 1,
	    "unsupported tag \"%s\"", (const char *)tag);
	return -1;
}

static struct conf_node *
conf_yaml_scalar(struct conf_ctx *cx, const yaml_event_t *ev)
{
	const unsigned char *tag = ev->data.scalar.tag;
	if (conf_yaml_tag_check(cx, &ev->start_mark, tag) != 0)
		return NULL;
	struct conf_node *n =
	    conf_yaml_node_new(CONF_NODE_SCALAR, &ev->start_mark);
	n->str = conf__memdup(
	    (const char *)ev->data.scalar.value, ev->data.scalar.length);
	n->len = ev->data.scalar.length;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (tag != NULL) {
		const char *t = (const char *)tag;
		if (strcmp(t, "!") == 0 ||
		    strcmp(t, YAML_TAG_PREFIX "str") == 0)
			n->plain = false;
		else if (strcmp(t, YAML_TAG_PREFIX "null") == 0) {
			n->plain = false;
			n->is_null = true;
		}
	}
	if (n->plain && conf_yaml_plain_null(n->str, n->len))
		n->is_null = true;
	return n;
}

/* libyaml gives a reader error (bad UTF-8, control bytes) as an offset. */
static void
conf_yaml_offset_pos(
    const char *text, size_t len, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch == '\n' ||
		    (ch == '\r' && (i + 1 >= len || text[i + 1] != '\n'))) {
			(*line)++;
			*col = 1;
		} else if ((ch & 0xc0) != 0x80 && ch != '\r') {
			(*col)++;
		}
	}
}

static void
conf_yaml_syntax_error(
    struct conf_ctx *cx, const yaml_parser_t *p, const char *text, size_t len)
{
	unsigned line, col;
	const char *problem = p->problem ? p->problem : "syntax error";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		conf__err(cx, 0, 0, "out of memory while parsing");
		return;
	case YAML_READER_ERROR:
		conf_yaml_offset_pos(text, len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			conf__err(cx, line, col, "%s (byte 0x%02x)", problem,
			    (unsigned)p->problem_value & 0xffu);
		else
			conf__err(cx, line, col, "%s", problem);
		return;
	default:
		break;
	}
	line = (unsigned)p->problem_mark.line + 1;
	col = (unsigned)p->problem_mark.column + 1;
	if (p->context == NULL)
		conf__err(cx, line, col, "%s", problem);
	else if (p->context_mark.line == p->problem_mark.line &&
	    p->context_mark.column == p->problem_mark.column)
		conf__err(cx, line, col, "%s %s", problem, p->context);
	else
		conf__err(cx, line, col, "%s (%s at line %u, column %u)",
		    problem, p->context, (unsigned)p->context_mark.line + 1,
		    (unsigned)p->context_mark.column + 1);
}

struct conf_node *
conf__yaml_load(struct conf_ctx *cx, const char *text, size_t len)
{
	yaml_parser_t p;
	struct conf_node *stack[CONF_MAX_DEPTH];
	size_t depth = 0, ndocs = 0;
	struct conf_node *root = NULL;
	bool done = false, failed = false;

	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && !failed) {
		yaml_event_t ev;
		struct conf_node *n = NULL;
		if (!yaml_parser_parse(&p, &ev)) {
			conf_yaml_syntax_error(cx, &p, text, len);
			failed = true;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (ndocs++ > 0) {
				conf__err(cx, (unsigned)ev.start_mark.line + 1,
				    (unsigned)ev.start_mark.column + 1,
				    "only one YAML document is allowed");
				failed = true;
			}
			break;
		case YAML_ALIAS_EVENT:
			conf__err(cx, (unsigned)ev.start_mark.line + 1,
			    (unsigned)ev.start_mark.column + 1,
			    "aliases (*%s) are not supported",
			    (const char *)ev.data.alias.anchor);
			failed = true;
			break;
		case YAML_SCALAR_EVENT:
			n = conf_yaml_scalar(cx, &ev);
			if (n == NULL)
				failed = true;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT: {
			const unsigned char *tag =
			    ev.type == YAML_SEQUENCE_START_EVENT
			    ? ev.data.sequence_start.tag
			    : ev.data.mapping_start.tag;
			if (conf_yaml_tag_check(cx, &ev.start_mark, tag) != 0) {
				failed = true;
				break;
			}
			if (depth == CONF_MAX_DEPTH) {
				conf__err(cx, (unsigned)ev.start_mark.line + 1,
				    (unsigned)ev.start_mark.column + 1,
				    "nested deeper than %d levels",
				    CONF_MAX_DEPTH);
				failed = true;
				break;
			}
			n = conf_yaml_node_new(
			    ev.type == YAML_SEQUENCE_START_EVENT
			        ? CONF_NODE_SEQ
			        : CONF_NODE_MAP,
			    &ev.start_mark);
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		if (n != NULL) {
			/* Attach before pushing, so a failure frees it all. */
			if (depth == 0) {
				if (root == NULL)
					root = n;
				else
					conf__node_free(n);
			} else {
				conf_yaml_node_append(stack[depth - 1], n);
			}
			if (n->kind != CONF_NODE_SCALAR)
				stack[depth++] = n;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (failed) {
		conf__node_free(root);
		return NULL;
	}
	return root;
}
