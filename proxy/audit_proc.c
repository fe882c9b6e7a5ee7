/*
 * audit_proc.c - listening sockets and their holders from /proc (see
 * audit_proc.h).
 *
 * The kernel prints a socket's address as 32-bit words in host byte order
 * ("0100007F:0016" is 127.0.0.1:22 on a little-endian machine): each word
 * is parsed as a number and stored in memory as the kernel held it, which
 * gives the address in network order on any machine.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_proc.h"

#define AUDIT_PROC_MAX_SOCKS  1000000 /* a bound on what /proc may list */
#define AUDIT_PROC_TCP_LISTEN 0x0A
#define AUDIT_PROC_TCP_CLOSE  0x07 /* an unconnected UDP socket */

/* A hex number of exactly len digits at s; -1 if it is not one. */
static int
audit_proc_hex(const char *s, size_t len, uint32_t *v)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -1;
		n = n << 4 | (uint32_t)d;
	}
	*v = n;
	return 0;
}

/* "0100007F:0016" (8 or 32 address digits by family) into addr and port. */
static int
audit_proc_addr(
    const char *tok, int family, unsigned char *addr, uint16_t *port)
{
	size_t words = family == AF_INET ? 1 : 4, i;
	uint32_t w, p;

	if (strlen(tok) != words * 8 + 5 || tok[words * 8] != ':')
		return -1;
	for (i = 0; i < words; i++) {
		if (audit_proc_hex(tok + i * 8, 8, &w) != 0)
			return -1;
		memcpy(addr + i * 4, &w, 4);
	}
	if (audit_proc_hex(tok + words * 8 + 1, 4, &p) != 0)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

int
audit_proc_parse_line(const char *line, int proto, int family,
    struct audit_proc_sock *s, bool *listening)
{
	char buf[512], *tok[10], *save = NULL, *p;
	unsigned char raddr[16];
	uint16_t rport;
	uint32_t st;
	unsigned long inode;
	size_t n = 0;
	char *end;

	if (strlen(line) >= sizeof buf)
		return -1;
	strcpy(buf, line);
	for (p = strtok_r(buf, " \t\n", &save); p != NULL && n < 10;
	     p = strtok_r(NULL, " \t\n", &save))
		tok[n++] = p;
	/* sl local rem st queues timer retrnsmt uid timeout inode */
	if (n < 10)
		return -1;
	memset(s, 0, sizeof *s);
	memset(raddr, 0, sizeof raddr);
	s->proto = proto;
	s->family = family;
	if (audit_proc_addr(tok[1], family, s->addr, &s->port) != 0 ||
	    audit_proc_addr(tok[2], family, raddr, &rport) != 0 ||
	    strlen(tok[3]) != 2 || audit_proc_hex(tok[3], 2, &st) != 0)
		return -1;
	if (!isdigit((unsigned char)tok[9][0]))
		return -1;
	errno = 0;
	inode = strtoul(tok[9], &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	s->inode = inode;
	if (proto == IPPROTO_TCP)
		*listening = st == AUDIT_PROC_TCP_LISTEN;
	else
		*listening = st == AUDIT_PROC_TCP_CLOSE && rport == 0;
	return 0;
}

bool
audit_proc_is_loopback(int family, const unsigned char *a)
{
	static const unsigned char v6lo[16] = {[15] = 1};
	static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};

	if (family == AF_INET)
		return a[0] == 127;
	if (memcmp(a, v6lo, 16) == 0)
		return true;
	return memcmp(a, mapped, 12) == 0 && a[12] == 127;
}

bool
audit_proc_is_wildcard(int family, const unsigned char *a)
{
	static const unsigned char zero[16];

	return memcmp(a, zero, family == AF_INET ? 4 : 16) == 0;
}

static int
audit_proc_push(struct audit_proc_socks *out, const struct audit_proc_sock *s)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 64;
		struct audit_proc_sock *v;

		if (out->n >= AUDIT_PROC_MAX_SOCKS)
			return -1;
		v = realloc(out->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		out->v = v;
		out->cap = cap;
	}
	out->v[out->n++] = *s;
	return 0;
}

/* One /proc/net file; a missing optional one is skipped. */
static int
audit_proc_read_table(const char *proc, const char *name, int proto, int family,
    bool required, struct audit_proc_socks *out, char *err, size_t errlen)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;
	int rc = 0, first = 1;

	snprintf(path, sizeof path, "%s/net/%s", proc, name);
	if ((fp = fopen(path, "re")) == NULL) {
		if (!required && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, fp)) > 0) {
		struct audit_proc_sock s;
		bool listening;

		if (first) { /* the column titles */
			first = 0;
			continue;
		}
		if (audit_proc_parse_line(
		        line, proto, family, &s, &listening) != 0 ||
		    !listening)
			continue;
		if (audit_proc_push(out, &s) != 0) {
			snprintf(err, errlen, "%s: too many sockets", path);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	free(line);
	fclose(fp);
	return rc;
}

static int
audit_proc_by_inode(const void *a, const void *b)
{
	const struct audit_proc_sock *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/*
 * Is PID a wrapd?  Its executable is this program, or it is named wrapd
 * and runs as root (a user can name a program wrapd, but cannot make it
 * root; a spoofed comm is never trusted).
 */
static bool
audit_proc_is_wrapd(const char *proc, const char *pid, const char *self_exe)
{
	char path[PATH_MAX], exe[PATH_MAX];
	const char *base;
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof path, "%s/%s/exe", proc, pid);
	if ((n = readlink(path, exe, sizeof exe - 1)) <= 0)
		return false;
	exe[n] = '\0';
	if (self_exe[0] != '\0' && strcmp(exe, self_exe) == 0)
		return true;
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	snprintf(path, sizeof path, "%s/%s", proc, pid);
	return (strcmp(base, "wrapd") == 0 ||
	           strcmp(base, "wrapd (deleted)") == 0) &&
	    stat(path, &st) == 0 && st.st_uid == 0;
}

/* The process name: /proc/PID/comm without its final newline. */
static void
audit_proc_comm(const char *proc, const char *pid, char *comm, size_t size)
{
	char path[PATH_MAX];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof path, "%s/%s/comm", proc, pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, comm, size - 1);
		close(fd);
	}
	if (n < 0)
		n = 0;
	comm[n] = '\0';
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
	/* A NUL inside ends the name: what is left is shown. */
}

/* The socket inode of an fd link "socket:[12345]", or 0. */
static unsigned long
audit_proc_fd_inode(int dirfd, const char *name)
{
	char link[64], *end;
	unsigned long inode;
	ssize_t n = readlinkat(dirfd, name, link, sizeof link - 1);

	if (n <= 9)
		return 0;
	link[n] = '\0';
	if (strncmp(link, "socket:[", 8) != 0 ||
	    !isdigit((unsigned char)link[8]))
		return 0;
	inode = strtoul(link + 8, &end, 10);
	return strcmp(end, "]") == 0 ? inode : 0;
}

/* Record pid as a holder of the socket at inode, if it is one we list. */
static void
audit_proc_hold(struct audit_proc_socks *out, unsigned long inode, pid_t pid,
    const char *comm, bool wrapd)
{
	struct audit_proc_sock key, *s;

	if (out->n == 0)
		return; /* no sockets: out->v is NULL, which bsearch() may not get */
	key.inode = inode;
	s = bsearch(&key, out->v, out->n, sizeof *s, audit_proc_by_inode);
	if (s == NULL)
		return;
	/* Sockets of one inode may be listed twice (v4 and v6 tables
	 * never share one, but be safe): back up to the first. */
	while (s > out->v && s[-1].inode == inode)
		s--;
	for (; s < out->v + out->n && s->inode == inode; s++) {
		s->nholders++;
		if (s->pid == 0 || (wrapd && !s->by_wrapd) ||
		    (wrapd == s->by_wrapd && pid < s->pid)) {
			s->pid = pid;
			snprintf(s->comm, sizeof s->comm, "%s", comm);
		}
		s->by_wrapd |= wrapd;
	}
}

/* Every process's fds: who holds which listed socket. */
static void
audit_proc_holders(const char *proc, struct audit_proc_socks *out)
{
	char self_exe[PATH_MAX], path[PATH_MAX];
	struct dirent *de, *fe;
	DIR *pd, *fd;
	ssize_t n;

	snprintf(path, sizeof path, "%s/self/exe", proc);
	n = readlink(path, self_exe, sizeof self_exe - 1);
	self_exe[n > 0 ? n : 0] = '\0';
	if ((pd = opendir(proc)) == NULL)
		return;
	while ((de = readdir(pd)) != NULL) {
		char comm[AUDIT_PROC_COMM_MAX], *end;
		bool wrapd = false, named = false;
		long pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid > INT_MAX)
			continue;
		snprintf(path, sizeof path, "%s/%s/fd", proc, de->d_name);
		if ((fd = opendir(path)) == NULL)
			continue; /* gone, or another user's */
		while ((fe = readdir(fd)) != NULL) {
			unsigned long inode;

			if (fe->d_name[0] == '.')
				continue;
			inode = audit_proc_fd_inode(dirfd(fd), fe->d_name);
			if (inode == 0)
				continue;
			if (!named) {
				audit_proc_comm(
				    proc, de->d_name, comm, sizeof comm);
				wrapd = audit_proc_is_wrapd(
				    proc, de->d_name, self_exe);
				named = true;
			}
			audit_proc_hold(out, inode, (pid_t)pid, comm, wrapd);
		}
		closedir(fd);
	}
	closedir(pd);
}

int
audit_proc_read(
    const char *proc, struct audit_proc_socks *out, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		int proto, family;
		bool required;
	} tables[] = {
	    {"tcp", IPPROTO_TCP, AF_INET, true},
	    {"tcp6", IPPROTO_TCP, AF_INET6, false},
	    {"udp", IPPROTO_UDP, AF_INET, true},
	    {"udp6", IPPROTO_UDP, AF_INET6, false},
	};
	size_t i;

	memset(out, 0, sizeof *out);
	for (i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		if (audit_proc_read_table(proc, tables[i].name, tables[i].proto,
		        tables[i].family, tables[i].required, out, err,
		        errlen) != 0) {
			audit_proc_free(out);
			return -1;
		}
	}
	if (out->n > 0)
		qsort(out->v, out->n, sizeof *out->v, audit_proc_by_inode);
	audit_proc_holders(proc, out);
	return 0;
}

void
audit_proc_free(struct audit_proc_socks *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}
