/*
 * test_conf_value.c - the quick-mode API: what the proxy calls when the
 * command line, not a file, describes the service.
 */
#include <stdbool.h>
#include <stdint.h>

#include "conf_test.h"

static void
test_parse_listen_good(void **state)
{
	(void)state;
	static const struct {
		const char *text, *host;
		uint16_t port;
		enum conf_listen_kind kind;
	} good[] = {
	    {"0.0.0.0:21", "0.0.0.0", 21, CONF_LISTEN_ADDR},
	    {"127.0.0.1:65535", "127.0.0.1", 65535, CONF_LISTEN_ADDR},
	    {"[::]:21", "::", 21, CONF_LISTEN_ADDR},
	    {"[::1]:1", "::1", 1, CONF_LISTEN_ADDR},
	    {"[2001:DB8:0::1]:80", "2001:db8::1", 80, CONF_LISTEN_ADDR},
	    {"systemd", NULL, 0, CONF_LISTEN_SYSTEMD},
	    {"stdin", NULL, 0, CONF_LISTEN_STDIN},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct conf_listen l;
		char *err = (char *)"untouched";
		assert_int_equal(conf_parse_listen(good[i].text, &l, &err), 0);
		assert_null(err);
		assert_int_equal(l.kind, good[i].kind);
		assert_string_equal(l.text, good[i].text);
		if (good[i].host != NULL)
			assert_string_equal(l.host, good[i].host);
		else
			assert_null(l.host);
		assert_int_equal(l.port, good[i].port);
		assert_int_equal(l.line, 0);
		free(l.text);
		free(l.host);
	}
}

static void
test_parse_listen_bad(void **state)
{
	(void)state;
	static const struct {
		const char *text, *msg;
	} bad[] = {
	    {"::1:21",
	        "listen \"::1:21\": IPv6 addresses must be written in "
	        "brackets: \"[::1]:21\""},
	    {"localhost:21",
	        "listen \"localhost:21\": \"localhost\" is not a "
	        "numeric address; host names are not allowed, "
	        "write the IP address"},
	    {"80",
	        "listen \"80\": missing address: write \"0.0.0.0:80\" or "
	        "\"[::]:80\""},
	    {"1.2.3.4:0",
	        "listen \"1.2.3.4:0\": bad port \"0\": expected a "
	        "number from 1 to 65535"},
	    {"", "empty listen address"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct conf_listen l;
		memset(&l, 0xa5, sizeof l);
		char *err = NULL;
		assert_int_equal(conf_parse_listen(bad[i].text, &l, &err), -1);
		assert_non_null(err);
		assert_non_null(strstr(err, bad[i].msg));
		/* Nothing is left allocated or dangling in l. */
		assert_null(l.text);
		assert_null(l.host);
		free(err);
		/* err may be NULL when the caller only wants yes/no. */
		assert_int_equal(conf_parse_listen(bad[i].text, &l, NULL), -1);
	}
	struct conf_listen l;
	char *err = NULL;
	assert_int_equal(conf_parse_listen(NULL, &l, &err), -1);
	free(err);
}

static void
test_parse_backend(void **state)
{
	(void)state;
	struct wrapd_conf *c = conf_new();
	struct conf_service *s = conf_service_add(c, "smtp");
	char *err = NULL;

	assert_int_equal(conf_parse_backend("127.0.0.1:2525", s, &err), 0);
	assert_null(err);
	assert_int_equal(s->backend_kind, CONF_BACKEND_TCP);
	assert_string_equal(s->backend, "127.0.0.1:2525");
	assert_string_equal(s->backend_host, "127.0.0.1");
	assert_int_equal(s->backend_port, 2525);

	/* A second call replaces the first (no leak under ASan). */
	assert_int_equal(conf_parse_backend("unix:/run/x.sock", s, &err), 0);
	assert_int_equal(s->backend_kind, CONF_BACKEND_UNIX);
	assert_string_equal(s->backend, "unix:/run/x.sock");
	assert_string_equal(s->backend_host, "/run/x.sock");
	assert_int_equal(s->backend_port, 0);

	assert_int_equal(conf_parse_backend("[::1]:25", s, &err), 0);
	assert_string_equal(s->backend_host, "::1");

	/* A failed call leaves the previous backend in place. */
	assert_int_equal(conf_parse_backend("unix:rel.sock", s, &err), -1);
	assert_string_equal(err,
	    "backend \"unix:rel.sock\": the UNIX socket "
	    "path must be absolute, as in "
	    "\"unix:/run/foo.sock\"");
	free(err);
	assert_string_equal(s->backend, "[::1]:25");
	assert_int_equal(conf_parse_backend("0.0.0.0:25", s, &err), -1);
	assert_non_null(strstr(err, "unspecified address"));
	free(err);
	assert_int_equal(conf_parse_backend("host:25", s, NULL), -1);
	conf_free(c);
}

static void
test_service_add(void **state)
{
	(void)state;
	struct wrapd_conf *c = conf_new();
	assert_null(conf_service_add(c, "bad name"));
	assert_null(conf_service_add(c, ""));
	assert_null(conf_service_add(c, NULL));
	assert_null(conf_service_add(NULL, "x"));
	assert_int_equal(c->nservices, 0);

	struct conf_service *s = conf_service_add(c, "ftp");
	assert_non_null(s);
	char *err = NULL;
	assert_int_equal(conf_service_add_listen(s, "0.0.0.0:2121", &err), 0);
	assert_int_equal(conf_service_add_listen(s, "[::]:2121", &err), 0);
	assert_int_equal(conf_service_add_listen(s, "nope", &err), -1);
	assert_non_null(err);
	free(err);
	assert_int_equal(s->nlisten, 2);
	char *argv[] = {
	    (char *)"/usr/sbin/vsftpd", (char *)"-olisten=NO", NULL};
	assert_int_equal(conf_service_set_exec(s, argv, &err), 0);
	assert_int_equal(s->backend_kind, CONF_BACKEND_EXEC);
	assert_int_equal(s->exec_argc, 2);
	assert_string_equal(s->exec_argv[1], "-olisten=NO");
	assert_null(s->exec_argv[2]);
	/* Replacing argv frees the old one. */
	char *argv2[] = {(char *)"/bin/cat", NULL};
	assert_int_equal(conf_service_set_exec(s, argv2, &err), 0);
	assert_int_equal(s->exec_argc, 1);
	char *rel[] = {(char *)"cat", NULL};
	assert_int_equal(conf_service_set_exec(s, rel, &err), -1);
	assert_string_equal(
	    err, "exec: program \"cat\" must be an absolute path");
	free(err);
	char *none[] = {NULL};
	assert_int_equal(conf_service_set_exec(s, none, &err), -1);
	free(err);

	struct conf_errs e = {0};
	assert_int_equal(conf_validate(c, &e), 0);
	assert_int_equal(e.n, 0);
	conf_free(c);
}

static void
test_validate_quick(void **state)
{
	(void)state;
	struct conf_errs e = {0};
	struct wrapd_conf *c = conf_new();

	/* No service at all. */
	assert_int_equal(conf_validate(c, &e), -1);
	assert_int_equal(e.n, 1);
	assert_null(e.v[0].file); /* quick mode: no file */
	assert_int_equal(e.v[0].line, 0);
	assert_string_equal(e.v[0].msg, "no services defined");
	conf_errs_free(&e);

	/* Neither backend nor exec, no listen: both reported. */
	struct conf_service *s = conf_service_add(c, "a");
	assert_int_equal(conf_validate(c, &e), -1);
	assert_int_equal(e.n, 2);
	assert_non_null(strstr(e.v[0].msg, "service \"a\": no listen address"));
	assert_non_null(
	    strstr(e.v[1].msg, "service \"a\": needs a backend or an exec"));
	assert_int_equal(e.v[0].line, 0);
	conf_errs_free(&e);

	/* Both backend and exec. */
	assert_int_equal(conf_service_add_listen(s, "127.0.0.1:7", NULL), 0);
	assert_int_equal(conf_parse_backend("127.0.0.1:8", s, NULL), 0);
	char *argv[] = {(char *)"/bin/cat", NULL};
	assert_int_equal(conf_service_set_exec(s, argv, NULL), 0);
	assert_int_equal(conf_validate(c, &e), -1);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.v[0].msg, "has both backend and exec"));
	conf_errs_free(&e);
	free(s->backend);
	s->backend = NULL;

	/* Same address twice across services; a second stdin. */
	struct conf_service *t = conf_service_add(c, "b");
	s = &c->services[0]; /* the array may have moved */
	assert_int_equal(conf_service_add_listen(t, "127.0.0.1:7", NULL), 0);
	assert_int_equal(conf_service_set_exec(t, argv, NULL), 0);
	assert_int_equal(conf_validate(c, &e), -1);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].msg,
	    "listen address \"127.0.0.1:7\" is "
	    "already used by service \"a\"");
	conf_errs_free(&e);

	/* Values set directly by a caller are checked too. */
	t->listen[0].port = 9;
	t->max_connections = 0;
	t->connect_timeout_ms = 0;
	assert_int_equal(conf_validate(c, &e), -1);
	assert_int_equal(e.n, 2);
	assert_non_null(strstr(e.v[0].msg, "max_connections must be at least"));
	assert_non_null(strstr(e.v[1].msg, "timeouts must not be 0"));
	conf_errs_free(&e);
	t->max_connections = 1;
	t->connect_timeout_ms = 1;

	/* daemon left NULL by a caller defaults to the name. */
	free(t->daemon);
	t->daemon = NULL;
	assert_int_equal(conf_validate(c, &e), 0);
	assert_string_equal(t->daemon, "b");
	/* errs may be NULL. */
	assert_int_equal(conf_validate(c, NULL), 0);
	conf_free(c);
}

static void
test_errs_print_forms(void **state)
{
	(void)state;
	struct conf_errs e = {0};
	struct wrapd_conf *c = conf_new();
	c->path = strdup("/etc/wrapd/wrapd.yaml");
	assert_int_equal(conf_validate(c, &e), -1);
	conf_free(c);
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	conf_errs_print(&e, fp);
	conf_errs_print(NULL, fp);
	fclose(fp);
	assert_string_equal(
	    buf, "/etc/wrapd/wrapd.yaml: no services defined\n");
	free(buf);
	conf_errs_free(&e);
	conf_errs_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_listen_good),
	    cmocka_unit_test(test_parse_listen_bad),
	    cmocka_unit_test(test_parse_backend),
	    cmocka_unit_test(test_service_add),
	    cmocka_unit_test(test_validate_quick),
	    cmocka_unit_test(test_errs_print_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
