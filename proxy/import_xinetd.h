/*
 * import_xinetd.h - xinetd's configuration into imported services
 * (import.h).
 */
#ifndef WRAPD_IMPORT_XINETD_H
#define WRAPD_IMPORT_XINETD_H

#include "import.h"

/*
 * Read PATH into set: a directory (every file in it, as xinetd's
 * includedir reads them) or one file (whose includedir lines are
 * followed).  Notes on set->notes_fp.  0, or -1 when PATH cannot be read
 * (said on stderr, set->failed).
 */
int import_xinetd(struct import_set *set, const char *path);

#endif /* WRAPD_IMPORT_XINETD_H */
