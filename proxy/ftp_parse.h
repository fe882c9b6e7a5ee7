/*
 * ftp_parse.h - what wrapd's FTP helper (ftp.c) needs to understand of an
 * FTP control connection, as pure functions over bytes (ftp_parse.c;
 * fuzzed by tests/fuzz/fuzz_ftp_parse.c).
 *
 * Commands and replies come from the network and are hostile.  Nothing
 * here trusts an address in a reply: a passive reply only yields the port
 * the server opened (wrapd connects to the backend's own address, never
 * to the one the reply names).
 */
#ifndef WRAPD_FTP_PARSE_H
#define WRAPD_FTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* The longest command or reply line the helper holds to look at. */
#define FTP_LINE_MAX 512

enum ftp_command {
	FTP_CMD_OTHER,  /* passed on unchanged */
	FTP_CMD_ACTIVE, /* PORT, EPRT, LPRT: refused (502) */
	FTP_CMD_LPSV,   /* long passive: refused (502), PASV/EPSV work */
};

/*
 * A command line (without its line end) as the server will see it: Telnet
 * sequences (IAC ...) stripped, leading blanks skipped, the verb compared
 * without case.
 */
enum ftp_command ftp_parse_command(const uint8_t *line, size_t len);
/*
 * The first n bytes of a command line (after the Telnet sequences and
 * blanks that start it): 1 when it may still become a command that
 * ftp_parse_command() does not call FTP_CMD_OTHER (hold it), 0 when it
 * cannot (pass it on).
 */
int ftp_parse_command_prefix(const uint8_t *p, size_t n);
/* The first n bytes of a reply line: 1 when it may be a final 227 or 229
 * reply (hold it), else 0. */
int ftp_parse_reply_prefix(const uint8_t *p, size_t n);
/*
 * A reply line (without its line end): 0 when it is no final 227/229
 * reply; else its code (227 or 229) with the port the server opened in
 * *port; -1 when it is one but malformed, or names a port below 1024.
 */
int ftp_parse_passive(const uint8_t *line, size_t len, uint16_t *port);
/* wrapd's own replies: "227 ... (a,b,c,d,p1,p2).\r\n" for an IPv4
 * address (4 bytes), "229 ... (|||port|)\r\n".  Length, or 0. */
size_t ftp_parse_format_227(
    char *buf, size_t sz, const uint8_t addr[4], uint16_t port);
size_t ftp_parse_format_229(char *buf, size_t sz, uint16_t port);

#endif /* WRAPD_FTP_PARSE_H */
