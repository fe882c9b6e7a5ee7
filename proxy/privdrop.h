/*
 * privdrop.h - become an unprivileged user once the listeners are bound.
 */
#ifndef WRAPD_PRIVDROP_H
#define WRAPD_PRIVDROP_H

/*
 * setgid, initgroups, setuid to user (a name or a numeric uid), then check
 * that root cannot be regained.  Call before any thread starts.  0, or -1
 * with the reason logged.
 */
int privdrop(const char *user);

#endif /* WRAPD_PRIVDROP_H */
