/*
 * control_proto.h - the text protocol of wrapd's control socket, shared by
 * the server (control.c) and the clients (`wrapd bans`, `wrapd status`).
 *
 * One request per connection.  The client sends one line:
 *
 *     request  = command [CR] LF        ; at most CONTROL_REQ_MAX bytes
 *     command  = "bans" / "status"
 *
 * and the server answers, then closes:
 *
 *     response = "ok wrapd-control 1" LF *record "end" LF
 *              / "error " text LF
 *     record   = type *(SP key "=" value) LF
 *     type, key = 1*32( %x61-7A / DIGIT / "_" )
 *     value    = *( %x21-7E but "%" and "=" / "%" 2HEXDIG )
 *
 * A value holds any byte but NUL, percent-encoded when it is not a
 * printable ASCII character other than '%' and '='; so a record is one
 * line of printable ASCII and cannot be forged by a value (a service name,
 * a listener's text).  Numbers are decimal.  wrapd(8) lists the records.
 *
 * Both sides treat what they read as hostile: every length is bounded and
 * every byte checked.  libc only.
 */
#ifndef WRAPD_CONTROL_PROTO_H
#define WRAPD_CONTROL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONTROL_PROTO_HELLO "ok wrapd-control 1"
#define CONTROL_REQ_MAX     64         /* a request, LF included */
#define CONTROL_LINE_MAX    4096       /* a record, LF included */
#define CONTROL_RESP_MAX    (16 << 20) /* a whole response */
#define CONTROL_FIELDS_MAX  32         /* key=value pairs of a record */
#define CONTROL_NAME_MAX    32         /* a type or a key */

enum control_cmd {
	CONTROL_CMD_BANS = 1,
	CONTROL_CMD_STATUS,
};

/*
 * The request in the len bytes received so far: 1 with *cmd set, 0 when
 * more bytes are needed (no LF yet, and fewer than CONTROL_REQ_MAX), -1
 * when it is not a request (*why says why, a static string).
 */
int control_proto_request(
    const char *buf, size_t len, enum control_cmd *cmd, const char **why);
/* The request line of cmd, LF included. */
const char *control_proto_request_text(enum control_cmd cmd);

/* A response being built; on allocation failure `failed` is set and the
 * buffer stays as it was. */
struct control_buf {
	char *p;
	size_t len, cap;
	bool failed;
};
void control_proto_buf_free(struct control_buf *b);
void control_proto_buf_add(struct control_buf *b, const char *s, size_t n);
/* Start a record of this type (a trusted name). */
void control_proto_buf_record(struct control_buf *b, const char *type);
void control_proto_buf_str(
    struct control_buf *b, const char *key, const char *v);
void control_proto_buf_u64(struct control_buf *b, const char *key, uint64_t v);
void control_proto_buf_i64(struct control_buf *b, const char *key, int64_t v);
/* End the record. */
void control_proto_buf_end(struct control_buf *b);

/* One record as read by a client: values decoded, NUL-terminated. */
struct control_field {
	const char *key;
	const char *value;
};
struct control_record {
	const char *type;
	size_t n;
	struct control_field f[CONTROL_FIELDS_MAX];
	char data[CONTROL_LINE_MAX + CONTROL_FIELDS_MAX + 2];
};
/*
 * Parse one line (without its LF) into *r: 0, or -1 when it is not a
 * record of the grammar above.
 */
int control_proto_record(
    const char *line, size_t len, struct control_record *r);
/* The value of key in r, or NULL. */
const char *control_proto_record_get(
    const struct control_record *r, const char *key);
/* Is s made of digits only (a number, for JSON)? */
bool control_proto_is_number(const char *s);

#endif /* WRAPD_CONTROL_PROTO_H */
