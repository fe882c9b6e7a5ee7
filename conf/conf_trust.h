/*
 * conf_trust.h - may wrapd take orders from a file?
 *
 * The configuration and the rule files decide who gets in, and a rule can
 * run commands (spawn, twist, aclexec) as the user wrapd runs as, root
 * included.  So, as sshd's StrictModes, wrapd refuses any of them that
 * someone other than root or wrapd's owner (the effective user that started
 * it) could change:
 *
 *  - every object on the way is owned by root or by the owner: the file,
 *    each directory its path resolves through, each symbolic link met;
 *  - none of them is writable by its group or by others, except that a
 *    directory above the file may be a root-owned sticky one, such as /tmp,
 *    where others cannot replace entries they do not own.
 *
 * Symbolic links are followed as the kernel follows them, so what a link
 * resolves to is checked, and so is the directory that holds the link.
 *
 * Dependencies: libc only (the command-line tools use it without libuv).
 */
#ifndef WRAPD_CONF_TRUST_H
#define WRAPD_CONF_TRUST_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Check path for a process started by owner.  Returns 0 when it may be
 * trusted, and also when it cannot be resolved (it does not exist, or a
 * directory on the way cannot be searched): whoever reads the file reports
 * that.  Returns -1 with the reason in why (a sentence naming the object,
 * e.g. "directory /srv/rules is writable by its group (mode 0775)").
 */
int conf_trust_path(const char *path, uid_t owner, char *why, size_t whysz);

/*
 * conf_trust_path() in the shape of acl_load_opts.vet: arg points to the owner's
 * uid_t.
 */
int conf_trust_vet(void *arg, const char *path, char *why, size_t whysz);

#endif /* WRAPD_CONF_TRUST_H */
