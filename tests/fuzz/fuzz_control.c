/*
 * fuzz_control.c - the control socket's protocol on hostile bytes: the
 * server's request parser (control_proto_request), the client's record
 * parser (control_proto_record), and the round trip of any value through
 * a record.
 *
 * Input: one byte that selects the target, then the bytes.
 *   even: the bytes as a request, whole and byte by byte: both must agree,
 *         and a request is never taken from more than CONTROL_REQ_MAX bytes;
 *   odd:  each line as a record (must not crash; a parsed record's values
 *         hold no NUL), and the bytes up to the first NUL as a value: the
 *         record built with it is one printable ASCII line that parses
 *         back to the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_request(const char *in, size_t len)
{
	enum control_cmd whole = 0, step = 0;
	const char *why;
	int rw, rs = 0;
	size_t n;

	rw = control_proto_request(in, len, &whole, &why);
	/* As the server reads it: a few bytes at a time, stopping at the
	 * first answer. */
	for (n = 1; n <= len; n++)
		if ((rs = control_proto_request(in, n, &step, &why)) != 0)
			break;
	if (rw == 1 && (rs != 1 || step != whole))
		abort();
	if (rs == 1 && n > CONTROL_REQ_MAX)
		abort();
}

static void
fuzz_records(const char *in, size_t len)
{
	static struct control_record r;
	const char *p = in, *end = in + len, *nl;
	size_t i;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (control_proto_record(p, (size_t)(nl - p), &r) < 0)
			continue;
		for (i = 0; i < r.n; i++)
			if (control_proto_record_get(&r, r.f[i].key) == NULL)
				abort();
	}
}

static void
fuzz_round_trip(const char *in, size_t len)
{
	static struct control_record r;
	struct control_buf b = {0};
	char *v;
	size_t i;

	if ((v = malloc(len + 1)) == NULL)
		return;
	memcpy(v, in, len);
	v[len] = '\0';
	control_proto_buf_record(&b, "t");
	control_proto_buf_str(&b, "v", v);
	control_proto_buf_end(&b);
	if (!b.failed && b.len < CONTROL_LINE_MAX) {
		for (i = 0; i + 1 < b.len; i++)
			if (b.p[i] < 0x20 || b.p[i] >= 0x7f)
				abort();
		if (control_proto_record(b.p, b.len - 1, &r) < 0 || r.n != 1 ||
		    strcmp(r.f[0].value, v) != 0)
			abort();
	}
	control_proto_buf_free(&b);
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data + 1;

	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0) {
		fuzz_request(in, size - 1);
		return 0;
	}
	fuzz_records(in, size - 1);
	fuzz_round_trip(in, strnlen(in, size - 1));
	return 0;
}
