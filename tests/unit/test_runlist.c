/* The POSIX server's run list (posix-server/runlist_parse.c): run='s
 * escapes, a run file's lines, the programs and words read back. */
#include <string.h>

#include "runlist_parse.h"
#include "unit.h"

/* The list in out read back as "word|word;word;" (| between words, ; after
 * a program), into text. */
static const char *spelled(char *list, char *text, size_t size)
{
	const char *argv[8];
	char *cursor = list;
	unsigned argc;

	text[0] = 0;
	while ((argc = run_list_next(&cursor, argv, 8)) > 0) {
		for (unsigned i = 0; i < argc; i++) {
			strncat(text, argv[i], size - strlen(text) - 1);
			strncat(text, i + 1 < argc ? "|" : ";", size - strlen(text) - 1);
		}
	}
	return text;
}

static const char *from_arg(const char *value)
{
	static char list[256], text[256];

	return run_list_from_arg(value, list, sizeof(list)) ? spelled(list, text, sizeof(text))
							     : "refused";
}

static const char *from_text(const char *file)
{
	static char list[256], text[256];

	return run_list_from_text(file, strlen(file), list, sizeof(list))
		       ? spelled(list, text, sizeof(text)) : "refused";
}

TEST(runlist_arg_splits_at_colons_and_commas)
{
	CHECK(!strcmp(from_arg("hello-musl:one:two,basics-musl"), "hello-musl|one|two;basics-musl;"));
	CHECK(!strcmp(from_arg("iperf3:-s"), "iperf3|-s;"));
	CHECK(!strcmp(from_arg(""), ""));
	CHECK(!strcmp(from_arg("a::b"), "a||b;"));      /* an empty argument */
}

TEST(runlist_arg_backslash_makes_a_comma_or_colon_part_of_the_word)
{
	CHECK(!strcmp(from_arg("echo:a\\,b:c\\:d,echo:two"), "echo|a,b|c:d;echo|two;"));
	CHECK(!strcmp(from_arg("echo:back\\\\slash"), "echo|back\\slash;"));
	CHECK(!strcmp(from_arg("echo:\\x"), "echo|x;"));
	CHECK(!strcmp(from_arg("echo:\\\\,x"), "echo|\\;x;"));
}

TEST(runlist_arg_refuses_a_lone_backslash_separator_bytes_and_overflow)
{
	char small[6];

	CHECK(!strcmp(from_arg("echo:a\\"), "refused"));
	CHECK(!strcmp(from_arg("echo:a\x1f" "b"), "refused"));
	CHECK(!strcmp(from_arg("echo:\\\x1e"), "refused"));
	CHECK(run_list_from_arg("abcde", small, sizeof(small)));
	CHECK(!run_list_from_arg("abcdef", small, sizeof(small)));
	CHECK(!run_list_from_arg("a\\,cdef", small, sizeof(small)));
}

TEST(runlist_file_lines_words_quotes_and_comments)
{
	CHECK(!strcmp(from_text("hello-musl one two\nbasics-musl\n"),
		      "hello-musl|one|two;basics-musl;"));
	CHECK(!strcmp(from_text("# a comment\n\n  busybox  sh -c 'echo a | cat'  # two\n"),
		      "busybox|sh|-c|echo a | cat;"));
	CHECK(!strcmp(from_text("echo\t'a # b'\n"), "echo|a # b;"));
	CHECK(!strcmp(from_text("echo x '' y"), "echo|x||y;"));    /* no last newline */
}

TEST(runlist_file_colons_and_commas_are_ordinary)
{
	CHECK(!strcmp(from_text("echo a,b c:d\nwget http://10.1.0.1:80/x,y\n"),
		      "echo|a,b|c:d;wget|http://10.1.0.1:80/x,y;"));
	CHECK(!strcmp(from_text("echo 'a, b:c'\n"), "echo|a, b:c;"));
}

TEST(runlist_file_refuses_separator_bytes_and_overflow)
{
	char small[8];

	CHECK(!strcmp(from_text("echo a\x1e" "b\n"), "refused"));
	CHECK(!strcmp(from_text("echo a\x1f\n"), "refused"));
	CHECK(run_list_from_text("ab cd\n", 6, small, sizeof(small)));
	CHECK(!run_list_from_text("ab cd ef\n", 9, small, sizeof(small)));
	/* Only size bytes are read, or up to a NUL. */
	CHECK(run_list_from_text("ab\ncd", 3, small, sizeof(small)) && !strcmp(small, "ab\x1e"));
}

TEST(runlist_next_drops_words_past_max)
{
	char list[64];
	const char *argv[2];
	char *cursor = list;

	CHECK(run_list_from_arg("a:b:c,d", list, sizeof(list)));
	CHECK_EQ(run_list_next(&cursor, argv, 2), 2);
	CHECK(!strcmp(argv[0], "a") && !strcmp(argv[1], "b"));
	CHECK_EQ(run_list_next(&cursor, argv, 2), 1);
	CHECK(!strcmp(argv[0], "d"));
	CHECK_EQ(run_list_next(&cursor, argv, 2), 0);
	CHECK_EQ(run_list_next(&cursor, argv, 2), 0);
}
