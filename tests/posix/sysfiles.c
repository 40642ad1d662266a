/*
 * /proc and /etc, differential: what a program may rely on and that is
 * the same on every Linux by design — never the numbers themselves.
 * /proc/meminfo's MemTotal, MemFree, MemAvailable (positive, in kB, free
 * at most total), /proc/cpuinfo (processor 0, a vendor, a model name,
 * the flags every x86_64 has), /proc/uptime (two numbers of two
 * decimals), /proc/mounts (six fields a line, / and /proc), /proc/net/dev
 * (Linux's two header lines, then "name: 16 numbers" lines),
 * /proc/self/stat and /proc/self/status (this process's ids, its name,
 * running), stat of a /proc file (size 0); /etc/hosts through
 * getaddrinfo (localhost), /etc/services and /etc/protocols through
 * getservbyname, getservbyport and getprotobyname, /etc/resolv.conf's
 * nameserver line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char text[65536];

/* The whole file at path into text (read in small pieces, as a program
 * reading line by line does): its length, or -1. */
static long slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	long len = 0, n;

	if (fd < 0)
		return -1;
	while (len < (long)sizeof(text) - 1 && (n = read(fd, text + len, 100)) > 0)
		len += n;
	close(fd);
	text[len] = 0;
	return n < 0 ? -1 : len;
}

/* The number after "key:" in text (a line's start), or -1. */
static long long field(const char *key)
{
	size_t k = strlen(key);

	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, key, k) && line[k] == ':')
			return atoll(line + k + 1);
	return -1;
}

static const char *yes(int v)
{
	return v ? "yes" : "no";
}

static void meminfo(void)
{
	printf("meminfo read: %s\n", yes(slurp("/proc/meminfo") > 0));
	long long total = field("MemTotal"), free = field("MemFree"), avail = field("MemAvailable");
	printf("MemTotal positive: %s\n", yes(total > 0));
	printf("MemFree at most MemTotal: %s\n", yes(free >= 0 && free <= total));
	printf("MemAvailable at most MemTotal: %s\n", yes(avail >= 0 && avail <= total));
	printf("SwapTotal, SwapFree, Cached there: %s\n",
	       yes(field("SwapTotal") >= 0 && field("SwapFree") >= 0 && field("Cached") >= 0));
	char *line = strstr(text, "MemTotal:");
	printf("MemTotal in kB: %s\n", yes(line && strstr(line, " kB\n") == strchr(line, '\n') - 3));
}

static void cpuinfo(void)
{
	printf("cpuinfo read: %s\n", yes(slurp("/proc/cpuinfo") > 0));
	printf("processor 0: %s\n", yes(!strncmp(text, "processor\t: 0\n", 14)));
	char *v = strstr(text, "\nvendor_id\t: ");
	printf("vendor_id: %s\n", yes(v && isalnum((unsigned char)v[13])));
	printf("model name: %s\n", yes(strstr(text, "\nmodel name\t: ") != NULL));
	char *flags = strstr(text, "\nflags\t\t: ");
	char *end = flags ? strchr(flags + 1, '\n') : NULL;
	if (end)
		*end = 0;
	printf("flags fpu, tsc, cx8, cmov, mmx, fxsr, sse, sse2: %s\n",
	       yes(flags && strstr(flags, " fpu ") && strstr(flags, " tsc ") &&
		   strstr(flags, " cx8 ") && strstr(flags, " cmov ") && strstr(flags, " mmx ") &&
		   strstr(flags, " fxsr ") && strstr(flags, " sse ") && strstr(flags, " sse2 ")));
}

static void uptime(void)
{
	unsigned long a, b, c, d;
	char nl = 0;

	printf("uptime read: %s\n", yes(slurp("/proc/uptime") > 0));
	int n = sscanf(text, "%lu.%2lu %lu.%2lu%c", &a, &b, &c, &d, &nl);
	printf("uptime: two numbers of two decimals: %s\n",
	       yes(n == 5 && nl == '\n' && strchr(text, '.')[3] == ' ' && a + b > 0));
}

static void mounts(void)
{
	int lines = 0, six = 1, root = 0, proc = 0;

	printf("mounts read: %s\n", yes(slurp("/proc/mounts") > 0));
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char dev[256], dir[256], type[64], opts[512];
		int freq, pass;
		lines++;
		six &= sscanf(line, "%255s %255s %63s %511s %d %d", dev, dir, type, opts, &freq, &pass) == 6;
		root |= !strcmp(dir, "/");
		proc |= !strcmp(dir, "/proc") && !strcmp(type, "proc");
	}
	printf("mounts: six fields a line %s, / %s, proc at /proc %s\n", yes(six && lines), yes(root),
	       yes(proc));
}

static void net_dev(void)
{
	int lines = 0, good = 1;

	printf("net/dev read: %s\n", yes(slurp("/proc/net/dev") > 0));
	char *rest = text;
	for (char *line = strsep(&rest, "\n"); line && *line; line = strsep(&rest, "\n")) {
		if (++lines <= 2) {
			printf("%s\n", line);
			continue;
		}
		char name[64];
		unsigned long long v[16];
		int n = sscanf(line, " %63[^:]: %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
			       "%llu %llu %llu %llu", name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			       &v[7], &v[8], &v[9], &v[10], &v[11], &v[12], &v[13], &v[14], &v[15]);
		good &= n == 17;
	}
	printf("net/dev: every interface a name and 16 numbers: %s\n", yes(good));
}

static void self(const char *argv0)
{
	const char *name = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
	char comm[64] = "", state = 0;
	int pid = 0, ppid = 0, pgrp = 0, sid = 0;

	printf("self/stat read: %s\n", yes(slurp("/proc/self/stat") > 0));
	int n = sscanf(text, "%d (%63[^)]) %c %d %d %d", &pid, comm, &state, &ppid, &pgrp, &sid);
	printf("stat: %d fields read; pid %s, comm %s, state %c, ppid %s, pgrp %s, session %s\n", n,
	       yes(pid == getpid()), comm, state, yes(ppid == getppid()), yes(pgrp == getpgrp()),
	       yes(sid == getsid(0)));
	int fields = 0;
	for (char *t = strtok(strrchr(text, ')') + 1, " \n"); t; t = strtok(NULL, " \n"))
		fields++;
	printf("stat: %d fields\n", fields + 2);
	printf("self/status read: %s\n", yes(slurp("/proc/self/status") > 0));
	char *nm = strstr(text, "Name:\t");
	printf("status: Name %s, State R %s, Pid %s, PPid %s, Uid %s, Threads %lld\n",
	       yes(nm && !strncmp(nm + 6, name, strlen(name) > 15 ? 15 : strlen(name))),
	       yes(strstr(text, "\nState:\tR (running)\n") != NULL), yes(field("Pid") == getpid()),
	       yes(field("PPid") == getppid()), yes(field("Uid") == getuid()), field("Threads"));
	struct stat st;
	int r = stat("/proc/meminfo", &st);
	printf("stat /proc/meminfo: %d regular %s size %lld\n", r, yes(S_ISREG(st.st_mode)),
	       (long long)st.st_size);
}

/* /etc/hosts through getaddrinfo (glibc's resolver sets itself up under
 * pthread_once, which wakes its waiters by futex). */
static void hosts(void)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int r = getaddrinfo("localhost", "80", &hints, &ai);
	char addr[INET_ADDRSTRLEN] = "none";

	if (r == 0)
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, addr, sizeof(addr));
	printf("getaddrinfo localhost: %d %s port %d\n", r, addr,
	       r == 0 ? ntohs(((struct sockaddr_in *)ai->ai_addr)->sin_port) : 0);
	if (ai)
		freeaddrinfo(ai);
}

static void etc(void)
{
	struct servent *s = getservbyname("ssh", "tcp");
	printf("getservbyname ssh/tcp: %d\n", s ? ntohs((unsigned short)s->s_port) : -1);
	s = getservbyname("domain", "udp");
	printf("getservbyname domain/udp: %d\n", s ? ntohs((unsigned short)s->s_port) : -1);
	s = getservbyport(htons(80), "tcp");
	printf("getservbyport 80/tcp: %s\n", s ? s->s_name : "none");
	s = getservbyname("no-such-service", "tcp");
	printf("getservbyname no-such-service: %s\n", s ? "found" : "none");
	struct protoent *pe = getprotobyname("tcp");
	printf("getprotobyname tcp: %d\n", pe ? pe->p_proto : -1);
	pe = getprotobyname("udp");
	printf("getprotobyname udp: %d\n", pe ? pe->p_proto : -1);
	pe = getprotobynumber(1);
	printf("getprotobynumber 1: %s\n", pe ? pe->p_name : "none");
	slurp("/etc/services");
	printf("/etc/services: http 80/tcp: %s\n", yes(strstr(text, "\nhttp\t\t80/tcp") != NULL));
	slurp("/etc/protocols");
	printf("/etc/protocols: icmp 1: %s\n", yes(strstr(text, "\nicmp\t1\tICMP") != NULL));
	slurp("/etc/resolv.conf");
	printf("/etc/resolv.conf: a nameserver line: %s\n",
	       yes(!strncmp(text, "nameserver ", 11) || strstr(text, "\nnameserver ")));
}

int main(int argc, char **argv)
{
	(void)argc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	meminfo();
	cpuinfo();
	uptime();
	mounts();
	net_dev();
	self(argv[0]);
	hosts();
	etc();
	printf("sysfiles: done\n");
	return 0;
}
