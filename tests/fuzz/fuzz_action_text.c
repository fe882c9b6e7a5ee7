/*
 * fuzz_action_text.c - the actions' text transforms on hostile bytes:
 * finger output cleaning (only printable ASCII, tab and newline may come
 * out), the report mail (no input can add a header line), banner
 * rendering (never crashes; expansions stay sanitised).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "action_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_finger(const char *in, size_t len)
{
	size_t n, i;
	char *s = action_text_finger_clean(in, len, &n);

	if (s == NULL)
		return;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t'))
			abort();
	}
	free(s);
}

/* The headers the composer writes, whatever the input: exactly these. */
static void
check_mail(const char *in, size_t len)
{
	struct action_report r;
	char *field, *msg, *p;
	int headers = 0;

	if ((field = malloc(len + 1)) == NULL)
		return;
	memcpy(field, in, len);
	field[len] = '\0';
	memset(&r, 0, sizeof(r));
	r.recipient = field;
	r.service = field;
	r.client_addr = field;
	r.client_name = field;
	r.user = field;
	r.rule_file = field;
	r.reason = field;
	r.finger_error = field;
	r.client_port = r.server_port = -1;
	if ((msg = action_text_mail_compose(&r, NULL)) != NULL) {
		for (p = msg; *p != '\0' && *p != '\n';
		     p = strchr(p, '\n') + 1) {
			headers++;
			if (strchr(p, '\n') == NULL)
				abort(); /* headers always end in a newline */
		}
		/* To, Subject, Date, Auto-Submitted, MIME-Version,
		 * Content-Type, Content-Transfer-Encoding. */
		if (headers != 7)
			abort();
		free(msg);
	}
	free(field);
}

static void
check_banner(const char *in, size_t len)
{
	struct acl_request req;
	char *out = NULL, name[64];
	size_t n, k = len < sizeof(name) - 1 ? len : sizeof(name) - 1;

	memcpy(name, in, k);
	name[k] = '\0';
	acl_request_init(&req);
	req.daemon = "fuzzd";
	req.client.name = name;
	req.user = name;
	req.server.name = name;
	(void)acl_addr_parse(&req.client.addr, "192.0.2.1");
	if (action_text_banner_render(in, len, &req, &out, &n) == ACL_DONE)
		free(out);
	(void)action_text_banner_needs(in, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;

	check_finger(in, size);
	check_mail(in, size);
	check_banner(in, size);
	return 0;
}
