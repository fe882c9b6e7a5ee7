/*
 * sdnotify.c - write READY=1 / RELOADING=1 / STOPPING=1 to systemd.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"

static struct sockaddr_un sd_addr;
static socklen_t sd_len;

void
sdnotify_init(void)
{
	const char *p = getenv("NOTIFY_SOCKET");
	size_t n;

	sd_len = 0;
	if (p == NULL || *p == '\0')
		return;
	n = strlen(p);
	if ((p[0] != '/' && p[0] != '@') || n >= sizeof(sd_addr.sun_path)) {
		log_warnx("NOTIFY_SOCKET=%s: not a socket path; ignored", p);
		unsetenv("NOTIFY_SOCKET");
		return;
	}
	memset(&sd_addr, 0, sizeof(sd_addr));
	sd_addr.sun_family = AF_UNIX;
	memcpy(sd_addr.sun_path, p, n);
	if (p[0] == '@')
		sd_addr.sun_path[0] = '\0'; /* abstract namespace */
	sd_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (p[0] == '/' ? 1 : 0));
	unsetenv("NOTIFY_SOCKET");
}

void
sdnotify(const char *msg)
{
	int fd;
	ssize_t n;

	if (sd_len == 0)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("sd_notify: socket");
		return;
	}
	do
		n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
		    (struct sockaddr *)&sd_addr, sd_len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		log_warn("sd_notify %s", msg);
	close(fd);
}
