/*
 * fuzz_metrics_http.c - the metrics endpoint on hostile bytes: the
 * request-head parser (metrics_http_parse) and the label escaper
 * (metrics_render_label_value).
 *
 * Input: one byte that selects the target, then the bytes.
 *   even: the bytes as a request head, whole and as the server reads it
 *         (a growing prefix, stopping at the first answer): both answer
 *         with the same status, from the set the server knows; only a
 *         head shorter than METRICS_HTTP_HEAD_MAX may still want more;
 *   odd:  the bytes up to the first NUL as a label value: the escaped
 *         form is one line whose backslashes each escape '\\', '"' or
 *         'n' and whose quotes are all escaped; ASCII comes back whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "metrics_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_head(const char *in, size_t len)
{
	struct metrics_http_req whole, step;
	int rw, rs = 0;
	size_t n;

	rw = metrics_http_parse(in, len, &whole);
	if (rw == 1 && whole.status != 200 && whole.status != 400 &&
	    whole.status != 404 && whole.status != 405 && whole.status != 431)
		abort();
	if (rw == 0 && len >= METRICS_HTTP_HEAD_MAX)
		abort();
	for (n = 0; n <= len; n++)
		if ((rs = metrics_http_parse(in, n, &step)) != 0)
			break;
	if (rw != rs || (rw == 1 && step.status != whole.status))
		abort();
	if (rw == 1 && whole.status == 200 && memcmp(in, "GET ", 4) != 0 &&
	    memcmp(in, "HEAD ", 5) != 0 && in[0] != '\r' && in[0] != '\n')
		abort();
}

static void
fuzz_label(const char *in, size_t len)
{
	struct control_buf b = {0};
	char *v, *back;
	size_t i, o = 0;
	bool ascii = true;

	if ((v = malloc(len + 1)) == NULL)
		return;
	memcpy(v, in, len);
	v[len] = '\0';
	metrics_render_label_value(&b, v);
	if (b.failed || (b.p == NULL && v[0] != '\0') ||
	    (back = malloc(b.len + 1)) == NULL) {
		control_proto_buf_free(&b);
		free(v);
		return;
	}
	for (i = 0; i < b.len; i++) {
		if (b.p[i] == '\n' || b.p[i] == '"')
			abort();
		if (b.p[i] != '\\') {
			back[o++] = b.p[i];
			continue;
		}
		if (++i == b.len || strchr("\\\"n", b.p[i]) == NULL)
			abort();
		back[o++] = b.p[i] == 'n' ? '\n' : b.p[i];
	}
	back[o] = '\0';
	for (i = 0; v[i] != '\0'; i++)
		ascii = ascii && (unsigned char)v[i] < 0x80;
	if (ascii && strcmp(back, v) != 0)
		abort();
	free(back);
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
		fuzz_head(in, size - 1);
		return 0;
	}
	fuzz_label(in, strnlen(in, size - 1));
	return 0;
}
