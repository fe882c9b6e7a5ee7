/*
 * snapshot.c - build a snapshot off to the side; share what did not change.
 */
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "admit.h"
#include "conf_trust.h"
#include "log.h"
#include "snapshot.h"
#include "transparent.h"

static struct svc_state *
snapshot_svc_state_get(
    const struct snapshot *old, const char *name, unsigned workers)
{
	struct svc_state *st;
	size_t i;

	for (i = 0; old != NULL && i < old->nsvc; i++) {
		st = old->svc[i].st;
		if (strcmp(st->name, name) == 0) {
			atomic_fetch_add(&st->refs, 1);
			return st;
		}
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if ((st->name = strdup(name)) == NULL ||
	    (st->sources = source_counts_new()) == NULL ||
	    (st->admit = admit_state_new()) == NULL ||
	    metrics_svc_init(&st->metrics, workers) < 0) {
		source_counts_free(st->sources);
		admit_state_free(st->admit);
		free(st->name);
		free(st);
		return NULL;
	}
	atomic_init(&st->refs, 1);
	atomic_init(&st->active, 0);
	atomic_init(&st->waiters, 0);
	atomic_init(&st->looking, 0);
	return st;
}

void
snapshot_svc_state_unref(struct svc_state *st)
{
	if (st == NULL || atomic_fetch_sub(&st->refs, 1) != 1)
		return;
	source_counts_free(st->sources);
	admit_state_free(st->admit);
	metrics_svc_free(&st->metrics);
	free(st->name);
	free(st);
}

static struct lsock *
snapshot_find_lsock(const struct snapshot *old, const char *key)
{
	size_t i;

	for (i = 0; old != NULL && i < old->nbind; i++)
		if (strcmp(old->bind[i].ls->key, key) == 0)
			return listener_ref(old->bind[i].ls);
	return NULL;
}

static int
snapshot_add_bind(struct snapshot *s, struct lsock *ls, size_t svc)
{
	struct snap_bind *nb;

	nb = realloc(s->bind, (s->nbind + 1) * sizeof(*nb));
	if (nb == NULL) {
		listener_unref(ls);
		return -1;
	}
	s->bind = nb;
	s->bind[s->nbind].ls = ls;
	s->bind[s->nbind].svc = svc;
	s->nbind++;
	return 0;
}

/* Which service gets systemd fd i: the one named like it, or the only one. */
static int
snapshot_bind_systemd(struct snapshot *s, const struct snapshot_env *env)
{
	size_t i, users = 0, only = 0, j, k;
	int fd;

	for (i = 0; i < s->nsvc; i++)
		for (j = 0; j < s->svc[i].conf->nlisten; j++)
			if (s->svc[i].conf->listen[j].kind ==
			    CONF_LISTEN_SYSTEMD) {
				users++;
				only = i;
				break;
			}
	if (users == 0)
		return 0;
	if (env->nsd == 0) {
		log_errx("listen systemd: no sockets were passed "
		         "(LISTEN_FDS unset or not for this process)");
		return -1;
	}
	for (fd = 0; fd < env->nsd; fd++) {
		size_t svc = (size_t)-1;

		if (users == 1)
			svc = only;
		else
			for (k = 0; k < s->nsvc; k++)
				if (strcmp(s->svc[k].conf->name,
				        env->sd[fd].name) == 0)
					svc = k;
		if (svc == (size_t)-1) {
			log_warnx("systemd socket fd %d (name %s) matches no "
			          "service; ignored",
			    env->sd[fd].fd, env->sd[fd].name);
			continue;
		}
		for (j = 0; j < s->svc[svc].conf->nlisten; j++)
			if (s->svc[svc].conf->listen[j].kind ==
			    CONF_LISTEN_SYSTEMD)
				break;
		if (j == s->svc[svc].conf->nlisten) {
			log_warnx("systemd socket fd %d (name %s): service %s "
			          "does not listen on systemd; ignored",
			    env->sd[fd].fd, env->sd[fd].name,
			    s->svc[svc].conf->name);
			continue;
		}
		if (snapshot_add_bind(s, listener_ref(env->sd_ls[fd]), svc) < 0)
			return -1;
	}
	return 0;
}

/*
 * Is l the IPv6 wildcard, with an IPv4 address on its port in the
 * configuration?  Then it is bound IPv6-only: dual-stack, it would hold
 * the IPv4 port too ("listen: [0.0.0.0:21, '[::]:21']" would fail).
 */
static bool
snapshot_v4_beside(const struct wrapd_conf *c, const struct conf_listen *l)
{
	size_t i, j;

	/* "::", and "*" or no host at all, which listener.c binds as "::". */
	if (l->host != NULL && *l->host != '\0' && strcmp(l->host, "*") != 0 &&
	    strcmp(l->host, "::") != 0)
		return false;
	for (i = 0; i < c->nservices; i++)
		for (j = 0; j < c->services[i].nlisten; j++) {
			const struct conf_listen *o = &c->services[i].listen[j];

			if (o->kind == CONF_LISTEN_ADDR && o->port == l->port &&
			    o->host != NULL && strchr(o->host, ':') == NULL)
				return true;
		}
	return false;
}

static int
snapshot_bind_listeners(struct snapshot *s, const struct snapshot_env *env)
{
	char err[512], key[512];
	struct lsock *ls;
	bool v6only;
	size_t i, j;

	for (i = 0; i < s->nsvc; i++) {
		const struct conf_service *cs = s->svc[i].conf;

		for (j = 0; j < cs->nlisten; j++) {
			const struct conf_listen *l = &cs->listen[j];

			switch (l->kind) {
			case CONF_LISTEN_ADDR:
				v6only = snapshot_v4_beside(s->conf, l);
				listener_addr_key(l, v6only, key, sizeof(key));
				ls = snapshot_find_lsock(env->old, key);
				if (ls == NULL)
					ls = listener_open_addr(l, env->workers,
					    v6only, err, sizeof(err));
				if (ls == NULL) {
					if (s->conf->path != NULL && l->line)
						log_errx("%s:%u:%u: %s",
						    s->conf->path, l->line,
						    l->col, err);
					else
						log_errx("%s", err);
					return -1;
				}
				break;
			case CONF_LISTEN_STDIN:
				if (env->stdin_ls == NULL) {
					log_errx("listen stdin: not available");
					return -1;
				}
				ls = listener_ref(env->stdin_ls);
				break;
			default:
				continue; /* systemd: below */
			}
			if (snapshot_add_bind(s, ls, i) < 0)
				return -1;
		}
	}
	return snapshot_bind_systemd(s, env);
}

static int
snapshot_resolve_backend(struct snap_svc *sv)
{
	const struct conf_service *cs = sv->conf;
	struct addrinfo hints, *res;
	struct sockaddr_un *sun;
	char port[8];
	int rc;

	switch (cs->backend_kind) {
	case CONF_BACKEND_TCP:
		memset(&hints, 0, sizeof(hints));
		hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		hints.ai_socktype = SOCK_STREAM;
		snprintf(port, sizeof(port), "%u", (unsigned)cs->backend_port);
		rc = getaddrinfo(cs->backend_host, port, &hints, &res);
		if (rc != 0) {
			log_errx("service %s: backend %s: %s", cs->name,
			    cs->backend, gai_strerror(rc));
			return -1;
		}
		memcpy(&sv->baddr, res->ai_addr, res->ai_addrlen);
		sv->blen = res->ai_addrlen;
		freeaddrinfo(res);
		return 0;
	case CONF_BACKEND_UNIX:
		sun = (struct sockaddr_un *)&sv->baddr;
		if (cs->backend_host == NULL ||
		    strlen(cs->backend_host) >= sizeof(sun->sun_path)) {
			log_errx("service %s: backend %s: path too long",
			    cs->name, cs->backend);
			return -1;
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, cs->backend_host,
		    strlen(cs->backend_host) + 1);
		sv->blen = (socklen_t)sizeof(*sun);
		if (sun->sun_path[0] == '@') {
			/* Linux abstract socket: the name is not a file. */
			sun->sun_path[0] = '\0';
			sv->blen =
			    (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			        strlen(cs->backend_host));
		}
		return 0;
	default:
		return 0;
	}
}

static void
snapshot_geoip_report(void *arg, const char *path, const char *msg)
{
	(void)arg;
	log_errx("geoip: %s: %s", path, msg);
}

/*
 * Read the GeoIP databases anew (a reload is how an updated one takes
 * effect), refusing any that is not what it is named as.
 */
static int
snapshot_load_geoip(struct snapshot *s, uid_t owner)
{
	return geoip_open(&s->geoip, s->conf->geoip_country, s->conf->geoip_asn,
	    conf_trust_vet, &owner, snapshot_geoip_report, NULL);
}

/*
 * Load the rules, refusing any error: libwrap would go on with a broken
 * table or an unreadable /file list, and either can grant clients the rules
 * mean to deny.  A country= or asn= pattern without its database is one.
 */
static int
snapshot_load_rules(struct snapshot *s, uid_t owner)
{
	struct acl_load_opts o;
	struct acl_diags d;
	size_t i, nerr;

	memset(&o, 0, sizeof(o));
	memset(&d, 0, sizeof(d));
	o.allow_path = s->conf->allow_path;
	o.deny_path = s->conf->deny_path;
	o.vet = conf_trust_vet;
	o.vet_arg = &owner;
	o.geo = geoip_have(&s->geoip);
	s->rules = acl_ruleset_load(&o, &d);
	if (s->rules == NULL) {
		acl_diags_free(&d);
		log_errx("rules: out of memory");
		return -1;
	}
	for (i = 0; i < d.n; i++) {
		const struct acl_diag *g = &d.v[i];

		log_msg(g->severity == ACL_SEV_ERROR ? LOG_ERR : LOG_WARNING,
		    "%s:%u:%u: %s", g->file, g->line, g->col, g->msg);
	}
	nerr = acl_diags_errors(&d);
	acl_diags_free(&d);
	if (nerr > 0) {
		log_errx("rules: %zu error(s)", nerr);
		return -1;
	}
	return 0;
}

/*
 * Transparent mode must work now, not fail per connection: at start (as
 * the account the drop will keep CAP_NET_ADMIN for) and on every reload
 * (a reload that adds it to a wrapd that dropped root without the
 * capability is refused: restart instead).
 */
static int
snapshot_check_transparent(const struct snap_svc *sv)
{
	int err;

	if (!sv->conf->transparent || (err = transparent_probe()) == 0)
		return 0;
	log_errx("service %s: transparent: cannot make a transparent socket "
	         "(IP_TRANSPARENT): %s; wrapd needs CAP_NET_ADMIN or "
	         "CAP_NET_RAW (as root, or kept from the start: restart "
	         "wrapd to add a transparent service)",
	    sv->conf->name, strerror(err));
	return -1;
}

struct snapshot *
snapshot_build(struct wrapd_conf *conf, const struct snapshot_env *env)
{
	struct snapshot *s;
	size_t i;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		conf_free(conf);
		log_errx("snapshot: out of memory");
		return NULL;
	}
	atomic_init(&s->refs, 1);
	s->gen = env->gen;
	s->conf = conf;
	s->nsvc = conf->nservices;
	if ((s->svc = calloc(s->nsvc ? s->nsvc : 1, sizeof(*s->svc))) == NULL)
		goto fail;
	for (i = 0; i < s->nsvc; i++) {
		s->svc[i].conf = &conf->services[i];
		s->svc[i].st = snapshot_svc_state_get(
		    env->old, conf->services[i].name, env->workers);
		if (s->svc[i].st == NULL)
			goto fail;
		if (snapshot_resolve_backend(&s->svc[i]) < 0)
			goto fail;
		if (snapshot_check_transparent(&s->svc[i]) < 0)
			goto fail;
	}
	if (snapshot_load_geoip(s, env->owner) < 0 ||
	    snapshot_load_rules(s, env->owner) < 0)
		goto fail;
	if (snapshot_bind_listeners(s, env) < 0)
		goto fail;
	return s;
fail:
	snapshot_unref(s);
	return NULL;
}

struct snapshot *
snapshot_ref(struct snapshot *s)
{
	atomic_fetch_add(&s->refs, 1);
	return s;
}

void
snapshot_unref(struct snapshot *s)
{
	size_t i;

	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (i = 0; i < s->nbind; i++)
		listener_unref(s->bind[i].ls);
	free(s->bind);
	for (i = 0; s->svc != NULL && i < s->nsvc; i++)
		snapshot_svc_state_unref(s->svc[i].st);
	free(s->svc);
	if (s->rules != NULL)
		acl_ruleset_unref(s->rules);
	geoip_close(&s->geoip);
	conf_free(s->conf);
	free(s);
}
