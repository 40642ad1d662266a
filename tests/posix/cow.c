/*
 * fork with copy-on-write, as Linux does it: after a fork of a big heap
 * (an 8 MiB malloc, 1 MiB of bss, a global, the stack) and of a private
 * mapping of a file, what the child writes the parent does not see and
 * the other way round; 16 MiB through a pipe between a forked parent and
 * an exec'd child, the SHA-256 of both sides printed; fork/exit/wait
 * cycles (`cow cycles N` runs N of them alone and says how many went
 * right: the POSIX server's leak test runs 1000). `cow big N` touches N
 * MiB, forks, and the child writes all of it (a copy of every page): on
 * Mica with less memory than twice that, the child is killed (SIGKILL,
 * out of memory) and the parent carries on with its memory as it was.
 *
 * Every line it prints is the same on Linux and on Mica.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define HEAP_BYTES (8u << 20)
#define PAGE 4096u
#define PIPE_BYTES (16u << 20)
#define CHUNK 65536u

/* ---- SHA-256 (FIPS 180-4) ---- */

struct sha256 {
	uint32_t h[8];
	uint8_t block[64];
	uint64_t bytes;
};

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return x >> n | x << (32 - n);
}

static void sha256_block(struct sha256 *s, const uint8_t *p)
{
	uint32_t w[64], v[8];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++)
		w[i] = w[i - 16] + (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ w[i - 15] >> 3) +
		       w[i - 7] + (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ w[i - 2] >> 10);
	memcpy(v, s->h, sizeof(v));
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) +
			      ((v[4] & v[5]) ^ (~v[4] & v[6])) + K[i] + w[i];
		uint32_t t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
			      ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		s->h[i] += v[i];
}

static void sha256_init(struct sha256 *s)
{
	static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(s->h, h0, sizeof(h0));
	s->bytes = 0;
}

static void sha256_add(struct sha256 *s, const uint8_t *p, size_t n)
{
	while (n) {
		size_t at = s->bytes % 64, take = 64 - at < n ? 64 - at : n;
		memcpy(s->block + at, p, take);
		s->bytes += take;
		p += take;
		n -= take;
		if (s->bytes % 64 == 0)
			sha256_block(s, s->block);
	}
}

/* The digest as 64 hexadecimal digits into hex[65]. */
static void sha256_hex(struct sha256 *s, char *hex)
{
	uint64_t bits = s->bytes * 8;
	uint8_t pad[72] = { 0x80 }, len[8];

	sha256_add(s, pad, 1 + (119 - s->bytes % 64) % 64);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_add(s, len, 8);
	for (int i = 0; i < 8; i++)
		sprintf(hex + 8 * i, "%08x", s->h[i]);
}

/* ---- copy-on-write ---- */

static int global = 1;
static unsigned char bss[1u << 20];

/* Whether every page of heap[0..bytes) starts with v. */
static int all_pages(const unsigned char *heap, size_t bytes, unsigned char v)
{
	for (size_t off = 0; off < bytes; off += PAGE)
		if (heap[off] != v || heap[off + PAGE - 1] != v)
			return 0;
	return 1;
}

static void set_pages(unsigned char *heap, size_t bytes, unsigned char v)
{
	for (size_t off = 0; off < bytes; off += PAGE)
		heap[off] = heap[off + PAGE - 1] = v;
}

static void cow(void)
{
	unsigned char *heap = malloc(HEAP_BYTES);
	int on_stack = 1, to_child[2], to_parent[2];
	char c;

	if (!heap || pipe(to_child) || pipe(to_parent)) {
		printf("cow: setup failed\n");
		return;
	}
	memset(heap, 'a', HEAP_BYTES);
	set_pages(bss, sizeof(bss), 'a');
	/* A private mapping of a file: the child's writes are its own, and
	 * never reach the file. Named by pid: runs at once on one host each
	 * have their own. */
	char path[64];
	snprintf(path, sizeof(path), "/tmp/cow-file-%d", (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	unsigned char page[PAGE];
	memset(page, 'f', sizeof(page));
	unsigned char *map = NULL;
	if (fd < 0 || write(fd, page, PAGE) != PAGE || write(fd, page, PAGE) != PAGE ||
	    (map = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		printf("cow: file mapping failed\n");
		return;
	}
	map[0] = 'm';

	pid_t pid = fork();
	if (pid == 0) {
		int ok = all_pages(heap, HEAP_BYTES, 'a') && all_pages(bss, sizeof(bss), 'a') &&
			 global == 1 && on_stack == 1 && map[0] == 'm' && map[PAGE] == 'f';
		set_pages(heap, HEAP_BYTES, 'c');
		set_pages(bss, sizeof(bss), 'c');
		global = on_stack = 3;
		map[0] = map[PAGE] = 'c';
		write(to_parent[1], "w", 1);
		read(to_child[0], &c, 1);       /* the parent has written its own */
		ok = ok && all_pages(heap, HEAP_BYTES, 'c') && all_pages(bss, sizeof(bss), 'c') &&
		     global == 3 && on_stack == 3 && map[0] == 'c' && map[PAGE] == 'c';
		_exit(ok ? 0 : 1);
	}
	read(to_parent[0], &c, 1);              /* the child has written */
	printf("after the child wrote, the parent sees its own: heap %d, bss %d, global %d, "
	       "stack %d, file mapping %d\n", all_pages(heap, HEAP_BYTES, 'a'),
	       all_pages(bss, sizeof(bss), 'a'), global == 1, on_stack == 1,
	       map[0] == 'm' && map[PAGE] == 'f');
	set_pages(heap, HEAP_BYTES, 'p');
	global = 2;
	write(to_child[1], "p", 1);
	int status = -1;
	waitpid(pid, &status, 0);
	printf("the child saw its own writes, not the parent's: %s\n",
	       WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "no");
	unsigned char back[PAGE];
	printf("the file is as written: %d\n",
	       pread(fd, back, PAGE, PAGE) == PAGE && back[0] == 'f' && back[PAGE - 1] == 'f');

	/* The parent writes first this time, the child reads after. */
	pid = fork();
	if (pid == 0) {
		read(to_child[0], &c, 1);
		_exit(all_pages(heap, HEAP_BYTES, 'p') && global == 2 ? 0 : 1);
	}
	set_pages(heap, HEAP_BYTES, 'q');
	global = 4;
	write(to_child[1], "p", 1);
	waitpid(pid, &status, 0);
	printf("the parent's later writes are not the child's: %s\n",
	       WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "no");

	/* A read() into a page shared with a child fills the reader's copy. */
	pid = fork();
	if (pid == 0) {
		read(to_child[0], &c, 1);
		_exit(heap[0] == 'q' ? 0 : 1);
	}
	write(to_parent[1], "r", 1);
	read(to_parent[0], heap, 1);
	write(to_child[1], "p", 1);
	waitpid(pid, &status, 0);
	printf("read into a shared page: parent %c, child unchanged %s\n", heap[0],
	       WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "no");
	munmap(map, 2 * PAGE);
	close(fd);
	unlink(path);

	/* The program's own file (on Mica a root-filesystem file, whose
	 * pages every mapping shares until written): a child's write to
	 * its private mapping is neither the parent's nor a new mapping's. */
	fd = open("/proc/self/exe", O_RDONLY);
	unsigned char *exe = fd < 0 ? MAP_FAILED
		: mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (exe == MAP_FAILED) {
		printf("cow: mapping the program failed\n");
		return;
	}
	pid = fork();
	if (pid == 0) {
		exe[1] = 'X';
		_exit(exe[1] == 'X' && exe[0] == 0x7f ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	unsigned char *again = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	printf("the program's file mapped: the child wrote its own %s, the parent sees %c, "
	       "a new mapping %c\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "no",
	       exe[1], again == MAP_FAILED ? '?' : again[1]);
	exe[1] = 'Y';
	printf("the parent's write: %c, a new mapping still %c\n", exe[1],
	       again == MAP_FAILED ? '?' : again[1]);
	munmap(exe, PAGE);
	if (again != MAP_FAILED)
		munmap(again, PAGE);
	close(fd);
	free(heap);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

/* ---- 16 MiB through a pipe ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static void fill(uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		memcpy(buf + i, &rng, 8);
	}
}

/* Its standard input to the end: how many bytes and their SHA-256. */
static int sink(void)
{
	static uint8_t buf[CHUNK];
	struct sha256 s;
	char hex[65];
	ssize_t n;

	sha256_init(&s);
	while ((n = read(0, buf, sizeof(buf))) > 0)
		sha256_add(&s, buf, (size_t)n);
	unsigned long long bytes = s.bytes;
	sha256_hex(&s, hex);
	printf("child: %llu bytes, sha256 %s\n", bytes, hex);
	return n == 0 ? 0 : 1;
}

static void pipe_to_exec(const char *self)
{
	static uint8_t buf[CHUNK];
	struct sha256 s;
	char hex[65];
	int p[2];

	if (pipe(p)) {
		printf("pipe failed\n");
		return;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		execl(self, "cow", "sink", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	sha256_init(&s);
	for (size_t sent = 0; sent < PIPE_BYTES; sent += CHUNK) {
		fill(buf, CHUNK);
		sha256_add(&s, buf, CHUNK);
		for (size_t off = 0; off < CHUNK;) {
			ssize_t n = write(p[1], buf + off, CHUNK - off);
			if (n <= 0) {
				printf("write failed\n");
				return;
			}
			off += (size_t)n;
		}
	}
	close(p[1]);
	int status = -1;
	waitpid(pid, &status, 0);
	sha256_hex(&s, hex);
	printf("parent: %u bytes, sha256 %s; child exited %d\n", PIPE_BYTES, hex,
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* n fork/exit/wait cycles, each child with its own status: how many
 * came back right. */
static int cycles(int n)
{
	int ok = 0;

	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(i & 0x7F);
		int status = -1;
		if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == (i & 0x7F))
			ok++;
	}
	return ok;
}

/* n MiB touched, then a child that writes every page of them. */
static void big(int n)
{
	size_t bytes = (size_t)n << 20;
	unsigned char *heap = malloc(bytes);

	if (!heap) {
		printf("big: malloc failed\n");
		return;
	}
	set_pages(heap, bytes, 'a');
	printf("big: %d MiB touched\n", n);
	pid_t pid = fork();
	if (pid == 0) {
		set_pages(heap, bytes, 'c');
		_exit(all_pages(heap, bytes, 'c') ? 0 : 1);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		printf("big: the child was killed by signal %d\n", WTERMSIG(status));
	else
		printf("big: the child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	printf("big: the parent's memory as it was: %d\n", all_pages(heap, bytes, 'a'));
	free(heap);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "sink"))
		return sink();
	if (argc > 2 && !strcmp(argv[1], "cycles")) {
		int n = atoi(argv[2]);
		printf("%d fork/exit/wait cycles: %d right\n", n, cycles(n));
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "big")) {
		big(atoi(argv[2]));
		return 0;
	}
	/* Line-buffered as on a terminal, also when run by the tests'
	 * host side through a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	cow();
	pipe_to_exec("/proc/self/exe");
	printf("100 fork/exit/wait cycles: %d right\n", cycles(100));
	return 0;
}
