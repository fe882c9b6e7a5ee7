/*
 * audit_proc.h - the listening sockets of this host and the processes that
 * hold them, read from /proc (for `wrapd audit`; no netstat or ss).
 *
 * /proc/net/{tcp,tcp6,udp,udp6} give each socket's local address, state
 * and inode; /proc/PID/fd/N links ("socket:[INODE]") give its holders.
 * Everything read is untrusted text: lines that do not parse are skipped,
 * and process names are kept as the bytes they are (any byte but NUL).
 *
 * Dependencies: libc only.
 */
#ifndef WRAPD_AUDIT_PROC_H
#define WRAPD_AUDIT_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AUDIT_PROC_COMM_MAX 64 /* the kernel's comm is 16 bytes */

struct audit_proc_sock {
	int proto;              /* IPPROTO_TCP or IPPROTO_UDP */
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* network order; IPv4 in the first 4 */
	uint16_t port;
	unsigned long inode;
	/* The holder shown: a wrapd process if one holds it, else the lowest
	 * PID.  pid 0: no holder visible (another user's, or gone). */
	pid_t pid;
	char comm[AUDIT_PROC_COMM_MAX]; /* raw bytes, NUL-terminated */
	bool by_wrapd; /* some holder is wrapd (audit_proc_is_wrapd) */
	unsigned nholders;
};

struct audit_proc_socks {
	struct audit_proc_sock *v;
	size_t n, cap;
};

/*
 * Read the listening TCP sockets and the unconnected UDP sockets of the
 * current network namespace from PROC (normally "/proc") and their
 * holders.  A missing tcp6/udp6 file (IPv6 off) is no error.  0, or -1
 * with a reason in err (a missing or unreadable /proc/net/tcp, no memory).
 */
int audit_proc_read(
    const char *proc, struct audit_proc_socks *out, char *err, size_t errlen);
void audit_proc_free(struct audit_proc_socks *s);

/*
 * Parse one line of /proc/net/{tcp,udp}{,6} (family AF_INET or AF_INET6)
 * into s (addresses, port, inode); *listening says whether it is a
 * listening TCP socket or an unconnected UDP one.  0, or -1 if the line
 * does not have that form.
 */
int audit_proc_parse_line(const char *line, int proto, int family,
    struct audit_proc_sock *s, bool *listening);

/* Is the address loopback (127/8, ::1, ::ffff:127.0.0.0/104)? */
bool audit_proc_is_loopback(int family, const unsigned char *addr);
/* Is it the wildcard (0.0.0.0, ::)? */
bool audit_proc_is_wildcard(int family, const unsigned char *addr);

#endif /* WRAPD_AUDIT_PROC_H */
