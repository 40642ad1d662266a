/*
 * syslog(2), the kernel log's call (glibc's klogctl; busybox's dmesg):
 * Linux's answers for a log that is empty. The kernel's log and the
 * servers' lines are written to the serial console and kept nowhere the
 * POSIX server can read (docs/posix.md, "The kernel log"), so there is
 * nothing to read: READ_ALL and READ_CLEAR give 0 bytes, SIZE_UNREAD is
 * 0, SIZE_BUFFER is Linux's default buffer (1 << CONFIG_LOG_BUF_SHIFT,
 * 17), READ waits for a message that never comes (a signal interrupts
 * it). The console switches and level are kept and do nothing. Argument
 * checks as Linux's do_syslog; everybody is root, so never EPERM.
 */
#include "layout.h"
#include "syscall.h"

enum syslog_action {
	SYSLOG_CLOSE, SYSLOG_OPEN, SYSLOG_READ, SYSLOG_READ_ALL, SYSLOG_READ_CLEAR, SYSLOG_CLEAR,
	SYSLOG_CONSOLE_OFF, SYSLOG_CONSOLE_ON, SYSLOG_CONSOLE_LEVEL, SYSLOG_SIZE_UNREAD,
	SYSLOG_SIZE_BUFFER,
};

#define LOG_BUF_LEN (1L << 17)
#define CONSOLE_LEVEL_MIN 1     /* Linux's minimum_console_loglevel */

static int console_level = 7;   /* Linux's default console_loglevel */

long posix_syslog(struct process *p, struct user_regs *r)
{
	int len = (int)r->rdx;

	switch ((int)r->rdi) {
	case SYSLOG_CLOSE: case SYSLOG_OPEN: case SYSLOG_CLEAR:
	case SYSLOG_CONSOLE_OFF: case SYSLOG_CONSOLE_ON:
		return 0;
	case SYSLOG_READ: case SYSLOG_READ_ALL: case SYSLOG_READ_CLEAR:
		if (!r->rsi || len < 0)
			return -LINUX_EINVAL;
		if (!len)
			return 0;
		if (r->rsi > USER_SPACE_TOP || (uint64_t)len > USER_SPACE_TOP - r->rsi)
			return -LINUX_EFAULT;   /* access_ok: the range in user space */
		return (int)r->rdi == SYSLOG_READ ? SYSCALL_BLOCK : 0;
	case SYSLOG_CONSOLE_LEVEL:
		if (len < 1 || len > 8)
			return -LINUX_EINVAL;
		console_level = len < CONSOLE_LEVEL_MIN ? CONSOLE_LEVEL_MIN : len;
		return 0;
	case SYSLOG_SIZE_UNREAD:
		return 0;
	case SYSLOG_SIZE_BUFFER:
		return LOG_BUF_LEN;
	default:
		return -LINUX_EINVAL;
	}
}
