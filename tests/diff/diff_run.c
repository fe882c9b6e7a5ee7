/*
 * diff_run.c - run one case on both sides and compare; on a mismatch print
 * a reproduction in the case-file format, ready to paste into cases/.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diff.h"

static const char *const verdict_names[] = {"grant", "deny", "twist", "FAILED"};

/*
 * Known, documented difference: for an IPv4-mapped client or server libwrap
 * (on a dual-stack socket) expands %a/%A/%h/%c/%s to "::ffff:a.b.c.d",
 * wrapd to the plain "a.b.c.d" (acl_addr normalises mapped addresses).
 * True when removing that prefix from libwrap's text gives wrapd's.
 */
static int
same_but_mapped(const char *lw, const char *wd)
{
	struct diff_buf b = {0};
	const char *p = lw;
	int same;

	diff_buf_add(&b, "", 0);
	while (*p != '\0') {
		if (strncmp(p, "::ffff:", 7) == 0 && p[7] >= '0' &&
		    p[7] <= '9') {
			p += 7;
			continue;
		}
		diff_buf_addc(&b, *p++);
	}
	same = strcmp(b.p, wd) == 0 && strcmp(lw, wd) != 0;
	diff_buf_free(&b);
	return same;
}

static int
write_file(const char *path, const char *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);

		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	return close(fd);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
materialise(const struct diff_case *c, const char *dir)
{
	char path[4096], *text;
	size_t i, len;

	if (mkdir(dir, 0755) != 0)
		return -1;
	for (i = 0; i < c->nsetup; i++) {
		char *s =
		    diff_subst(c->setup[i], strlen(c->setup[i]), dir, NULL);
		char a[1024], b[1024];
		int rc = -1;

		if (sscanf(s, "mkdir %1023s", a) == 1) {
			snprintf(path, sizeof(path), "%s/%s", dir, a);
			rc = mkdir(path, 0755);
		} else if (sscanf(s, "symlink %1023s %1023s", a, b) == 2) {
			snprintf(path, sizeof(path), "%s/%s", dir, a);
			rc = symlink(b, path);
		}
		free(s);
		if (rc != 0)
			return -1;
	}
	if (c->have_allow) {
		snprintf(path, sizeof(path), "%s/hosts.allow", dir);
		text = diff_subst(c->allow.p, c->allow.len, dir, &len);
		if (write_file(path, text, len) != 0) {
			free(text);
			return -1;
		}
		free(text);
	}
	if (c->have_deny) {
		snprintf(path, sizeof(path), "%s/hosts.deny", dir);
		text = diff_subst(c->deny.p, c->deny.len, dir, &len);
		if (write_file(path, text, len) != 0) {
			free(text);
			return -1;
		}
		free(text);
	}
	for (i = 0; i < c->nfiles; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, c->files[i].name);
		text = diff_subst(
		    c->files[i].text.p, c->files[i].text.len, dir, &len);
		if (write_file(path, text, len) != 0) {
			free(text);
			return -1;
		}
		free(text);
	}
	return 0;
}

/* Print bytes so that the case parser's esc mode reads them back. */
static void
print_esc(FILE *fp, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '\\')
			fputs("\\\\", fp);
		else if (ch == '\r')
			fputs("\\r", fp);
		else if (ch == '\t')
			fputs("\\t", fp);
		else if (ch == '\n')
			fputc('\n', fp);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(fp, "\\x%02x", ch);
		else
			fputc(ch, fp);
	}
}

static void
print_block(FILE *fp, const char *hdr, const struct diff_buf *b)
{
	int noeol = b->len == 0 || b->p[b->len - 1] != '\n';

	fprintf(fp, "--- %s esc%s\n", hdr, noeol ? " noeol" : "");
	print_esc(fp, b->p != NULL ? b->p : "", b->len);
	if (noeol)
		fputc('\n', fp);
}

static void
print_kv(FILE *fp, const char *k, const char *v)
{
	if (v == NULL)
		return;
	fprintf(fp, "%s ", k);
	print_esc(fp, v, strlen(v));
	fputc('\n', fp);
}

void diff_print_case(FILE *fp, const struct diff_case *c);

void
diff_print_case(FILE *fp, const struct diff_case *c)
{
	size_t i;

	fprintf(fp, "=== %s\n", c->title);
	if (c->have_allow)
		print_block(fp, "allow", &c->allow);
	if (c->have_deny)
		print_block(fp, "deny", &c->deny);
	for (i = 0; i < c->nfiles; i++) {
		char hdr[600];

		snprintf(hdr, sizeof(hdr), "file %s", c->files[i].name);
		print_block(fp, hdr, &c->files[i].text);
	}
	if (c->nsetup > 0) {
		fputs("--- setup\n", fp);
		for (i = 0; i < c->nsetup; i++)
			fprintf(fp, "%s\n", c->setup[i]);
	}
	fputs("--- request esc\n", fp);
	print_kv(fp, "daemon", c->daemon);
	print_kv(fp, "client", c->client);
	print_kv(fp, "name", c->name);
	print_kv(fp, "user", c->user);
	print_kv(fp, "server", c->server);
	print_kv(fp, "server-name", c->server_name);
	if (c->server_port >= 0)
		fprintf(fp, "server-port %d\n", c->server_port);
	if (c->client_port >= 0)
		fprintf(fp, "client-port %d\n", c->client_port);
	print_kv(fp, "allow-path", c->allow_path);
	print_kv(fp, "deny-path", c->deny_path);
	for (i = 0; i < c->nexpand; i++)
		print_kv(fp, "expand", c->expand[i]);
	print_kv(fp, "expect", c->expect);
	if (c->needs_root)
		fputs("needs-root yes\n", fp);
}

static void
print_outcome(FILE *fp, const char *who, const struct diff_outcome *o,
    const struct diff_case *c, const char *dir)
{
	size_t i, dl = strlen(dir);
	const char *f = o->file;

	if (strncmp(f, dir, dl) == 0)
		f += dl + 1;
	fprintf(fp, "# %-8s %s", who, verdict_names[o->verdict]);
	if (o->line > 0)
		fprintf(fp, ", matched %s line %d", f, o->line);
	else
		fputs(", no rule matched", fp);
	fputc('\n', fp);
	for (i = 0; i < c->nexpand; i++) {
		fprintf(fp, "#   expand[%zu] = ", i);
		if (o->expanded[i] != NULL) {
			fputc('"', fp);
			print_esc(fp, o->expanded[i], strlen(o->expanded[i]));
			fputs("\"\n", fp);
		} else {
			fputs("(failed)\n", fp);
		}
	}
	if (o->log[0] != '\0') {
		const char *p = o->log, *nl;

		while (*p != '\0') {
			nl = strchr(p, '\n');
			fprintf(fp, "#   log: %.*s\n",
			    (int)(nl ? nl - p : (long)strlen(p)), p);
			p = nl ? nl + 1 : p + strlen(p);
		}
	}
}

static void
outcome_free(struct diff_outcome *o, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(o->expanded[i]);
		o->expanded[i] = NULL;
	}
}

int
diff_run_case(const struct diff_case *c, const char *tmpdir,
    struct diff_stats *st, int report)
{
	static unsigned long serial;
	char dir[4096], *allow_path, *deny_path, def[4200];
	struct diff_outcome lw, wd;
	long pid = 0;
	size_t i;
	int bad = 0, expect_bad = 0, failed = 0, known = 0;

	if (c->needs_root && geteuid() != 0) {
		st->skipped++;
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/c%lu", tmpdir, serial++);
	if (materialise(c, dir) != 0) {
		fprintf(stderr, "%s: %s: cannot set up case: %s\n", c->where,
		    c->title, strerror(errno));
		st->failures++;
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		return 1;
	}
	snprintf(def, sizeof(def), "%s/hosts.allow", dir);
	allow_path = c->allow_path
	    ? diff_subst(c->allow_path, strlen(c->allow_path), dir, NULL)
	    : diff_strdup(def);
	snprintf(def, sizeof(def), "%s/hosts.deny", dir);
	deny_path = c->deny_path
	    ? diff_subst(c->deny_path, strlen(c->deny_path), dir, NULL)
	    : diff_strdup(def);

	if (diff_oracle(c, dir, allow_path, deny_path, &lw, &pid) != 0)
		failed = 1;
	if (diff_wrapd(c, dir, allow_path, deny_path, pid, &wd) != 0)
		failed = 1;
	if (!failed) {
		if (lw.verdict != wd.verdict || lw.line != wd.line ||
		    (lw.line > 0 && strcmp(lw.file, wd.file) != 0))
			bad = 1;
		for (i = 0; i < c->nexpand; i++) {
			if ((lw.expanded[i] == NULL) !=
			    (wd.expanded[i] == NULL))
				bad = 1;
			else if (lw.expanded[i] != NULL &&
			    same_but_mapped(lw.expanded[i], wd.expanded[i]))
				known = 1;
			else if (lw.expanded[i] != NULL &&
			    strcmp(lw.expanded[i], wd.expanded[i]) != 0)
				bad = 1;
		}
		if (c->expect != NULL &&
		    strcmp(c->expect, verdict_names[lw.verdict]) != 0)
			expect_bad = 1;
	}
	st->cases++;
	st->by_verdict[lw.verdict]++;
	if (lw.line > 0)
		st->matched++;
	if (failed)
		st->failures++;
	else if (bad)
		st->mismatches++;
	else if (known)
		st->known++;
	if (expect_bad)
		st->bad_expect++;
	if ((failed || bad || expect_bad) && report) {
		fprintf(stdout, "\n# MISMATCH at %s%s%s\n", c->where,
		    failed ? " (a side failed to decide)" : "",
		    expect_bad ? " (libwrap disagrees with `expect`)" : "");
		diff_print_case(stdout, c);
		print_outcome(stdout, "libwrap:", &lw, c, dir);
		print_outcome(stdout, "wrapd:", &wd, c, dir);
	} else if (known && st->verbose) {
		fprintf(stdout,
		    "\n# KNOWN DIFFERENCE (mapped address text) at "
		    "%s\n",
		    c->where);
		print_outcome(stdout, "libwrap:", &lw, c, dir);
		print_outcome(stdout, "wrapd:", &wd, c, dir);
	} else if (st->verbose) {
		fprintf(stdout, "ok   %s: %s -> %s\n", c->where, c->title,
		    verdict_names[lw.verdict]);
	}
	outcome_free(&lw, c->nexpand);
	outcome_free(&wd, c->nexpand);
	free(allow_path);
	free(deny_path);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return failed || bad || expect_bad;
}
