/*
 * geoip.h - the client's country and network owner (AS number) from
 * MaxMind DB files, for the rules' country= and asn= patterns: the facts of
 * struct acl_geo (acl.h).
 *
 * Opening a database copies the file into a sealed memory file and checks
 * all of it before any client is decided with it: the metadata's
 * database_type, every node of the search tree, and every record a node
 * points to (a country database must give two-letter codes, an ASN
 * database numbers from 1 to 4294967295).  So a look-up cannot meet a
 * corrupt byte, and replacing the file on disk, in place or by rename,
 * cannot change or cut short what a running snapshot reads.  Look-ups only
 * read: any number of threads may share one database.
 *
 * Dependencies: libmaxminddb and libc (acl.h for the types).  No libuv and
 * no logging: errors come back as text, so that `wrapd check` and `wrapd
 * match` open databases exactly as the proxy does.
 */
#ifndef WRAPD_GEOIP_H
#define WRAPD_GEOIP_H

#include <stddef.h>

#include "acl.h"

/* Databases larger than this are refused (each snapshot holds a copy). */
#define GEOIP_FILE_MAX (1024u * 1024 * 1024)

enum geoip_kind {
	GEOIP_COUNTRY, /* country.iso_code: GeoIP2/GeoLite2 Country, City */
	GEOIP_ASN,     /* autonomous_system_number: GeoLite2 ASN, GeoIP2 ISP */
};

struct geoip_db;

/*
 * Open the database at path as one of kind, after asking vet (may be NULL;
 * acl.h) whether the file may be used.  NULL on any problem, with one
 * sentence in err saying what (not a MaxMind DB, cut short, corrupt, of
 * another type).
 */
struct geoip_db *geoip_db_open(const char *path, enum geoip_kind kind,
    acl_vet_fn *vet, void *vet_arg, char *err, size_t errsz);
void geoip_db_close(struct geoip_db *db);
/* The metadata's database_type, such as "GeoLite2-Country". */
const char *geoip_db_type(const struct geoip_db *db);

/*
 * Look a up in db and store the fact of db's kind in *geo: ACL_GEO_FOUND,
 * ACL_GEO_NONE (a is in no network of db, or its network has no value; an
 * unknown address too), or ACL_GEO_FAILED (db is NULL, or the look-up
 * failed).  An IPv4-mapped IPv6 address is looked up as IPv4.
 */
void geoip_db_lookup(const struct geoip_db *db, enum geoip_kind kind,
    const struct acl_addr *a, struct acl_geo *geo);

/* The databases of a snapshot, or of a command; either may be NULL. */
struct geoip {
	struct geoip_db *country;
	struct geoip_db *asn;
};

/*
 * Open the databases at the paths (NULL: none), all of them, calling
 * report with the path and the problem for each that fails.  0, or -1 when
 * one failed (g then holds none).
 */
int geoip_open(struct geoip *g, const char *country_path, const char *asn_path,
    acl_vet_fn *vet, void *vet_arg,
    void (*report)(void *arg, const char *path, const char *msg),
    void *report_arg);
void geoip_close(struct geoip *g);
/* The facts g can give (enum acl_geo_bits), for acl_load_opts.geo. */
unsigned geoip_have(const struct geoip *g);

/*
 * Fill req->geo for the client address with the facts the rules use
 * (acl_ruleset_geo_uses): nothing at all for rules without country= or
 * asn= patterns.  A fact whose database g lacks is ACL_GEO_FAILED.
 */
void geoip_fill(const struct geoip *g, const struct acl_ruleset *rs,
    struct acl_request *req);

#endif /* WRAPD_GEOIP_H */
