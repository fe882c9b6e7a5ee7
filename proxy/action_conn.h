/*
 * action_conn.h - the actions at a connection's decision point.  conn.c
 * calls action_conn_decided() from conn_decided() (once per connection,
 * with c->verdict, c->rule and the facts fetched) and action_conn_closing()
 * from conn_close().  From there on the actions own the decision: they run
 * the rule's options (waiting for aclexec; scanning hosts.deny again when
 * an aclexec in hosts.allow fails), then hand the connection to
 * conn_deliver() (grant), to a twist command, or write on_deny.reply, start
 * finger/mail and conn_close() it (deny).
 */
#ifndef WRAPD_ACTION_CONN_H
#define WRAPD_ACTION_CONN_H

struct conn;

void action_conn_decided(struct conn *c);
/* conn_close() is running: cancel what still refers to c. */
void action_conn_closing(struct conn *c);

#endif /* WRAPD_ACTION_CONN_H */
