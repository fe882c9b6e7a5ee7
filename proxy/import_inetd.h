/*
 * import_inetd.h - an inetd.conf into imported services (import.h).
 */
#ifndef WRAPD_IMPORT_INETD_H
#define WRAPD_IMPORT_INETD_H

#include "import.h"

/*
 * Read FILE into set; every entry not mapped, and every part of one, is a
 * note on set->notes_fp.  0, or -1 when the file cannot be read (said on
 * stderr, set->failed).
 */
int import_inetd(struct import_set *set, const char *file);

#endif /* WRAPD_IMPORT_INETD_H */
