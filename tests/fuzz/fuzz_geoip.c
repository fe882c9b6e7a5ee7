/*
 * fuzz_geoip.c - MaxMind DB files as proxy/geoip.c opens them.
 *
 * Input: the file.  It is opened as a country and as an ASN database;
 * whatever opens must answer every look-up (the check at open covers every
 * node and record, so no look-up may fail), and whatever does not must say
 * why.  The corpus holds the databases of tests/geoip/make_mmdb.pl.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "geoip.h"

/*
 * libmaxminddb 1.7.1 (Debian 12) leaks its decoding pool (4.6 KiB) when
 * MMDB_open() meets a file whose metadata languages or description do not
 * decode: MMDB_get_entry_data_list() hands back the list with its error,
 * and its caller there does not free it (later versions do).  Not wrapd's
 * leak, and only on such a refused file: LeakSanitizer is told so.
 */
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:libmaxminddb.so\n";
}

static void
fuzz_check(int cond)
{
	if (!cond)
		abort();
}

static void
fuzz_lookups(const struct geoip_db *db, enum geoip_kind kind)
{
	static const char *const addrs[] = {"127.0.0.2", "127.0.0.3",
	    "10.1.2.3", "0.0.0.0", "255.255.255.255", "::1", "2001:db8::1",
	    "::ffff:127.0.0.2", "2002:7f00:2::1", "ffff::1", "::"};
	size_t i;

	for (i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
		struct acl_geo geo;
		struct acl_addr a;
		enum acl_geo_state st;

		memset(&geo, 0, sizeof geo);
		fuzz_check(acl_addr_parse(&a, addrs[i]) == 0);
		geoip_db_lookup(db, kind, &a, &geo);
		st = kind == GEOIP_COUNTRY ? geo.country_state : geo.asn_state;
		fuzz_check(st == ACL_GEO_FOUND || st == ACL_GEO_NONE);
		if (st == ACL_GEO_FOUND && kind == GEOIP_COUNTRY)
			fuzz_check(strlen(geo.country) == 2);
		if (st == ACL_GEO_FOUND && kind == GEOIP_ASN)
			fuzz_check(geo.asn != 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	int fd, k;

	fd = memfd_create("fuzz-geoip", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	for (k = 0; k < 2; k++) {
		enum geoip_kind kind = k == 0 ? GEOIP_COUNTRY : GEOIP_ASN;
		struct geoip_db *db;

		err[0] = '\0';
		db = geoip_db_open(path, kind, NULL, NULL, err, sizeof err);
		if (db == NULL) {
			fuzz_check(err[0] != '\0');
			continue;
		}
		fuzz_lookups(db, kind);
		geoip_db_close(db);
	}
	close(fd);
	return 0;
}
