/*
 * The system's names: uname(2), and the host and domain names that
 * sethostname(2) and setdomainname(2) change. The host name starts as
 * the first word of the root filesystem's /etc/hostname (what a Linux
 * system's start-up sets from it), "(none)" without one, as Linux's
 * default; the domain name starts as "(none)". One set for the whole
 * server (a single UTS namespace): a change is seen by every process.
 */
#include "syscall.h"
#include "vfs.h"

#define UTS_LEN 64      /* Linux's __NEW_UTS_LEN: a name's bytes at most */

static struct linux_utsname uts = {
	.sysname = "Linux", .nodename = "(none)", .release = "6.1.0-mica",
	.version = "#1 Mica POSIX server", .machine = "x86_64", .domainname = "(none)",
};
static bool uts_read;   /* the host name was taken from /etc/hostname */

/* The host name from /etc/hostname, once: its first word (of UTS_LEN
 * bytes at most). */
static void hostname_file(void)
{
	char buf[UTS_LEN + 1];
	struct vfs_lookup l;
	size_t n = 0;

	if (uts_read)
		return;
	uts_read = true;
	if (vfs_resolve(VFS_ROOT, "/etc/hostname", VFS_FOLLOW, NULL, &l) < 0 ||
	    vfs_nodes[l.node].type != VFS_FILE)
		return;
	long len = vfs_read(l.node, 0, buf, UTS_LEN);
	while (len > 0 && n < (size_t)len && buf[n] != '\n' && buf[n] != ' ' && buf[n] != '\t' &&
	       buf[n] != '\r' && buf[n] != 0)
		n++;
	if (!n)
		return;
	memset(uts.nodename, 0, sizeof(uts.nodename));
	memcpy(uts.nodename, buf, n);
}

long posix_uname(struct process *p, struct user_regs *r)
{
	hostname_file();
	return as_copy_out(&p->as, r->rdi, &uts, sizeof(uts)) < 0 ? -LINUX_EFAULT : 0;
}

/* A name of len bytes at user address va into name (sethostname,
 * setdomainname: bytes as given, the rest zeros). 0, or -EINVAL (len
 * negative or past UTS_LEN), -EFAULT. Everybody is root: never EPERM. */
static long name_set(struct process *p, char name[UTS_LEN + 1], uint64_t va, int len)
{
	char tmp[UTS_LEN];

	if (len < 0 || len > UTS_LEN)
		return -LINUX_EINVAL;
	if (as_copy_in(&p->as, tmp, va, (size_t)len) < 0)
		return -LINUX_EFAULT;
	memset(name, 0, UTS_LEN + 1);
	memcpy(name, tmp, (size_t)len);
	return 0;
}

long posix_sethostname(struct process *p, struct user_regs *r)
{
	hostname_file();        /* (read first: the file must not undo this later) */
	return name_set(p, uts.nodename, r->rdi, (int)r->rsi);
}

long posix_setdomainname(struct process *p, struct user_regs *r)
{
	return name_set(p, uts.domainname, r->rdi, (int)r->rsi);
}
