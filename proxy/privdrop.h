/*
 * privdrop.h - become an unprivileged user once the listeners are bound.
 */
#ifndef WRAPD_PRIVDROP_H
#define WRAPD_PRIVDROP_H

#include <stdbool.h>

/*
 * setgid, initgroups, setuid to user (a name or a numeric uid), then check
 * that root cannot be regained.  keep_net_admin: keep CAP_NET_ADMIN (and
 * no other capability) for transparent mode.  Call before any thread
 * starts: the threads made later inherit what the caller has.  0, or -1
 * with the reason logged.
 */
int privdrop(const char *user, bool keep_net_admin);

#endif /* WRAPD_PRIVDROP_H */
