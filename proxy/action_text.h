/*
 * action_text.h - the pure text transforms behind wrapd's actions: what a
 * finger server says, made safe to read; the report mail, made impossible to
 * inject headers into; and banner files, turned into what tcpd would send.
 *
 * No I/O, no libuv: unit-tested and fuzzed on their own.
 */
#ifndef WRAPD_ACTION_TEXT_H
#define WRAPD_ACTION_TEXT_H

#include <stddef.h>
#include <time.h>

#include "acl.h"

/* safe_finger's limits: lines are broken after this many columns. */
#define ACTION_FINGER_LINE_MAX 128

/*
 * Clean finger output the way safe_finger(8) does: printable ASCII, space,
 * tab and newline pass; CR is dropped (CRLF becomes LF); any other byte
 * (controls, escape sequences, 8-bit) becomes a visible \ooo octal escape;
 * lines are broken at ACTION_FINGER_LINE_MAX columns.  Returns a
 * NUL-terminated malloc'd string (its length in *outlen), NULL on ENOMEM.
 */
char *action_text_finger_clean(const char *in, size_t len, size_t *outlen);

/*
 * Copy src into one header/field value: every byte that is not printable
 * ASCII (CR and LF above all) becomes '?', and the value is cut at
 * dstsz - 1 bytes.  NULL src gives "".
 */
void action_text_field_clean(char *dst, size_t dstsz, const char *src);

/* What the report mail says about one connection; NULL fields are omitted. */
struct action_report {
	const char *recipient;   /* To:, from the configuration */
	const char *service;     /* wrapd service name */
	const char *daemon;      /* the name daemon lists matched */
	const char *verdict;     /* "denied", ... */
	const char *client_addr; /* numeric */
	int client_port;         /* -1 unknown */
	const char *client_name; /* verified name, "unknown", "paranoid" */
	const char *user;        /* ident user */
	const char *server_addr;
	int server_port;
	const char *rule_file; /* deciding rule, NULL when none */
	unsigned rule_line;
	const char *reason; /* free text, e.g. "on_deny" */
	time_t when;
	const char *finger;       /* cleaned finger output, or NULL */
	const char *finger_error; /* why there is none, or NULL */
};

/*
 * The whole message for `sendmail -t -oi`: headers (To, Subject naming the
 * service and the client, Date, Auto-Submitted, MIME text/plain us-ascii),
 * a blank line, the body.  Every value from the network is passed through
 * action_text_field_clean (headers, body fields) or is already cleaned finger
 * output, so no byte of it can end a header or start a new one.  Lines end
 * in LF (sendmail's local convention).  malloc'd, NUL-terminated; NULL on
 * ENOMEM.
 */
char *action_text_mail_compose(const struct action_report *r, size_t *outlen);

/*
 * What `banners DIR` sends for the file content data[0..len): leading NUL
 * bytes as they are, then each line (at most 8189 bytes, as libwrap's fgets
 * reads it; an embedded NUL ends the line's text) with its LF turned into
 * CR LF and %-expanded by acl_expand() (the line's own text unsanitised,
 * the expansions sanitised).  A line whose expansion does not fit
 * ACL_EXPAND_MAX is dropped (libwrap would exit).
 *
 * Returns ACL_DONE with *out (malloc'd) and *outlen set, or the ACL_NEED_*
 * status for a fact an expansion needs (find it, call again), or -1 on
 * ENOMEM.
 */
int action_text_banner_render(const char *data, size_t len,
    const struct acl_request *req, char **out, size_t *outlen);

/* Facts (enum acl_need_bits) that rendering data would need. */
unsigned action_text_banner_needs(const char *data, size_t len);

#endif /* WRAPD_ACTION_TEXT_H */
