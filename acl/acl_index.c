/*
 * acl_index.c - the address index: which rules (or /file words) can match
 * an address, without looking at the others.
 *
 * Keys are (family, prefix length, masked address).  Family 4 holds IPv4
 * net/mask patterns, family 5 IPv4 address text patterns ("10.0.0.1",
 * "10.1."), family 6 IPv6.  4 and 5 differ in one case only: libwrap's
 * net/mask code cannot parse the client address 255.255.255.255 (it is
 * INADDR_NONE), so that address never matches a net/mask, while it does
 * match its own text.  Families ACL_IFAM_COUNTRY and ACL_IFAM_ASN key the
 * GeoIP patterns by their value, one prefix length each: an address never
 * looks there, a GeoIP fact looks nowhere else.
 *
 * Per distinct (family, prefix length) there is one open-addressing hash
 * table from masked address to a run of ids, ascending.  A lookup probes
 * each prefix length once: at most 33 + 33 + 129 probes, whatever the
 * number of patterns.
 */
#include <stdlib.h>
#include <string.h>

#include "acl_int.h"

int
acl__ikeys_add(struct acl_ikeys *k, int fam, unsigned plen, const uint8_t *addr,
    uint32_t id)
{
	struct acl_ikey *e;
	size_t alen = fam == 6 ? 16 : 4;
	unsigned i, p = plen;

	if (k->n == k->cap) {
		size_t nc = k->cap ? k->cap * 2 : 64;
		struct acl_ikey *nv = realloc(k->v, nc * sizeof(*nv));

		if (nv == NULL)
			return -1;
		k->v = nv;
		k->cap = nc;
	}
	e = &k->v[k->n++];
	memset(e, 0, sizeof(*e));
	e->fam = (uint8_t)fam;
	e->plen = (uint8_t)plen;
	e->id = id;
	memcpy(e->addr, addr, alen);
	for (i = 0; i < alen; i++) {
		if (p >= 8) {
			p -= 8;
		} else {
			e->addr[i] &= (uint8_t)(0xff00u >> p);
			p = 0;
		}
	}
	return 0;
}

static int
acl_index_ikey_cmp(const void *pa, const void *pb)
{
	const struct acl_ikey *a = pa, *b = pb;
	int c;

	if (a->fam != b->fam)
		return a->fam < b->fam ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	if ((c = memcmp(a->addr, b->addr, 16)) != 0)
		return c;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return 0;
}

static uint64_t
acl_index_ihash(const uint8_t *a)
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	x ^= y * 0x9e3779b97f4a7c15ull;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 32;
	return x;
}

int
acl__index_build(
    struct acl_arena *ar, struct acl_index *idx, struct acl_ikeys *keys)
{
	size_t i, j, n = 0, ngroups = 0, g;

	memset(idx, 0, sizeof(*idx));
	if (keys->n == 0)
		return 0;
	qsort(keys->v, keys->n, sizeof(*keys->v), acl_index_ikey_cmp);
	/* Drop duplicates (same key, same id). */
	for (i = 0; i < keys->n; i++)
		if (n == 0 ||
		    acl_index_ikey_cmp(&keys->v[n - 1], &keys->v[i]) != 0)
			keys->v[n++] = keys->v[i];
	keys->n = n;
	idx->ids = acl__alloc(ar, n * sizeof(*idx->ids));
	if (idx->ids == NULL)
		return -1;
	idx->nids = n;
	for (i = 0; i < n; i++) {
		idx->ids[i] = keys->v[i].id;
		if (i == 0 || keys->v[i].fam != keys->v[i - 1].fam ||
		    keys->v[i].plen != keys->v[i - 1].plen)
			ngroups++;
	}
	idx->plens = acl__zalloc(ar, ngroups * sizeof(*idx->plens));
	if (idx->plens == NULL)
		return -1;
	idx->nplens = ngroups;
	for (i = 0, g = 0; i < n; i = j, g++) {
		struct acl_iplen *pl = &idx->plens[g];
		size_t distinct = 0, k;
		uint32_t nb = 4;

		for (j = i; j < n && keys->v[j].fam == keys->v[i].fam &&
		     keys->v[j].plen == keys->v[i].plen;
		     j++)
			if (j == i ||
			    memcmp(keys->v[j].addr, keys->v[j - 1].addr, 16) !=
			        0)
				distinct++;
		while (nb < 2 * distinct)
			nb *= 2;
		pl->fam = keys->v[i].fam;
		pl->plen = keys->v[i].plen;
		pl->nbuckets = nb;
		pl->buckets = acl__zalloc(ar, nb * sizeof(*pl->buckets));
		if (pl->buckets == NULL)
			return -1;
		for (k = i; k < j;) {
			size_t e = k;
			uint64_t h;
			struct acl_ibucket *b;

			while (e < j &&
			    memcmp(keys->v[e].addr, keys->v[k].addr, 16) == 0)
				e++;
			h = acl_index_ihash(keys->v[k].addr) & (nb - 1);
			while (pl->buckets[h].used)
				h = (h + 1) & (nb - 1);
			b = &pl->buckets[h];
			b->used = true;
			memcpy(b->addr, keys->v[k].addr, 16);
			b->start = (uint32_t)k;
			b->count = (uint32_t)(e - k);
			k = e;
		}
	}
	return 0;
}

size_t
acl__index_lookup(const struct acl_index *idx, const struct acl_addr *addr,
    struct acl_irange *out, size_t max)
{
	size_t i, found = 0;
	bool bcast;

	if (addr->family != AF_INET && addr->family != AF_INET6)
		return 0;
	bcast = addr->family == AF_INET && addr->bytes[0] == 0xff &&
	    addr->bytes[1] == 0xff && addr->bytes[2] == 0xff &&
	    addr->bytes[3] == 0xff;
	for (i = 0; i < idx->nplens && found < max; i++) {
		const struct acl_iplen *pl = &idx->plens[i];
		uint8_t key[16] = {0};
		unsigned alen, p, k;
		uint64_t h;

		if (addr->family == AF_INET) {
			if ((pl->fam != 4 && pl->fam != 5) ||
			    (pl->fam == 4 && bcast))
				continue;
			alen = 4;
		} else {
			if (pl->fam != 6)
				continue;
			alen = 16;
		}
		memcpy(key, addr->bytes, alen);
		for (k = 0, p = pl->plen; k < alen; k++) {
			if (p >= 8) {
				p -= 8;
			} else {
				key[k] &= (uint8_t)(0xff00u >> p);
				p = 0;
			}
		}
		h = acl_index_ihash(key) & (pl->nbuckets - 1);
		while (pl->buckets[h].used) {
			if (memcmp(pl->buckets[h].addr, key, 16) == 0) {
				out[found].ids =
				    idx->ids + pl->buckets[h].start;
				out[found].n = pl->buckets[h].count;
				out[found].fam = pl->fam;
				out[found].plen = pl->plen;
				found++;
				break;
			}
			h = (h + 1) & (pl->nbuckets - 1);
		}
	}
	return found;
}

size_t
acl__index_lookup_geo(const struct acl_index *idx, unsigned fam,
    const uint8_t key4[4], struct acl_irange *out)
{
	uint8_t key[16] = {0};
	size_t i;
	uint64_t h;

	memcpy(key, key4, fam == ACL_IFAM_COUNTRY ? 2 : 4);
	for (i = 0; i < idx->nplens; i++) {
		const struct acl_iplen *pl = &idx->plens[i];

		if (pl->fam != fam)
			continue;
		h = acl_index_ihash(key) & (pl->nbuckets - 1);
		for (; pl->buckets[h].used; h = (h + 1) & (pl->nbuckets - 1)) {
			if (memcmp(pl->buckets[h].addr, key, 16) != 0)
				continue;
			out->ids = idx->ids + pl->buckets[h].start;
			out->n = pl->buckets[h].count;
			out->fam = pl->fam;
			out->plen = pl->plen;
			return 1;
		}
		return 0;
	}
	return 0;
}

/* Rule i goes on the list of each GeoIP fact its head is keyed by. */
static int
acl_index_note_geo(struct acl_ruleset *rs, struct acl_tab *tab,
    const struct acl_seg *head, uint32_t i)
{
	unsigned geo = 0, k;

	for (k = 0; k < head->n; k++)
		geo |= acl__hostpat_geo(&head->items[k].host);
	for (k = 0; k < 2; k++) {
		if (!(geo & (k == 0 ? ACL_GEO_COUNTRY : ACL_GEO_ASN)))
			continue;
		if (tab->geo_ids[k] == NULL) {
			tab->geo_ids[k] = acl__alloc(
			    &rs->arena, tab->nrules * sizeof(*tab->geo_ids[k]));
			if (tab->geo_ids[k] == NULL)
				return -1;
		}
		tab->geo_ids[k][tab->ngeo_ids[k]++] = i;
	}
	return 0;
}

/*
 * Index a table: rules whose client-list head is made only of indexable
 * address (or GeoIP) patterns are found through the index, all others are
 * always candidates.
 */
int
acl__build_index(struct acl_ruleset *rs, struct acl_tab *tab)
{
	struct acl_ikeys keys = {0};
	size_t i, nal = 0;
	int err = 0;

	tab->always = acl__alloc(
	    &rs->arena, (tab->nrules ? tab->nrules : 1) * sizeof(*tab->always));
	if (tab->always == NULL)
		return -1;
	for (i = 0; i < tab->nrules && err == 0; i++) {
		struct acl_irule *r = &tab->rules[i];
		const struct acl_seg *head =
		    r->clients.nseg > 0 ? &r->clients.segs[0] : NULL;
		bool ok = head != NULL;
		unsigned k;

		for (k = 0; ok && k < head->n; k++) {
			const struct acl_item *it = &head->items[k];

			ok = !it->has_name &&
			    acl__hostpat_keys(&it->host, NULL, 0, &err);
		}
		if (!ok) {
			tab->always[nal++] = (uint32_t)i;
			continue;
		}
		r->indexed = true;
		for (k = 0; k < head->n; k++)
			acl__hostpat_keys(
			    &head->items[k].host, &keys, (uint32_t)i, &err);
		if (err == 0 &&
		    acl_index_note_geo(rs, tab, head, (uint32_t)i) != 0)
			err = -1;
	}
	tab->nalways = nal;
	if (err == 0)
		err = acl__index_build(&rs->arena, &tab->idx, &keys);
	free(keys.v);
	return err;
}
