/*
 * cli_text.h - plain-text output of the command-line tools: untrusted bytes
 * (file names, host names, rule text) printed so that one item stays one
 * line and no control sequence reaches the terminal.
 */
#ifndef WRAPD_CLI_TEXT_H
#define WRAPD_CLI_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Write s with control characters (0x00-0x1f, 0x7f) shown as \xHH. */
void cli_text(FILE *fp, const char *s);
/* The same for the first n bytes of s. */
void cli_text_n(FILE *fp, const char *s, size_t n);
/*
 * One diagnostic line, `file:line:col: error|warning: msg`, file and msg
 * escaped as by cli_text() (NULL prints as empty).
 */
void cli_text_diag(FILE *fp, const char *file, unsigned line, unsigned col,
    int error, const char *msg);

#endif /* WRAPD_CLI_TEXT_H */
