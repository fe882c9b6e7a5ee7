/*
 * conf_timewin.c - services[].access_times: the windows of local time in
 * which a service takes connections (xinetd's access_times, with days).
 *
 * A window is "[DAYS ]HH:MM-HH:MM":
 *   08:00-18:00            every day
 *   Mon-Fri 08:00-18:00    a range of days (Fri-Mon wraps over Sunday)
 *   Sat,Sun 10:00-12:00    a list; ranges and single days may mix
 *   22:00-02:00            crosses midnight: until 02:00 the next day
 *   00:00-24:00            the whole day; 24:00 only ends a window
 * Days are the three-letter English names, in any case.  The days name
 * the day a window starts on: "Sat 22:00-02:00" is open from Saturday
 * 22:00 to Sunday 02:00.  Minutes are two digits, hours one or two.
 *
 * Only the syntax is here; proxy/timewin.c compares a window with the
 * clock.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_int.h"

#define CONF_TIMEWIN_MAX_TEXT 96
#define CONF_TIMEWIN_ALL_DAYS 0x7f

static const char *const conf_timewin_days[7] = {
    "Sun",
    "Mon",
    "Tue",
    "Wed",
    "Thu",
    "Fri",
    "Sat",
};

static const char conf_timewin_syntax[] =
    "expected [DAYS ]HH:MM-HH:MM, such as 08:00-18:00, "
    "Mon-Fri 08:00-18:00 or Sat,Sun 22:00-02:00";

/* A day name at *p (advanced past it): 0 (Sunday) to 6, or -1. */
static int
conf_timewin_day(const char **p)
{
	for (int d = 0; d < 7; d++)
		if (strncasecmp(*p, conf_timewin_days[d], 3) == 0 &&
		    !isalpha((unsigned char)(*p)[3])) {
			*p += 3;
			return d;
		}
	return -1;
}

/* The days of "Mon-Fri,Sun" at *p, up to a blank.  -1 with *err. */
static int
conf_timewin_parse_days(const char **p, uint8_t *days, char **err)
{
	const char *s = *p;
	int a, b;

	*days = 0;
	for (;;) {
		const char *at = s;

		if ((a = conf_timewin_day(&s)) < 0)
			goto bad_day;
		b = a;
		if (*s == '-') {
			s++;
			at = s;
			if ((b = conf_timewin_day(&s)) < 0)
				goto bad_day;
		}
		/* Mon-Fri, or Fri-Mon over the end of the week. */
		for (int d = a;; d = (d + 1) % 7) {
			*days |= (uint8_t)(1u << d);
			if (d == b)
				break;
		}
		if (*s != ',')
			break;
		s++;
		continue;
	bad_day:
		*err = conf__asprintf("unknown day \"%.*s\" (the days are "
		                      "Mon, Tue, Wed, Thu, Fri, Sat and Sun)",
		    (int)strcspn(at, " \t,-"), at);
		return -1;
	}
	*p = s;
	return 0;
}

/* "HH:MM" at *p: minutes after midnight, 0 to 1440.  -1 with *err. */
static int
conf_timewin_parse_clock(const char **p, unsigned *minutes, char **err)
{
	const char *s = *p;
	unsigned h = 0, m;
	int nd = 0;

	while (isdigit((unsigned char)*s) && nd < 2) {
		h = h * 10 + (unsigned)(*s++ - '0');
		nd++;
	}
	if (nd == 0 || *s != ':' || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || isdigit((unsigned char)s[3])) {
		*err = conf__strdup(conf_timewin_syntax);
		return -1;
	}
	m = (unsigned)(s[1] - '0') * 10 + (unsigned)(s[2] - '0');
	if (h > 24 || (h == 24 && m != 0)) {
		*err = conf__asprintf("hour %u is out of range (00 to 23, or "
		                      "24:00 to end a window)",
		    h);
		return -1;
	}
	if (m > 59) {
		*err =
		    conf__asprintf("minute %u is out of range (00 to 59)", m);
		return -1;
	}
	*minutes = h * 60 + m;
	*p = s + 3;
	return 0;
}

/* Skip blanks at *p, then the character ch if it is not 0: false if it
 * is not there. */
static bool
conf_timewin_then(const char **p, char ch)
{
	while (**p == ' ')
		(*p)++;
	if (ch == 0)
		return true;
	if (**p != ch)
		return false;
	(*p)++;
	return true;
}

int
conf_timewin_parse(const char *text, struct conf_timewin *w, char **err)
{
	const char *p = text;
	unsigned start, end;
	char *e = NULL;

	*err = NULL;
	memset(w, 0, sizeof(*w));
	if (strlen(text) > CONF_TIMEWIN_MAX_TEXT) {
		*err = conf__asprintf(
		    "a window is at most %d characters", CONF_TIMEWIN_MAX_TEXT);
		return -1;
	}
	/* What follows may quote the text: no control characters in it. */
	for (const char *c = text; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			*err = conf__strdup("a window contains a control "
			                    "character");
			return -1;
		}
	w->days = CONF_TIMEWIN_ALL_DAYS;
	conf_timewin_then(&p, 0);
	if (isalpha((unsigned char)*p)) {
		if (conf_timewin_parse_days(&p, &w->days, &e) < 0)
			goto fail;
		if (*p != ' ')
			goto syntax;
		conf_timewin_then(&p, 0);
	}
	if (conf_timewin_parse_clock(&p, &start, &e) < 0)
		goto fail;
	if (!conf_timewin_then(&p, '-'))
		goto syntax;
	conf_timewin_then(&p, 0);
	if (conf_timewin_parse_clock(&p, &end, &e) < 0)
		goto fail;
	if (!conf_timewin_then(&p, 0) || *p != '\0')
		goto syntax;
	if (start == 24 * 60) {
		e = conf__strdup("24:00 can only end a window; write 00:00 "
		                 "for midnight at the start");
		goto fail;
	}
	if (start == end) {
		e = conf__strdup("the window starts and ends at the same time; "
		                 "write 00:00-24:00 for the whole day");
		goto fail;
	}
	w->start = (uint16_t)start;
	w->end = (uint16_t)end;
	return 0;
syntax:
	e = conf__strdup(conf_timewin_syntax);
fail:
	*err = conf__asprintf("\"%s\": %s", text, e);
	free(e);
	return -1;
}

void
conf__times_free(struct conf_service *s)
{
	for (size_t i = 0; i < s->naccess_times; i++)
		free(s->access_times[i].text);
	free(s->access_times);
	s->access_times = NULL;
	s->naccess_times = 0;
}

void
conf__set_times(struct conf_ctx *cx, const struct conf_key *k,
    const struct conf_node *v, struct conf_service *svc)
{
	if (v->kind != CONF_NODE_SEQ) {
		conf__err(cx, v->line, v->col,
		    "access_times: expected a list such as [\"Mon-Fri "
		    "08:00-18:00\", \"Sat 10:00-12:00\"]");
		return;
	}
	if (v->nkids == 0) {
		/* An empty list would close the service for good. */
		conf__err(cx, v->line, v->col,
		    "access_times: the list is empty; leave access_times out "
		    "to take connections at any time");
		return;
	}
	if (v->nkids > k->max) {
		conf__err(cx, v->line, v->col,
		    "access_times: more than %llu windows",
		    (unsigned long long)k->max);
		return;
	}
	conf__times_free(svc);
	svc->access_times = calloc(v->nkids, sizeof(*svc->access_times));
	if (svc->access_times == NULL)
		abort();
	for (size_t i = 0; i < v->nkids && !cx->full; i++) {
		const struct conf_node *it = v->kids[i];
		struct conf_timewin w;
		char *err = NULL;

		if (it->kind != CONF_NODE_SCALAR || it->is_null ||
		    memchr(it->str, '\0', it->len) != NULL) {
			conf__err(cx, it->line, it->col,
			    "access_times: each window is a string such as "
			    "\"08:00-18:00\"");
			continue;
		}
		if (conf_timewin_parse(it->str, &w, &err) < 0) {
			conf__err(
			    cx, it->line, it->col, "access_times: %s", err);
			free(err);
			continue;
		}
		w.text = conf__strdup(it->str);
		svc->access_times[svc->naccess_times++] = w;
	}
}
