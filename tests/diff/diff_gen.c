/*
 * diff_gen.c - seeded random cases for the differential test.
 *
 * Each case is a pure function of (seed, index), so a mismatch is
 * reproduced with DIFF_SEED / DIFF_ONLY.  Patterns are drawn from every form
 * of hosts_access(5) (host, net/mask, IPv6, wildcards, user@host,
 * daemon@host, ports, /file, @netgroup, EXCEPT), options from
 * hosts_options(5) including broken ones, and line noise (comments, CR,
 * continuations, missing colon, missing final newline, over-long lines).
 *
 * Left out on purpose, as known, documented differences: nested /file
 * patterns, expansions longer than 8191 bytes (libwrap exits), failing
 * aclexec commands (the dry run never runs them), and the `user`/`group`
 * options: only libwrap's dry run really calls setuid()/setgid() (tcpd
 * never does, semantics F12), so after `user nobody` a later `group x`
 * fails in the oracle only.  Curated cases cover user/group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"

struct rng {
	unsigned long long s;
};

static unsigned long long
rng_next(struct rng *r)
{
	unsigned long long z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t
pick(struct rng *r, size_t n)
{
	return (size_t)(rng_next(r) % n);
}

/* True with probability pct percent. */
static int
chance(struct rng *r, unsigned pct)
{
	return pick(r, 100) < pct;
}

#define PICK(r, arr) ((arr)[pick((r), sizeof(arr) / sizeof((arr)[0]))])

static const char *const g_clients[] = {"10.0.0.1", "10.0.0.2", "10.1.2.3",
    "192.168.1.10", "127.0.0.1", "::1", "2001:db8::1", "2001:db8:0:1::5",
    "::ffff:10.0.0.1", "::ffff:192.168.1.10", "unknown", "10.0.0.1", "10.0.0.1",
    "2001:DB8::1"};
static const char *const g_names[] = {NULL, NULL, "foo.example.com",
    "FOO.Example.COM", "bar.example.org", "host1", "localhost", "unknown",
    "paranoid", "www.example.com", "foo", "evil;rm -rf /", "sp ace.example.com",
    "\xc3\xbcn\xc3\xaf.example", "x`id`$(id)"};
static const char *const g_users[] = {
    NULL, NULL, "unknown", "alice", "bob", "root", "Alice", "a b;c"};
static const char *const g_daemons[] = {"sshd", "sshd", "in.ftpd", "vsftpd",
    "smtp", "SSHD", "unknown", "@x", NULL, "22"};
static const char *const g_servers[] = {
    NULL, "10.0.0.254", "::1", "::ffff:10.0.0.254", "10.0.0.254"};
static const char *const g_snames[] = {
    NULL, "srv.example.com", "srv", "unknown", "paranoid"};
static const int g_sports[] = {22, 21, 25, 2222, 0, 22};
static const int g_cports[] = {-1, 1234, 40000};

static const char *const g_hosts[] = {"ALL", "all", "KNOWN", "UNKNOWN", "LOCAL",
    "PARANOID", "paranoid", "Known", "10.0.0.1", "10.0.0.2", "192.168.1.10",
    "127.0.0.1", ".example.com", ".EXAMPLE.COM", ".com", ".1", "foo.", "10.",
    "10.0.", "10.0.0.", "192.168.", "10.1.", "www.", "foo.example.com", "host1",
    "localhost", "bar.example.org", "unknown", "*.example.com", "10.0.0.?",
    "foo*", "*", "*.org", "?ost1", "10.*", "*:*", "10.0.0.0/255.255.255.0",
    "10.0.0.0/8", "10.0.0.0/24", "10.0.0.1/32", "10.0.0.1/24", "0.0.0.0/0",
    "0.0.0.0/0.0.0.0", "010.0.0.0/255.0.0.0", "0x0a.0.0.0/8",
    "10.0.0.0/255.255.255.255", "10.0.0.0/33", "10.0.0.0/12junk",
    "10.0.0.0/255.0.255.0", "192.168.0.0/16", "10.0/8", "[::1]",
    "[2001:db8::1]", "[2001:DB8:0::1]", "[2001:db8::]/32", "[::]/0",
    "[::ffff:0:0]/96", "[2001:db8::]/129", "[2001:db8::]/-1",
    "[2001:db8:0:1::]/64", "[::ffff:10.0.0.1]", "2001:db8::1", "@grp",
    "@netgroup", "/FILE", "/FILE", "::1", "[10.0.0.1]", "[", "]"};
static const char *const g_upats[] = {"alice", "ALL", "KNOWN", "UNKNOWN", "a*",
    "root", "bob", "@x", ".ice", "al?ce"};
static const char *const g_daemon_items[] = {"ALL", "ALL", "sshd", "sshd",
    "SSHD", "in.*", "*d", "vsftpd", "in.ftpd", "smtp", "KNOWN", "UNKNOWN", "22",
    "0022", "+22", "65536", "2222", "0x16", "25", "0", "@x", ".ftpd", "in.",
    "sshd@10.0.0.254", "ALL@srv.example.com", "sshd@[::1]", "ALL@LOCAL",
    "sshd@KNOWN", "ALL@10.0.0.0/24", "ALL@.example.com", "/FILE", "sshd@/FILE",
    "ALL@UNKNOWN", "ALL@PARANOID", "22@10.0.0.254"};
static const char *const g_seps[] = {", ", " ", ",", "\t", " , ", ",,", ", "};

static const char *const g_opt_mid[] = {"spawn echo %a %n",
    "spawn (/bin/true %d) &", "setenv FOO %h", "umask 022", "nice", "nice 5",
    "nice = 5", "keepalive", "linger 5", "linger 0", "severity auth.info",
    "severity=local0.notice", "severity warning", "rfc931", "rfc931 3",
    "banners ${DIR}/nonexistent", "spawn echo a\\:b", "aclexec true %a",
    "SPAWN echo x", "setenv A", "setenv B  %u  ", "umask 0777"};
static const char *const g_opt_last[] = {
    "allow", "deny", "ALLOW", "Deny", "twist echo %u %c", "twist /bin/echo %s"};
static const char *const g_opt_bad[] = {"nosuchoption", "", "rfc931 0",
    "rfc931 x", "umask 999", "umask 8", "nice x", "linger -1", "linger x",
    "severity bogus", "severity auth.bogus", "keepalive 1", "allow 1",
    "user nosuchuserxyz", "group nosuchgroupxyz", "spawn", "twist", " ",
    "umask", "linger", "setenv"};

static const char *const g_exp_tokens[] = {"%a", "%A", "%n", "%N", "%h", "%H",
    "%c", "%s", "%d", "%r", "%R", "%u", "%p", "%%", "%x", "% ", "echo ", ";",
    " ", "\xc3\xa9", "$(id)", "x", "%"};

/* Append s, sometimes with its letters' case flipped at random. */
static void
add_word(struct rng *r, struct diff_buf *b, const char *s)
{
	size_t i;

	if (!chance(r, 10)) {
		diff_buf_adds(b, s);
		return;
	}
	for (i = 0; s[i] != '\0'; i++) {
		char ch = s[i];

		if (chance(r, 50) && ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		else if (chance(r, 50) && ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		diff_buf_addc(b, ch);
	}
}

static void
add_host_item(struct rng *r, struct diff_buf *b)
{
	if (chance(r, 12)) {
		add_word(r, b, PICK(r, g_upats));
		diff_buf_addc(b, '@');
	}
	add_word(r, b, PICK(r, g_hosts));
}

static void
add_list(struct rng *r, struct diff_buf *b, int daemon)
{
	size_t n = 1 + pick(r, 3), i;

	if (chance(r, 3)) {
		diff_buf_adds(b, "EXCEPT ");
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			diff_buf_adds(b, PICK(r, g_seps));
		if (daemon)
			add_word(r, b, PICK(r, g_daemon_items));
		else
			add_host_item(r, b);
	}
	if (chance(r, 25)) {
		diff_buf_adds(b, chance(r, 80) ? " EXCEPT " : " except ");
		n = 1 + pick(r, 2);
		for (i = 0; i < n; i++) {
			if (i > 0)
				diff_buf_adds(b, PICK(r, g_seps));
			if (daemon)
				add_word(r, b, PICK(r, g_daemon_items));
			else
				add_host_item(r, b);
		}
		if (chance(r, 15)) {
			diff_buf_adds(b, " EXCEPT ");
			if (daemon)
				diff_buf_adds(b, PICK(r, g_daemon_items));
			else
				add_host_item(r, b);
		}
	}
	if (chance(r, 2))
		diff_buf_adds(b, " EXCEPT");
}

static void
add_options(struct rng *r, struct diff_buf *b)
{
	size_t n = 1 + pick(r, 3), i;

	for (i = 0; i < n; i++) {
		const char *o;

		if (i > 0)
			diff_buf_adds(b, chance(r, 80) ? ": " : ":");
		if (chance(r, 12))
			o = PICK(r, g_opt_bad);
		else if ((i + 1 == n && chance(r, 40)) || chance(r, 4))
			o = PICK(r, g_opt_last); /* not last: an error */
		else
			o = PICK(r, g_opt_mid);
		if (chance(r, 10))
			diff_buf_adds(b,
			    PICK(r, ((const char *const[]){" ", "\t", "  "})));
		if (chance(r, 10) && strchr(o, ' ') != NULL) {
			/* "keyword value" -> "keyword<sep>value" */
			size_t k = strcspn(o, " ");

			diff_buf_add(b, o, k);
			diff_buf_adds(b,
			    PICK(r,
			        ((const char *const[]){
			            "=", " = ", "\t", " =", "= "})));
			diff_buf_adds(b, o + k + 1);
		} else {
			add_word(r, b, o);
		}
		if (chance(r, 8))
			diff_buf_adds(b,
			    PICK(r, ((const char *const[]){" ", "\t", "\r"})));
	}
}

/* One logical line (with its newline), possibly noisy. */
static void
add_line(struct rng *r, struct diff_buf *b)
{
	struct diff_buf l = {0};
	size_t i;

	diff_buf_add(&l, "", 0);
	if (chance(r, 6)) {
		diff_buf_adds(&l,
		    chance(r, 50) ? "# a comment ALL: ALL" : "#sshd: ALL \\");
	} else if (chance(r, 4)) {
		diff_buf_adds(&l,
		    PICK(r, ((const char *const[]){"", " \t", "\r", "   "})));
	} else if (chance(r, 3)) {
		diff_buf_adds(&l, "sshd ALL no colon here");
	} else {
		if (chance(r, 3))
			diff_buf_adds(&l, "  # ");
		add_list(r, &l, 1);
		diff_buf_adds(&l,
		    PICK(r, ((const char *const[]){": ", ":", " : ", ": "})));
		add_list(r, &l, 0);
		if (chance(r, 45)) {
			diff_buf_adds(&l, chance(r, 85) ? ": " : ":");
			add_options(r, &l);
		}
		if (chance(r, 1)) {
			/* Over-long: past libwrap's 2047-byte buffer. */
			diff_buf_adds(&l, " ");
			for (i = 0; i < 230; i++)
				diff_buf_adds(&l, "10.9.9.9 ");
		}
	}
	/* Continuation: split the line at a blank. */
	if (chance(r, 6) && l.len > 4) {
		char *sp = strchr(l.p + 1, ' ');

		if (sp != NULL) {
			size_t at = (size_t)(sp - l.p);
			struct diff_buf m = {0};

			diff_buf_add(&m, l.p, at);
			diff_buf_adds(&m, chance(r, 85) ? "\\\n" : "\\\r\n");
			diff_buf_adds(&m, l.p + at + (chance(r, 50) ? 1 : 0));
			diff_buf_free(&l);
			l = m;
		}
	}
	diff_buf_add(b, l.p, l.len);
	diff_buf_adds(b, chance(r, 5) ? "\r\n" : "\n");
	diff_buf_free(&l);
}

static void
add_table(struct rng *r, struct diff_buf *b)
{
	size_t n = pick(r, 8), i;

	diff_buf_add(b, "", 0);
	for (i = 0; i < n; i++)
		add_line(r, b);
	if (b->len > 0 && chance(r, 3))
		b->p[--b->len] = '\0'; /* no final newline */
}

static char *
gen_template(struct rng *r)
{
	struct diff_buf b = {0};
	size_t n = 1 + pick(r, 6), i;

	diff_buf_add(&b, "", 0);
	for (i = 0; i < n; i++)
		diff_buf_adds(&b, PICK(r, g_exp_tokens));
	return b.p;
}

static void
replace_file_refs(struct diff_buf *b)
{
	char *s;
	size_t len;

	/* "/FILE" -> "${DIR}/hosts.list"; done on the text as a whole. */
	if (b->p == NULL || strstr(b->p, "/FILE") == NULL)
		return;
	{
		struct diff_buf o = {0};
		const char *p = b->p;

		diff_buf_add(&o, "", 0);
		while ((s = strstr(p, "/FILE")) != NULL) {
			diff_buf_add(&o, p, (size_t)(s - p));
			diff_buf_adds(&o, "${DIR}/hosts.list");
			p = s + 5;
		}
		len = strlen(p);
		diff_buf_add(&o, p, len);
		diff_buf_free(b);
		*b = o;
	}
}

void
diff_gen_case(unsigned long long seed, unsigned long idx, struct diff_case *c)
{
	struct rng r;
	char where[128];
	size_t i, n;

	/* Hash (seed, idx) so that neighbouring cases share no stream. */
	r.s = seed;
	r.s = rng_next(&r) ^ ((unsigned long long)idx * 0xd1342543de82ef95ULL);
	r.s = rng_next(&r);
	memset(c, 0, sizeof(*c));
	snprintf(where, sizeof(where), "seed %llu case %lu", seed, idx);
	c->where = diff_strdup(where);
	c->title = diff_strdup(where);
	c->server_port = -1;
	c->client_port = -1;

	c->have_allow = !chance(&r, 8);
	c->have_deny = !chance(&r, 8);
	if (c->have_allow)
		add_table(&r, &c->allow);
	if (c->have_deny)
		add_table(&r, &c->deny);
	replace_file_refs(&c->allow);
	replace_file_refs(&c->deny);
	if ((c->allow.p && strstr(c->allow.p, "hosts.list")) ||
	    (c->deny.p && strstr(c->deny.p, "hosts.list"))) {
		struct diff_buf *t = &c->files[0].text;

		c->files[0].name = diff_strdup("hosts.list");
		c->nfiles = 1;
		diff_buf_add(t, "", 0);
		n = 1 + pick(&r, 4);
		for (i = 0; i < n; i++) {
			const char *h;

			do
				h = PICK(&r, g_hosts);
			while (strcmp(h, "/FILE") == 0);
			if (chance(&r, 10))
				diff_buf_adds(t, "# comment ");
			diff_buf_adds(t, h);
			diff_buf_adds(t, chance(&r, 50) ? "\n" : " \t");
		}
		if (chance(&r, 10))
			diff_buf_adds(t, "@grp 10.0.0.0/8\n");
	}

	c->client = diff_strdup(PICK(&r, g_clients));
	c->name = diff_strdup(PICK(&r, g_names));
	c->user = diff_strdup(PICK(&r, g_users));
	c->daemon = diff_strdup(PICK(&r, g_daemons));
	c->server = diff_strdup(PICK(&r, g_servers));
	if (c->server != NULL)
		c->server_port = PICK(&r, g_sports);
	c->server_name = diff_strdup(PICK(&r, g_snames));
	if (strcmp(c->client, "unknown") != 0)
		c->client_port = PICK(&r, g_cports);
	if (chance(&r, 30)) {
		n = 1 + pick(&r, 2);
		for (i = 0; i < n; i++)
			c->expand[c->nexpand++] = gen_template(&r);
	}
}
