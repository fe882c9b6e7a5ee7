/*
 * ftp.h - FTP through wrapd in forwarding mode (protocol: ftp): the
 * control connection is relayed by line (relay.c's copy path, with this
 * filter), passive replies are rewritten to a data port wrapd opens on the
 * address the client reached, and that port takes one connection, from
 * the control connection's client only, within timeouts.ftp_data; it is
 * relayed (spliced) to the port the server announced, on the backend's
 * own address.  Active mode (PORT, EPRT, LPRT) and LPSV are refused with
 * a 502 reply.  Every other byte passes unchanged (ftp.c).
 */
#ifndef WRAPD_FTP_H
#define WRAPD_FTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct conn;

/* Is c an FTP control connection (protocol ftp, not a data connection)? */
bool ftp_wanted(const struct conn *c);
/* The control connection is up: set up the helper.  0, or -1 (no memory). */
int ftp_start(struct conn *c);
/*
 * n bytes (at most FTP_READ_MAX) read from side d of an FTP control
 * connection: what goes on to the other side is written to out, which has
 * room for FTP_OUT_MAX bytes (each line of at least 5 bytes may become a
 * rewritten reply of at most 60; plus a held line and wrapd's replies).
 * Returns its length, or -1 when the connection must end (*why).
 */
#define FTP_READ_MAX 512
#define FTP_OUT_MAX  (FTP_READ_MAX * 12 + 1024)
ssize_t ftp_filter(struct conn *c, int d, const uint8_t *in, size_t n,
    uint8_t *out, const char **why);
/* The urgent byte b of direction d went on out of band (relay_urgent). */
void ftp_urgent(struct conn *c, int d, uint8_t b);
/* The sweep: close a data port nobody connected to in time. */
void ftp_sweep(struct conn *c, uint64_t now);
/* The connection is closing: close its data port; the helper goes. */
void ftp_release(struct conn *c);

#endif /* WRAPD_FTP_H */
