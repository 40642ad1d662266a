/*
 * Tokens and values shared by Mica's configuration-file parsers (the
 * appliance configuration now, filter rules next). Pure logic
 * (lib/config_parser.c), unit-tested on the host.
 *
 * A file is statements of words; a statement ends at a newline or ';'; '{'
 * and '}' open and close a block of statements; ',' separates list items;
 * '#' starts a comment to the end of the line. Lines and columns count
 * from 1, columns in bytes.
 */
#ifndef MICA_LIB_CONFIG_PARSER_H
#define MICA_LIB_CONFIG_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_WORD_MAX 47

/* Where a file is wrong and why (the message names no position). */
struct config_error {
	unsigned line, column;
	char message[160];      /* fits FILE:LINE:COLUMN: before it in a reload's 192 */
};

enum config_token_kind {
	CONFIG_TOKEN_END,       /* the end of the text */
	CONFIG_TOKEN_NEWLINE,   /* '\n' or ';' */
	CONFIG_TOKEN_WORD,
	CONFIG_TOKEN_OPEN,      /* '{' */
	CONFIG_TOKEN_CLOSE,     /* '}' */
	CONFIG_TOKEN_COMMA,
};

struct config_token {
	enum config_token_kind kind;
	char text[CONFIG_WORD_MAX + 1]; /* the word, or the punctuation; "" for a newline */
	unsigned line, column;
};

/* A parser's position in the text, its current token and the first error. */
struct config_parser {
	const char *p, *end;
	unsigned line, column;          /* of *p */
	struct config_token token;
	struct config_error *err;
	bool failed;
};

/* Start at the beginning of text[0..len); errors go to *err. Call
 * config_next() for the first token. */
void config_parser_start(struct config_parser *ps, const char *text, size_t len,
			 struct config_error *err);

/* Record the first error (later ones are ignored), at token t; returns
 * false so that a parser can `return config_fail_at(...)`. */
bool config_fail_at(struct config_parser *ps, const struct config_token *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define CONFIG_FAIL(ps, ...) config_fail_at((ps), &(ps)->token, __VA_ARGS__)

/* Read the next token; false (and an error) on a word longer than
 * CONFIG_WORD_MAX or a control character. */
bool config_next(struct config_parser *ps);

/* Whether the current token is the word w. */
bool config_at_word(const struct config_parser *ps, const char *w);

/* The end of a statement: a newline or ';' (consumed), the end of the text,
 * or, in_block, the '}' that closes the block (left for the block). */
bool config_end_of_statement(struct config_parser *ps, bool in_block);

/* Copy the current word (shorter than size) to out and read the next
 * token; else an error "expected <wanted>". */
bool config_take_word(struct config_parser *ps, char *out, size_t size, const char *wanted);

/* Values, each the whole word w; false if it is anything else. */
bool config_parse_uint(const char *w, unsigned long max, unsigned long *out);   /* decimal */
bool config_parse_pci_slot(const char *w, uint16_t *bus, uint16_t *devfn);      /* "00:03.0" */
bool config_parse_mac(const char *w, uint8_t mac[6]);           /* "52:54:00:12:34:56" */
/* "A.B.C.D/LEN", LEN 0..32, or "A.B.C.D" as /32 when bare_ok. */
bool config_parse_prefix(const char *w, bool bare_ok, uint32_t *addr, unsigned *len);

/* The netmask of a prefix length, network byte order. */
uint32_t config_prefix_mask(unsigned len);

/* "A.B.C.D" of a network-order address into buf (16 bytes suffice). */
void config_format_ipv4(char *buf, size_t size, uint32_t addr);

#endif
