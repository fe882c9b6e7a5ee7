/*
 * test_audit_proc.c - the /proc reader of `wrapd audit` on a fake /proc
 * tree: well-formed and hostile /proc/net lines, fd links, process names
 * with any byte.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit_proc.h"

#define TCP_HEAD                                                               \
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "  \
	"retrnsmt   uid  timeout inode\n"

/* The kernel's text for an IPv4 address: its 32-bit word in host order. */
static void
v4_word(const char *dotted, char *out)
{
	uint32_t w;
	unsigned char b[4];

	assert_int_equal(inet_pton(AF_INET, dotted, b), 1);
	memcpy(&w, b, 4);
	sprintf(out, "%08X", w);
}

static void
test_parse_line_v4(void **state)
{
	struct audit_proc_sock s;
	char line[256], lo[9], zero[9];
	bool listening;

	(void)state;
	v4_word("127.0.0.1", lo);
	v4_word("0.0.0.0", zero);
	snprintf(line, sizeof line,
	    "   0: %s:0016 %s:0000 0A 00000000:00000000 00:00000000 "
	    "00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n",
	    lo, zero);
	assert_int_equal(
	    audit_proc_parse_line(line, IPPROTO_TCP, AF_INET, &s, &listening),
	    0);
	assert_true(listening);
	assert_int_equal(s.port, 22);
	assert_int_equal(s.inode, 12345);
	assert_true(audit_proc_is_loopback(AF_INET, s.addr));
	assert_false(audit_proc_is_wildcard(AF_INET, s.addr));

	/* ESTABLISHED (01) is not listening; UDP 07 with a peer is not. */
	memcpy(strstr(line, " 0A ") + 1, "01", 2);
	assert_int_equal(
	    audit_proc_parse_line(line, IPPROTO_TCP, AF_INET, &s, &listening),
	    0);
	assert_false(listening);
}

static void
test_parse_line_v6(void **state)
{
	struct audit_proc_sock s;
	bool listening;
	const char *line =
	    "   0: 00000000000000000000000000000000:0050 "
	    "00000000000000000000000000000000:0000 07 00000000:00000000 "
	    "00:00000000 00000000     0        0 777 2 0000000000000000 0\n";

	(void)state;
	assert_int_equal(
	    audit_proc_parse_line(line, IPPROTO_UDP, AF_INET6, &s, &listening),
	    0);
	assert_true(listening);
	assert_int_equal(s.port, 80);
	assert_true(audit_proc_is_wildcard(AF_INET6, s.addr));
	assert_false(audit_proc_is_loopback(AF_INET6, s.addr));
}

static void
test_parse_line_hostile(void **state)
{
	static const char *const bad[] = {
	    "",
	    "garbage\n",
	    "   0: 0100007F:0016\n",
	    "   0: 0100007G:0016 00000000:0000 0A 0 0 0 0 0 1\n",
	    "   0: 0100007F:016 00000000:0000 0A 0 0 0 0 0 1\n",
	    "   0: 0100007F:0016 00000000:0000 A 0 0 0 0 0 1\n",
	    "   0: 0100007F:0016 00000000:0000 0A 0 0 0 0 0 -1\n",
	    "   0: 0100007F:0016 00000000:0000 0A 0 0 0 0 0 1x\n",
	    ("   0: 0100007F:0016 00000000:0000 0A 0 0 0 0 0 "
	     "99999999999999999999999999\n"),
	    "   0: 0100007F:0016 00000000:0000 0A 0 0 0 0 0 \x01\n",
	};
	struct audit_proc_sock s;
	char longline[2048];
	bool listening;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(audit_proc_parse_line(bad[i], IPPROTO_TCP,
		                     AF_INET, &s, &listening),
		    -1);
	/* An IPv4-length address in the IPv6 table is no address. */
	assert_int_equal(audit_proc_parse_line(
	                     "   0: 0100007F:0016 00000000:0000 0A 0 0 0 0 0 1",
	                     IPPROTO_TCP, AF_INET6, &s, &listening),
	    -1);
	memset(longline, 'A', sizeof longline - 1);
	longline[sizeof longline - 1] = '\0';
	assert_int_equal(audit_proc_parse_line(
	                     longline, IPPROTO_TCP, AF_INET, &s, &listening),
	    -1);
}

static void
test_loopback_mapped(void **state)
{
	unsigned char a[16];

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.2", a), 1);
	assert_true(audit_proc_is_loopback(AF_INET6, a));
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.1", a), 1);
	assert_false(audit_proc_is_loopback(AF_INET6, a));
	assert_int_equal(inet_pton(AF_INET6, "::1", a), 1);
	assert_true(audit_proc_is_loopback(AF_INET6, a));
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	fclose(fp);
}

/* A fake /proc: two sockets, one held by a process with a hostile name. */
static void
test_read_fake_proc(void **state)
{
	char dir[] = "/tmp/wrapd-test-audit-proc.XXXXXX", p[512], tcp[1024];
	char zero[9];
	static const char comm[] = "\x1b[2J\xff\n";
	struct audit_proc_socks socks;
	char err[256];
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	v4_word("0.0.0.0", zero);
	snprintf(p, sizeof p, "%s/net", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(tcp, sizeof tcp,
	    TCP_HEAD "   0: %s:0017 %s:0000 0A 0 0 0 0 0 4242\n"
	             "   1: %s:0018 %s:0000 0A 0 0 0 0 0 4343\n"
	             "junk that is no socket line\n"
	             "   2: %s:0019 %s:0000 01 0 0 0 0 0 4444\n",
	    zero, zero, zero, zero, zero, zero);
	snprintf(p, sizeof p, "%s/net/tcp", dir);
	write_file(p, tcp, strlen(tcp));
	snprintf(p, sizeof p, "%s/net/udp", dir);
	write_file(p, TCP_HEAD, strlen(TCP_HEAD));
	/* process 77 holds socket 4242 (fd 3) and junk links */
	snprintf(p, sizeof p, "%s/77", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/77/fd", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/77/fd/3", dir);
	assert_int_equal(symlink("socket:[4242]", p), 0);
	snprintf(p, sizeof p, "%s/77/fd/4", dir);
	assert_int_equal(symlink("socket:[4242", p), 0);
	snprintf(p, sizeof p, "%s/77/fd/5", dir);
	assert_int_equal(symlink("pipe:[4343]", p), 0);
	snprintf(p, sizeof p, "%s/77/comm", dir);
	write_file(p, comm, sizeof comm - 1);
	/* a directory that is no process */
	snprintf(p, sizeof p, "%s/77x", dir);
	assert_int_equal(mkdir(p, 0755), 0);

	assert_int_equal(audit_proc_read(dir, &socks, err, sizeof err), 0);
	assert_int_equal(socks.n, 2);
	for (i = 0; i < socks.n; i++) {
		if (socks.v[i].inode == 4242) {
			assert_int_equal(socks.v[i].pid, 77);
			assert_string_equal(socks.v[i].comm, "\x1b[2J\xff");
			assert_int_equal(socks.v[i].nholders, 1);
			assert_false(socks.v[i].by_wrapd);
		} else {
			assert_int_equal(socks.v[i].inode, 4343);
			assert_int_equal(socks.v[i].pid, 0);
		}
	}
	audit_proc_free(&socks);

	/* no tcp table: an error, not an empty list */
	snprintf(p, sizeof p, "%s/net/tcp", dir);
	unlink(p);
	assert_int_equal(audit_proc_read(dir, &socks, err, sizeof err), -1);
	assert_non_null(strstr(err, "net/tcp"));

	snprintf(p, sizeof p, "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_line_v4),
	    cmocka_unit_test(test_parse_line_v6),
	    cmocka_unit_test(test_parse_line_hostile),
	    cmocka_unit_test(test_loopback_mapped),
	    cmocka_unit_test(test_read_fake_proc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
