/*
 * sdnotify.h - the systemd readiness protocol, without libsystemd: one
 * datagram to $NOTIFY_SOCKET per state change.
 */
#ifndef WRAPD_SDNOTIFY_H
#define WRAPD_SDNOTIFY_H

/* Read and unset NOTIFY_SOCKET (children must not inherit it). */
void sdnotify_init(void);
/* Send msg ("READY=1", ...); a no-op when not under systemd. */
void sdnotify(const char *msg);

#endif /* WRAPD_SDNOTIFY_H */
