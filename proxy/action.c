/*
 * action.c - the non-blocking write every action to the client uses.
 */
#include <errno.h>
#include <sys/socket.h>

#include "action.h"

size_t
action_send(int fd, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else
			break;
	}
	return off;
}
