/*
 * test_action_text.c - finger cleaning, the report mail (no header can be
 * injected), banner rendering as libwrap's banners option does it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "action_text.h"

static void
test_finger_clean_passes_text(void **state)
{
	size_t n;
	char *s = action_text_finger_clean("Login: bob\tName: Bob\r\n", 22, &n);

	(void)state;
	assert_string_equal(s, "Login: bob\tName: Bob\n");
	assert_int_equal(n, strlen(s));
	free(s);
}

static void
test_finger_clean_escapes(void **state)
{
	/* ESC sequences, BEL, NUL, DEL and 8-bit bytes become \ooo. */
	static const char in[] = "a\033[2Jb\007c\0d\177e\xc3\xa9";
	char *s = action_text_finger_clean(in, sizeof(in) - 1, NULL);
	size_t i;

	(void)state;
	assert_string_equal(s, "a\\033[2Jb\\007c\\000d\\177e\\303\\251");
	for (i = 0; s[i] != '\0'; i++)
		assert_true((s[i] >= 0x20 && s[i] < 0x7f) || s[i] == '\n' ||
		    s[i] == '\t');
	free(s);
}

static void
test_finger_clean_breaks_lines(void **state)
{
	char in[1000], *s, *line;
	size_t longest = 0, cur = 0, i;

	(void)state;
	memset(in, 'x', sizeof(in));
	s = action_text_finger_clean(in, sizeof(in), NULL);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\n') {
			cur = 0;
			continue;
		}
		if (++cur > longest)
			longest = cur;
	}
	assert_int_equal(longest, ACTION_FINGER_LINE_MAX);
	line = strchr(s, '\n');
	assert_non_null(line);
	assert_int_equal(line - s, ACTION_FINGER_LINE_MAX);
	free(s);
}

static void
test_field_clean(void **state)
{
	char out[16];

	(void)state;
	action_text_field_clean(out, sizeof(out), "a\r\nBcc: x\x80y");
	assert_string_equal(out, "a??Bcc: x?y");
	action_text_field_clean(out, 4, "abcdef");
	assert_string_equal(out, "abc");
	action_text_field_clean(out, sizeof(out), NULL);
	assert_string_equal(out, "");
}

/* Header lines are the lines before the first empty one. */
static int
header_count(const char *msg, const char *prefix)
{
	const char *p = msg;
	int n = 0;

	while (*p != '\0' && *p != '\n') {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	return n;
}

static void
test_mail_compose_hostile(void **state)
{
	struct action_report r;
	char *msg, *body;
	size_t len;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.recipient = "root";
	r.service = "smtp";
	r.daemon = "exim";
	r.verdict = "denied";
	r.client_addr = "10.0.0.2";
	r.client_port = 40000;
	r.client_name = "evil.example\r\nBcc: victim@example.net\r\n\r\nhi";
	r.user = "x\nSubject: forged";
	r.server_addr = "10.0.0.1";
	r.server_port = 25;
	r.rule_file = "/etc/hosts.deny";
	r.rule_line = 3;
	r.when = 0;
	r.finger = "No one logged on.\n.\n";
	msg = action_text_mail_compose(&r, &len);
	assert_non_null(msg);
	assert_int_equal(len, strlen(msg));
	assert_int_equal(header_count(msg, "To: root\n"), 1);
	assert_int_equal(header_count(msg, "Subject:"), 1);
	assert_int_equal(header_count(msg, "Bcc:"), 0);
	assert_non_null(strstr(msg,
	    "Subject: wrapd: smtp denied "
	    "evil.example??Bcc: victim@example.net????hi [10.0.0.2]\n"));
	body = strstr(msg, "\n\n");
	assert_non_null(body);
	assert_non_null(strstr(body, "Client:    10.0.0.2\n"));
	assert_non_null(strstr(body, "Port:      40000\n"));
	assert_non_null(strstr(body, "User:      x?Subject: forged\n"));
	assert_non_null(strstr(body, "Rule:      /etc/hosts.deny:3\n"));
	assert_non_null(strstr(body, "Server:    10.0.0.1 port 25\n"));
	assert_non_null(strstr(body, "No one logged on.\n.\n"));
	/* The Subject names the address alone when there is no name. */
	r.client_name = "unknown";
	free(msg);
	msg = action_text_mail_compose(&r, NULL);
	assert_non_null(strstr(msg, "Subject: wrapd: smtp denied 10.0.0.2\n"));
	free(msg);
}

static void
test_mail_compose_finger_error(void **state)
{
	struct action_report r;
	char *msg;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.recipient = "admin";
	r.daemon = "in.telnetd";
	r.client_addr = "::1";
	r.client_port = -1;
	r.server_port = -1;
	r.finger_error = "connection refused";
	msg = action_text_mail_compose(&r, NULL);
	assert_non_null(strstr(msg, "Subject: wrapd: in.telnetd denied ::1\n"));
	assert_non_null(strstr(msg, "Rule:      (no rule matched)\n"));
	assert_non_null(strstr(msg, "finger @client: connection refused\n"));
	assert_null(strstr(msg, "Port:"));
	free(msg);
}

static void
req_init(struct acl_request *req, const char *name)
{
	acl_request_init(req);
	req->daemon = "in.ftpd";
	assert_int_equal(acl_addr_parse(&req->client.addr, "192.0.2.9"), 0);
	req->client.name = name;
	req->client.port = 4242;
}

static void
test_banner_render(void **state)
{
	static const char file[] = "\0\0Hello %a\nfrom %d\n%h; rm -rf /\nend";
	struct acl_request req;
	char *out;
	size_t len;

	(void)state;
	req_init(&req, "bad name;$(x)");
	assert_int_equal(
	    action_text_banner_render(file, sizeof(file) - 1, &req, &out, &len),
	    ACL_DONE);
	/* Two NULs as they are, then CR LF lines; the last has no newline. */
	assert_int_equal(len,
	    2 +
	        strlen("Hello 192.0.2.9\r\nfrom in.ftpd\r\n"
	               "bad_name___x_; rm -rf /\r\nend"));
	assert_int_equal(out[0], '\0');
	assert_int_equal(out[1], '\0');
	assert_memory_equal(out + 2,
	    "Hello 192.0.2.9\r\nfrom in.ftpd\r\n"
	    "bad_name___x_; rm -rf /\r\nend",
	    len - 2);
	free(out);
}

static void
test_banner_needs_lookup(void **state)
{
	static const char file[] = "user %u at %n\n";
	struct acl_request req;
	char *out = NULL;
	size_t len;
	unsigned needs;

	(void)state;
	needs = action_text_banner_needs(file, sizeof(file) - 1);
	assert_true(needs & ACL_NEEDS_USER);
	assert_true(needs & ACL_NEEDS_CLIENT_NAME);
	req_init(&req, NULL);
	assert_int_not_equal(
	    action_text_banner_render(file, sizeof(file) - 1, &req, &out, &len),
	    ACL_DONE);
	req.client.name = "host.example";
	req.user = "alice";
	assert_int_equal(
	    action_text_banner_render(file, sizeof(file) - 1, &req, &out, &len),
	    ACL_DONE);
	assert_string_equal(out, "user alice at host.example\r\n");
	free(out);
}

/* A line longer than libwrap's fgets buffer is split into chunks. */
static void
test_banner_long_line(void **state)
{
	struct acl_request req;
	char *file, *out;
	size_t n = 20000, len;

	(void)state;
	file = malloc(n + 1);
	memset(file, 'b', n);
	file[n] = '\n';
	req_init(&req, "h");
	assert_int_equal(
	    action_text_banner_render(file, n + 1, &req, &out, &len), ACL_DONE);
	assert_int_equal(len, n + 2);
	assert_memory_equal(out + n, "\r\n", 2);
	free(out);
	free(file);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_finger_clean_passes_text),
	    cmocka_unit_test(test_finger_clean_escapes),
	    cmocka_unit_test(test_finger_clean_breaks_lines),
	    cmocka_unit_test(test_field_clean),
	    cmocka_unit_test(test_mail_compose_hostile),
	    cmocka_unit_test(test_mail_compose_finger_error),
	    cmocka_unit_test(test_banner_render),
	    cmocka_unit_test(test_banner_needs_lookup),
	    cmocka_unit_test(test_banner_long_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
