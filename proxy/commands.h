/*
 * commands.h - the subcommands of the one `wrapd` executable.
 *
 * Each takes the arguments after its own name (argv[0] is the subcommand
 * name) and returns the process exit status.
 */
#ifndef WRAPD_COMMANDS_H
#define WRAPD_COMMANDS_H

/* wrapd check: lint hosts.allow / hosts.deny (tcpdchk). 0 clean, 1 errors, 2 usage. */
int cmd_check(int argc, char **argv);
/* wrapd match: predict one decision (tcpdmatch). 0 ran, 2 usage. */
int cmd_match(int argc, char **argv);
/* wrapd audit: exposed sockets and wrapd's fronts. 0 none, 1 some, 2 usage. */
int cmd_audit(int argc, char **argv);
/* wrapd import inetd|xinetd: a wrapd.yaml from their configuration. */
int cmd_import(int argc, char **argv);
/* wrapd bans: the running wrapd's bans (control socket). 0, 1, 2 usage. */
int cmd_bans(int argc, char **argv);
/* wrapd status: the running wrapd's services and connections. 0, 1, 2. */
int cmd_status(int argc, char **argv);
/* wrapd [--config FILE | quick mode]: run the proxy. */
int cmd_run(int argc, char **argv);

#endif /* WRAPD_COMMANDS_H */
