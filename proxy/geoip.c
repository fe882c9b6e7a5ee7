/*
 * geoip.c - MaxMind DB files for the country= and asn= patterns: open them
 * safely, check them whole, look clients up.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <maxminddb.h>

#include "geoip.h"

struct geoip_db {
	MMDB_s mmdb;
	enum geoip_kind kind;
};

/* Where each kind keeps its value in a record, and what it is called. */
static const char *const geoip_country_path[] = {"country", "iso_code", NULL};
static const char *const geoip_asn_path[] = {"autonomous_system_number", NULL};

static const char *const *
geoip_path(enum geoip_kind kind)
{
	return kind == GEOIP_COUNTRY ? geoip_country_path : geoip_asn_path;
}

static const char *
geoip_value_name(enum geoip_kind kind)
{
	return kind == GEOIP_COUNTRY ? "country.iso_code"
	                             : "autonomous_system_number";
}

/* ---------------------------------------------------------------------
 * Values.
 */
enum geoip_value {
	GEOIP_VALUE,    /* *geo holds it */
	GEOIP_NO_VALUE, /* the record has none: matches no pattern */
	GEOIP_BAD,      /* not what the kind holds: *why says what it is */
};

static bool
geoip_letter(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static enum geoip_value
geoip_country_of(
    const MMDB_entry_data_s *d, struct acl_geo *geo, char *why, size_t whysz)
{
	if (d->type != MMDB_DATA_TYPE_UTF8_STRING) {
		snprintf(
		    why, whysz, "is not a string (type %u)", (unsigned)d->type);
		return GEOIP_BAD;
	}
	if (d->data_size != 2 || !geoip_letter(d->utf8_string[0]) ||
	    !geoip_letter(d->utf8_string[1])) {
		snprintf(why, whysz, "is \"%.*s\", not two letters",
		    (int)(d->data_size < 16 ? d->data_size : 16),
		    d->utf8_string);
		return GEOIP_BAD;
	}
	geo->country[0] = (char)(d->utf8_string[0] & ~0x20);
	geo->country[1] = (char)(d->utf8_string[1] & ~0x20);
	geo->country[2] = '\0';
	return GEOIP_VALUE;
}

static enum geoip_value
geoip_asn_of(
    const MMDB_entry_data_s *d, struct acl_geo *geo, char *why, size_t whysz)
{
	uint64_t v;

	switch (d->type) {
	case MMDB_DATA_TYPE_UINT16:
		v = d->uint16;
		break;
	case MMDB_DATA_TYPE_UINT32:
		v = d->uint32;
		break;
	case MMDB_DATA_TYPE_UINT64:
		v = d->uint64;
		break;
	case MMDB_DATA_TYPE_INT32:
		if (d->int32 < 0) {
			snprintf(why, whysz, "is %ld, below 0", (long)d->int32);
			return GEOIP_BAD;
		}
		v = (uint64_t)d->int32;
		break;
	default:
		snprintf(
		    why, whysz, "is not a number (type %u)", (unsigned)d->type);
		return GEOIP_BAD;
	}
	if (v > UINT32_MAX) {
		snprintf(why, whysz, "is %llu, over 4294967295",
		    (unsigned long long)v);
		return GEOIP_BAD;
	}
	if (v == 0)
		return GEOIP_NO_VALUE; /* AS 0: not routed, no owner */
	geo->asn = (uint32_t)v;
	return GEOIP_VALUE;
}

/*
 * The value of kind in the record at entry.  MMDB errors other than "no
 * such key" are GEOIP_BAD with *mmdb_rc set.
 */
static enum geoip_value
geoip_value_of(const MMDB_entry_s *entry, enum geoip_kind kind,
    struct acl_geo *geo, int *mmdb_rc, char *why, size_t whysz)
{
	MMDB_entry_s e = *entry;
	MMDB_entry_data_s d;
	int rc;

	memset(&d, 0, sizeof d);
	rc = MMDB_aget_value(&e, &d, geoip_path(kind));
	*mmdb_rc = rc;
	if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
	    (rc == MMDB_SUCCESS && !d.has_data))
		return GEOIP_NO_VALUE;
	if (rc != MMDB_SUCCESS) {
		snprintf(why, whysz, "cannot be read (%s)", MMDB_strerror(rc));
		return GEOIP_BAD;
	}
	return kind == GEOIP_COUNTRY ? geoip_country_of(&d, geo, why, whysz)
	                             : geoip_asn_of(&d, geo, why, whysz);
}

/* ---------------------------------------------------------------------
 * Opening: a private, sealed copy of the file.
 */

/* Copy fd (a regular file of size bytes) into a new sealed memory file. */
static int
geoip_copy(int fd, off_t size, char *err, size_t errsz)
{
	char buf[65536];
	off_t done = 0;
	int mfd;

	mfd = memfd_create("wrapd-geoip", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0) {
		snprintf(err, errsz, "cannot make a memory file: %s",
		    strerror(errno));
		return -1;
	}
	while (done < size) {
		ssize_t n = read(fd, buf, sizeof buf), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errsz, "%s",
			    n < 0 ? strerror(errno)
			          : "the file got shorter while it was read");
			close(mfd);
			return -1;
		}
		while (w < n) {
			ssize_t k = write(mfd, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				snprintf(err, errsz,
				    "cannot copy it to memory: %s",
				    k < 0 ? strerror(errno) : "short write");
				close(mfd);
				return -1;
			}
			w += k;
		}
		done += n;
	}
	/* Nobody, wrapd included, may change it any more. */
	if (fcntl(mfd, F_ADD_SEALS,
	        F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		snprintf(err, errsz, "cannot seal the memory file: %s",
		    strerror(errno));
		close(mfd);
		return -1;
	}
	return mfd;
}

/*
 * The file at path as a sealed memory file, checked to be a regular file
 * of a sane size that did not change while it was copied.  -1 and *err.
 */
static int
geoip_read(const char *path, char *err, size_t errsz)
{
	struct stat before, after;
	int fd, mfd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errsz, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &before) < 0) {
		snprintf(err, errsz, "cannot stat: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(before.st_mode) || before.st_size == 0 ||
	    (uint64_t)before.st_size > GEOIP_FILE_MAX) {
		snprintf(err, errsz, "%s",
		    !S_ISREG(before.st_mode) ? "not a regular file"
		        : before.st_size == 0
		        ? "an empty file: not a MaxMind DB"
		        : "larger than 1 GiB");
		close(fd);
		return -1;
	}
	mfd = geoip_copy(fd, before.st_size, err, errsz);
	if (mfd >= 0 &&
	    (fstat(fd, &after) < 0 || after.st_size != before.st_size ||
	        after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
	        after.st_mtim.tv_nsec != before.st_mtim.tv_nsec)) {
		snprintf(err, errsz, "the file changed while it was read");
		close(mfd);
		mfd = -1;
	}
	close(fd);
	return mfd;
}

/* Does the database say it is of kind?  The type names the content. */
static bool
geoip_type_fits(const char *type, enum geoip_kind kind)
{
	static const char *const country[] = {
	    "Country", "City", "Enterprise", NULL};
	static const char *const asn[] = {"ASN", "ISP", NULL};
	const char *const *w = kind == GEOIP_COUNTRY ? country : asn;

	for (; type != NULL && *w != NULL; w++)
		if (strcasestr(type, *w) != NULL)
			return true;
	return false;
}

/* A set of data offsets already checked: records are shared by networks. */
struct geoip_seen {
	uint32_t *v; /* offset + 1; 0 is free */
	size_t cap, n;
};

/* 1 if off was new (and is now in the set), 0 if seen, -1 out of memory. */
static int
geoip_seen_add(struct geoip_seen *s, uint32_t off)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		struct geoip_seen g = {NULL, s->cap ? 2 * s->cap : 1024, 0};
		size_t j;

		if ((g.v = calloc(g.cap, sizeof *g.v)) == NULL)
			return -1;
		for (j = 0; j < s->cap; j++)
			if (s->v[j] != 0)
				(void)geoip_seen_add(&g, s->v[j] - 1);
		free(s->v);
		*s = g;
	}
	for (i = (off * 2654435761u) & (s->cap - 1); s->v[i] != 0;
	     i = (i + 1) & (s->cap - 1))
		if (s->v[i] == off + 1)
			return 0;
	s->v[i] = off + 1;
	s->n++;
	return 1;
}

struct geoip_check {
	const MMDB_s *mmdb;
	enum geoip_kind kind;
	struct geoip_seen seen;
	size_t values; /* records with a value of the kind */
};

/* One record of a node: 0, or -1 with *err. */
static int
geoip_check_record(struct geoip_check *ck, uint32_t node, uint8_t type,
    const MMDB_entry_s *entry, char *err, size_t errsz)
{
	struct acl_geo geo;
	char why[96];
	int rc;

	if (type == MMDB_RECORD_TYPE_INVALID) {
		snprintf(err, errsz,
		    "corrupt: node %lu of the search tree points outside "
		    "the file",
		    (unsigned long)node);
		return -1;
	}
	if (type != MMDB_RECORD_TYPE_DATA)
		return 0;
	switch (geoip_seen_add(&ck->seen, entry->offset)) {
	case 0:
		return 0;
	case 1:
		break;
	default:
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	switch (geoip_value_of(entry, ck->kind, &geo, &rc, why, sizeof why)) {
	case GEOIP_VALUE:
		ck->values++;
		return 0;
	case GEOIP_NO_VALUE:
		return 0;
	default:
		snprintf(err, errsz,
		    "%s: the %s of the record at offset %lu %s",
		    rc != MMDB_SUCCESS ? "corrupt"
		                       : "not a database of this kind",
		    geoip_value_name(ck->kind), (unsigned long)entry->offset,
		    why);
		return -1;
	}
}

/*
 * The tree's shape: a look-up takes one bit of the address per node, so
 * every path from the root must end in a record (data or empty) within as
 * many nodes as the address has bits (mmdb->depth), or a look-up would run
 * out of bits at a node, or around a loop.  height[] holds each node's
 * longest path to a record in nodes (0: not known yet, UINT8_MAX: on the
 * path being followed).  The recursion is at most mmdb->depth deep.
 */
static int
geoip_height(const MMDB_s *mmdb, uint8_t *height, uint32_t node, unsigned room)
{
	MMDB_search_node_s n;
	unsigned h = 0;
	int hl = 0, hr = 0;

	if (height[node] == UINT8_MAX || room == 0)
		return -1; /* a loop, or deeper than the address */
	if (height[node] != 0)
		return height[node] <= room ? height[node] : -1;
	if (MMDB_read_node(mmdb, node, &n) != MMDB_SUCCESS)
		return -1;
	height[node] = UINT8_MAX;
	if (n.left_record_type == MMDB_RECORD_TYPE_SEARCH_NODE)
		hl = geoip_height(
		    mmdb, height, (uint32_t)n.left_record, room - 1);
	if (hl >= 0 && n.right_record_type == MMDB_RECORD_TYPE_SEARCH_NODE)
		hr = geoip_height(
		    mmdb, height, (uint32_t)n.right_record, room - 1);
	if (hl < 0 || hr < 0)
		return -1;
	h = 1 + (unsigned)(hl > hr ? hl : hr);
	height[node] = (uint8_t)h;
	return (int)h;
}

/*
 * Every node and every record it points to, and the shape of the tree, so
 * that no look-up can fail later: 0, or -1 with *err.
 */
static int
geoip_check(const MMDB_s *mmdb, enum geoip_kind kind, char *err, size_t errsz)
{
	struct geoip_check ck = {mmdb, kind, {NULL, 0, 0}, 0};
	MMDB_search_node_s n;
	uint8_t *height;
	uint32_t node;
	int rc = 0;

	/* A depth over 254 would not fit height[]; MMDB's is 32 or 128. */
	if (mmdb->depth > 254 || mmdb->metadata.node_count == 0) {
		snprintf(err, errsz,
		    "corrupt: a search tree of %lu nodes, "
		    "%u bits deep",
		    (unsigned long)mmdb->metadata.node_count,
		    (unsigned)mmdb->depth);
		return -1;
	}
	height = calloc(mmdb->metadata.node_count, 1);
	if (height == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (geoip_height(mmdb, height, 0, mmdb->depth) < 0) {
		snprintf(err, errsz,
		    "corrupt: the search tree has a loop, or a path longer "
		    "than the %u bits of an address",
		    (unsigned)mmdb->depth);
		rc = -1;
	}
	free(height);
	for (node = 0; node < mmdb->metadata.node_count && rc == 0; node++) {
		int mr = MMDB_read_node(mmdb, node, &n);

		if (mr != MMDB_SUCCESS) {
			snprintf(err, errsz, "corrupt: node %lu: %s",
			    (unsigned long)node, MMDB_strerror(mr));
			rc = -1;
			break;
		}
		rc = geoip_check_record(&ck, node, n.left_record_type,
		    &n.left_record_entry, err, errsz);
		if (rc == 0)
			rc = geoip_check_record(&ck, node, n.right_record_type,
			    &n.right_record_entry, err, errsz);
	}
	free(ck.seen.v);
	if (rc == 0 && ck.values == 0) {
		snprintf(err, errsz, "no record holds a %s: not a %s database",
		    geoip_value_name(kind),
		    kind == GEOIP_COUNTRY ? "country" : "ASN");
		rc = -1;
	}
	return rc;
}

struct geoip_db *
geoip_db_open(const char *path, enum geoip_kind kind, acl_vet_fn *vet,
    void *vet_arg, char *err, size_t errsz)
{
	struct geoip_db *db;
	char proc[64];
	int mfd, rc;

	if (vet != NULL && vet(vet_arg, path, err, errsz) != 0)
		return NULL;
	if ((db = calloc(1, sizeof *db)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	db->kind = kind;
	if ((mfd = geoip_read(path, err, errsz)) < 0) {
		free(db);
		return NULL;
	}
	/* libmaxminddb opens by name: the memory file's, not the path's. */
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", mfd);
	rc = MMDB_open(proc, MMDB_MODE_MMAP, &db->mmdb);
	close(mfd); /* the mapping keeps it */
	if (rc != MMDB_SUCCESS) {
		if (rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR)
			snprintf(err, errsz, "cannot map its copy: %s (%s)",
			    MMDB_strerror(rc), strerror(errno));
		else
			snprintf(err, errsz,
			    "not a MaxMind DB file, or cut short: %s",
			    MMDB_strerror(rc));
		free(db);
		return NULL;
	}
	if (!geoip_type_fits(db->mmdb.metadata.database_type, kind)) {
		snprintf(err, errsz,
		    "database type \"%.64s\" is not %s database (one whose "
		    "type names %s)",
		    db->mmdb.metadata.database_type != NULL
		        ? db->mmdb.metadata.database_type
		        : "",
		    kind == GEOIP_COUNTRY ? "a country" : "an ASN",
		    kind == GEOIP_COUNTRY ? "Country, City or Enterprise"
		                          : "ASN or ISP");
		geoip_db_close(db);
		return NULL;
	}
	if (geoip_check(&db->mmdb, kind, err, errsz) != 0) {
		geoip_db_close(db);
		return NULL;
	}
	return db;
}

void
geoip_db_close(struct geoip_db *db)
{
	if (db == NULL)
		return;
	MMDB_close(&db->mmdb);
	free(db);
}

const char *
geoip_db_type(const struct geoip_db *db)
{
	return db->mmdb.metadata.database_type;
}

/* ---------------------------------------------------------------------
 * Look-ups.
 */
static void
geoip_set(struct acl_geo *geo, enum geoip_kind kind, enum acl_geo_state st)
{
	if (kind == GEOIP_COUNTRY)
		geo->country_state = st;
	else
		geo->asn_state = st;
}

void
geoip_db_lookup(const struct geoip_db *db, enum geoip_kind kind,
    const struct acl_addr *a, struct acl_geo *geo)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	const struct sockaddr *sa;
	MMDB_lookup_result_s res;
	char why[96];
	int err = MMDB_SUCCESS, rc;

	if (db == NULL || db->kind != kind) {
		geoip_set(geo, kind, ACL_GEO_FAILED);
		return;
	}
	if (a->family == AF_INET) {
		memset(&s4, 0, sizeof s4);
		s4.sin_family = AF_INET;
		memcpy(&s4.sin_addr, a->bytes, 4);
		sa = (const struct sockaddr *)&s4;
	} else if (a->family == AF_INET6) {
		memset(&s6, 0, sizeof s6);
		s6.sin6_family = AF_INET6;
		memcpy(&s6.sin6_addr, a->bytes, 16);
		sa = (const struct sockaddr *)&s6;
	} else {
		geoip_set(geo, kind, ACL_GEO_NONE); /* no address: no network */
		return;
	}
	res = MMDB_lookup_sockaddr(&db->mmdb, sa, &err);
	if (err == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) {
		geoip_set(geo, kind, ACL_GEO_NONE);
		return;
	}
	if (err != MMDB_SUCCESS) {
		geoip_set(geo, kind, ACL_GEO_FAILED);
		return;
	}
	if (!res.found_entry) {
		geoip_set(geo, kind, ACL_GEO_NONE);
		return;
	}
	switch (geoip_value_of(&res.entry, kind, geo, &rc, why, sizeof why)) {
	case GEOIP_VALUE:
		geoip_set(geo, kind, ACL_GEO_FOUND);
		break;
	case GEOIP_NO_VALUE:
		geoip_set(geo, kind, ACL_GEO_NONE);
		break;
	default:
		geoip_set(geo, kind, ACL_GEO_FAILED); /* checked at open */
		break;
	}
}

/* ---------------------------------------------------------------------
 * The pair a snapshot holds.
 */
int
geoip_open(struct geoip *g, const char *country_path, const char *asn_path,
    acl_vet_fn *vet, void *vet_arg,
    void (*report)(void *arg, const char *path, const char *msg),
    void *report_arg)
{
	const char *paths[2] = {country_path, asn_path};
	struct geoip_db *dbs[2] = {NULL, NULL};
	char err[512];
	int k, rc = 0;

	for (k = 0; k < 2; k++) {
		if (paths[k] == NULL)
			continue;
		dbs[k] =
		    geoip_db_open(paths[k], k == 0 ? GEOIP_COUNTRY : GEOIP_ASN,
		        vet, vet_arg, err, sizeof err);
		if (dbs[k] == NULL) {
			if (report != NULL)
				report(report_arg, paths[k], err);
			rc = -1;
		}
	}
	if (rc != 0) {
		geoip_db_close(dbs[0]);
		geoip_db_close(dbs[1]);
		dbs[0] = dbs[1] = NULL;
	}
	g->country = dbs[0];
	g->asn = dbs[1];
	return rc;
}

void
geoip_close(struct geoip *g)
{
	geoip_db_close(g->country);
	geoip_db_close(g->asn);
	g->country = g->asn = NULL;
}

unsigned
geoip_have(const struct geoip *g)
{
	return (g->country != NULL ? ACL_GEO_COUNTRY : 0u) |
	    (g->asn != NULL ? ACL_GEO_ASN : 0u);
}

void
geoip_fill(const struct geoip *g, const struct acl_ruleset *rs,
    struct acl_request *req)
{
	unsigned uses = acl_ruleset_geo_uses(rs);

	if (uses & ACL_GEO_COUNTRY)
		geoip_db_lookup(
		    g->country, GEOIP_COUNTRY, &req->client.addr, &req->geo);
	if (uses & ACL_GEO_ASN)
		geoip_db_lookup(
		    g->asn, GEOIP_ASN, &req->client.addr, &req->geo);
}
