/*
 * action_deny.c - on_deny: the reply, the finger query, the report mail.
 *
 * The reply is written at once; the finger query and the mail are jobs of
 * the worker's action_loop that outlive the connection (the query's answer
 * goes into the mail, or into the log when there is no mail).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "action_deny.h"
#include "action_finger.h"
#include "action_loop.h"
#include "action_mail.h"
#include "action_text.h"
#include "log.h"

struct deny_job {
	struct action_loop *al;
	struct deny_job *next, *prev;
	struct action_finger *finger;
	bool finger_slot;
	enum action_admit admit;
	uint64_t id;
	char *recipient;        /* NULL: no mail */
	char *sendmail;         /* actions.sendmail of the snapshot */
	struct acl_request req; /* strings below */
	char daemon[ACL_STRING_MAX], service[ACL_STRING_MAX];
	char client_name[ACL_STRING_MAX], user[ACL_STRING_MAX];
	char client_addr[64], server_addr[64];
	char *rule_file;
	unsigned rule_line;
	const char *reason;
	time_t when;
};

static void
action_deny_job_free(struct deny_job *j)
{
	if (j->prev != NULL)
		j->prev->next = j->next;
	else if (j->al->jobs == j)
		j->al->jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	if (j->finger_slot)
		action_limit_put(j->al->limit);
	free(j->recipient);
	free(j->sendmail);
	free(j->rule_file);
	free(j);
}

static void
action_deny_job_mail(
    struct deny_job *j, const char *finger, const char *finger_err)
{
	struct action_report rep;
	char *msg;
	size_t len;
	int err;

	memset(&rep, 0, sizeof(rep));
	rep.recipient = j->recipient;
	rep.service = j->service;
	rep.daemon = j->daemon;
	rep.verdict = "denied";
	rep.client_addr = j->client_addr;
	rep.client_port = j->req.client.port;
	rep.client_name = j->client_name[0] ? j->client_name : NULL;
	rep.user = j->user[0] ? j->user : NULL;
	rep.server_addr = j->server_addr[0] ? j->server_addr : NULL;
	rep.server_port = j->req.server.port;
	rep.rule_file = j->rule_file;
	rep.rule_line = j->rule_line;
	rep.reason = j->reason;
	rep.when = j->when;
	rep.finger = finger;
	rep.finger_error = finger_err;
	if ((msg = action_text_mail_compose(&rep, &len)) == NULL)
		return;
	if (action_loop_take(j->al, &j->req.client.addr, &j->admit,
	        METRICS_ACTION_MAIL) != 0) {
		free(msg);
		return;
	}
	err = action_mail_send(
	    &j->al->procs, j->al->limit, j->sendmail, msg, len);
	if (err != 0) {
		action_limit_put(j->al->limit);
		log_warnx("conn=%llu actions: mail: %s: %s",
		    (unsigned long long)j->id, j->sendmail, uv_strerror(err));
	}
	free(msg);
}

static void
action_deny_job_on_finger(void *arg, const char *text, const char *err)
{
	struct deny_job *j = arg;
	struct log_buf lb;
	char line[1024];

	j->finger = NULL;
	if (j->finger_slot) {
		action_limit_put(j->al->limit);
		j->finger_slot = false;
	}
	if (j->recipient != NULL) {
		action_deny_job_mail(j, text, err);
	} else {
		/* No mail to put it in: the log gets it, escaped. */
		lb.p = line;
		lb.len = 0;
		lb.cap = sizeof(line);
		line[0] = '\0';
		log_buf_printf(&lb, "conn=%llu actions: finger client=%s ",
		    (unsigned long long)j->id, j->client_addr);
		if (text != NULL) {
			log_buf_printf(&lb, "said=");
			log_buf_kv_str(&lb, text);
		} else {
			log_buf_printf(&lb, "error=");
			log_buf_kv_str(&lb, err);
		}
		log_msg(LOG_INFO, "%s", line);
	}
	action_deny_job_free(j);
}

static void
action_deny_copy(char *dst, size_t sz, const char *src)
{
	snprintf(dst, sz, "%s", src ? src : "");
}

/* Read away what the client sent, so close() sends FIN, not RST. */
static void
action_deny_drain(int fd)
{
	char buf[4096];
	int i;

	for (i = 0; i < 16; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
}

static void
action_deny_sockaddr(const struct acl_endpoint *e, struct sockaddr_storage *ss)
{
	(void)acl_addr_to_sockaddr(
	    &e->addr, e->port > 0 ? (unsigned)e->port : 0, 0, ss);
}

size_t
action_deny_start(const struct action_conn *ac, const struct acl_decision *d)
{
	const struct conf_on_deny *od = ac->on_deny;
	const struct acl_request *req = ac->req;
	struct action_loop *al = ac->al;
	struct deny_job *j;
	size_t sent = 0;
	struct sockaddr_storage cl, lo;

	if (od == NULL)
		return 0;
	if (od->reply != NULL && od->reply_len > 0) {
		sent = action_send(ac->fd, od->reply, od->reply_len);
		if (sent < od->reply_len)
			log_warnx("conn=%llu actions: reply cut: client "
			          "socket full",
			    (unsigned long long)ac->id);
		action_deny_drain(ac->fd);
	}
	if (!od->finger && od->mail == NULL)
		return sent;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return sent;
	j->al = al;
	j->id = ac->id;
	j->when = time(NULL);
	action_deny_copy(j->daemon, sizeof(j->daemon), req->daemon);
	action_deny_copy(j->service, sizeof(j->service), ac->service);
	action_deny_copy(
	    j->client_name, sizeof(j->client_name), req->client.name);
	action_deny_copy(j->user, sizeof(j->user), req->user);
	acl_addr_format(
	    &req->client.addr, j->client_addr, sizeof(j->client_addr));
	if (req->server.addr.family != AF_UNSPEC)
		acl_addr_format(
		    &req->server.addr, j->server_addr, sizeof(j->server_addr));
	acl_request_init(&j->req);
	j->req.client.addr = req->client.addr;
	j->req.client.port = req->client.port;
	j->req.server.addr = req->server.addr;
	j->req.server.port = req->server.port;
	if (d != NULL && d->rule != NULL) {
		j->rule_file = strdup(d->rule->file);
		j->rule_line = d->rule->line;
	} else if (d != NULL && d->table_error && d->error_file != NULL) {
		j->rule_file = strdup(d->error_file);
		j->rule_line = d->error_line;
		j->reason = "table error";
	}
	if (od->mail != NULL) {
		j->recipient = strdup(od->mail);
		j->sendmail =
		    strdup(ac->sendmail != NULL ? ac->sendmail
		                                : ACTION_SENDMAIL_DEFAULT);
		if (j->recipient == NULL || j->sendmail == NULL) {
			free(j->recipient);
			j->recipient = NULL; /* no memory: no mail */
		}
	}
	j->next = al->jobs;
	if (al->jobs != NULL)
		al->jobs->prev = j;
	al->jobs = j;

	if (!od->finger) {
		action_deny_job_mail(j, NULL, NULL);
		action_deny_job_free(j);
		return sent;
	}
	if (action_loop_take(al, &j->req.client.addr, &j->admit,
	        METRICS_ACTION_FINGER) != 0) {
		if (j->recipient != NULL)
			action_deny_job_mail(
			    j, NULL, "skipped: over the action limits");
		action_deny_job_free(j);
		return sent;
	}
	j->finger_slot = true;
	action_deny_sockaddr(&req->client, &cl);
	action_deny_sockaddr(&req->server, &lo);
	j->finger = action_finger_start(al->loop, (struct sockaddr *)&cl,
	    lo.ss_family != AF_UNSPEC ? (struct sockaddr *)&lo : NULL,
	    ACTION_FINGER_PORT, "", ACTION_FINGER_TIMEOUT_MS, ACTION_FINGER_MAX,
	    action_deny_job_on_finger, j);
	if (j->finger == NULL) {
		action_limit_put(al->limit);
		j->finger_slot = false;
		if (j->recipient != NULL)
			action_deny_job_mail(
			    j, NULL, "could not start the query");
		action_deny_job_free(j);
	}
	return sent;
}

void
action_deny_cancel_all(struct action_loop *al)
{
	while (al->jobs != NULL) {
		action_finger_cancel(al->jobs->finger);
		action_deny_job_free(al->jobs);
	}
}
