/*
 * lookup_test.h - what the look-up tests share: addresses from text, and
 * a callback that records a name look-up's answer.  Include after cmocka.h.
 */
#ifndef WRAPD_LOOKUP_TEST_H
#define WRAPD_LOOKUP_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "acl.h"
#include "lookup.h"

static inline void
sa_parse(struct sockaddr_storage *ss, const char *addr, unsigned port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	}
}

static inline socklen_t
sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in)
	                                : sizeof(struct sockaddr_in6);
}

struct name_result {
	int calls;
	enum lookup_status status;
	char name[ACL_STRING_MAX];
	int order; /* when it answered, among all answers in the loop */
};

static int answer_count;

static inline void
on_name(void *arg, const char *name, enum lookup_status status)
{
	struct name_result *r = arg;

	r->calls++;
	r->status = status;
	r->order = ++answer_count;
	assert_non_null(name);
	assert_true(strlen(name) < ACL_STRING_MAX);
	snprintf(r->name, sizeof(r->name), "%s", name);
}

#endif /* WRAPD_LOOKUP_TEST_H */
