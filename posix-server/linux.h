/*
 * The Linux x86_64 ABI as the POSIX server's processes see it: error
 * numbers, auxiliary-vector keys, flags and the structures the server
 * copies in and out, with the values of Linux's user-space ABI. The
 * system-call numbers and names are in syscall.h.
 */
#ifndef MICA_POSIX_LINUX_H
#define MICA_POSIX_LINUX_H

#include <stddef.h>
#include <stdint.h>

/* errno values (returned negated). */
#define LINUX_EPERM    1
#define LINUX_ENOENT   2
#define LINUX_ESRCH    3
#define LINUX_EINTR    4
#define LINUX_EIO      5
#define LINUX_ENXIO    6
#define LINUX_E2BIG    7
#define LINUX_ENOEXEC  8
#define LINUX_EBADF    9
#define LINUX_ECHILD   10
#define LINUX_EAGAIN   11
#define LINUX_ENOMEM   12
#define LINUX_EACCES   13
#define LINUX_EFAULT   14
#define LINUX_EBUSY    16
#define LINUX_EEXIST   17
#define LINUX_EXDEV    18
#define LINUX_ENODEV   19
#define LINUX_ENOTDIR  20
#define LINUX_EISDIR   21
#define LINUX_EINVAL   22
#define LINUX_ENFILE   23
#define LINUX_EMFILE   24
#define LINUX_ENOTTY   25
#define LINUX_EFBIG    27
#define LINUX_ENOSPC   28
#define LINUX_ESPIPE   29
#define LINUX_EROFS    30
#define LINUX_EMLINK   31
#define LINUX_EPIPE    32
#define LINUX_EDOM     33
#define LINUX_ERANGE   34
#define LINUX_ENAMETOOLONG 36
#define LINUX_EDEADLK  35
#define LINUX_ENOSYS   38
#define LINUX_ENOTEMPTY 39
#define LINUX_ELOOP    40
#define LINUX_ECANCELED 125

/* Auxiliary vector keys (getauxval(3)). */
#define AT_NULL     0
#define AT_IGNORE   1
#define AT_MINSIGSTKSZ 51
#define AT_PHDR     3
#define AT_PHENT    4
#define AT_PHNUM    5
#define AT_PAGESZ   6
#define AT_BASE     7
#define AT_FLAGS    8
#define AT_ENTRY    9
#define AT_UID      11
#define AT_EUID     12
#define AT_GID      13
#define AT_EGID     14
#define AT_PLATFORM 15
#define AT_HWCAP    16
#define AT_CLKTCK   17
#define AT_SECURE   23
#define AT_RANDOM   25
#define AT_HWCAP2   26
#define AT_EXECFN   31
#define AT_SYSINFO_EHDR 33

/* mmap, mprotect. */
#define LINUX_PROT_READ   0x1
#define LINUX_PROT_WRITE  0x2
#define LINUX_PROT_EXEC   0x4
#define LINUX_MAP_SHARED  0x01
#define LINUX_MAP_PRIVATE 0x02
#define LINUX_MAP_TYPE    0x0F
#define LINUX_MAP_FIXED   0x10
#define LINUX_MREMAP_MAYMOVE   1 /* mremap's flags */
#define LINUX_MREMAP_FIXED     2
#define LINUX_MREMAP_DONTUNMAP 4
#define LINUX_MAP_ANONYMOUS 0x20
#define LINUX_MAP_FIXED_NOREPLACE 0x100000

/* arch_prctl. */
#define LINUX_ARCH_SET_GS 0x1001
#define LINUX_ARCH_SET_FS 0x1002
#define LINUX_ARCH_GET_FS 0x1003
#define LINUX_ARCH_GET_GS 0x1004

/* Signals. */
#define LINUX_NSIG    64
#define LINUX_SIGHUP  1
#define LINUX_SIGINT  2
#define LINUX_SIGQUIT 3
#define LINUX_SIGILL  4
#define LINUX_SIGTRAP 5
#define LINUX_SIGABRT 6
#define LINUX_SIGBUS  7
#define LINUX_SIGFPE  8
#define LINUX_SIGKILL 9
#define LINUX_SIGSEGV 11
#define LINUX_SIGPIPE 13
#define LINUX_SIGALRM 14
#define LINUX_SIGCHLD 17
#define LINUX_SIGCONT 18
#define LINUX_SIGSTOP 19
#define LINUX_SIGTSTP 20
#define LINUX_SIGTTIN 21
#define LINUX_SIGTTOU 22
#define LINUX_SIGURG  23
#define LINUX_SIGXCPU 24
#define LINUX_SIGXFSZ 25
#define LINUX_SIGVTALRM 26
#define LINUX_SIGPROF 27
#define LINUX_SIGWINCH 28
#define LINUX_SIGSYS  31
#define LINUX_SIG_DFL 0
#define LINUX_SIG_IGN 1
#define LINUX_SA_NOCLDSTOP 0x00000001UL
#define LINUX_SA_NOCLDWAIT 0x00000002UL
#define LINUX_SA_SIGINFO   0x00000004UL
#define LINUX_SA_RESTORER  0x04000000UL
#define LINUX_SA_ONSTACK   0x08000000UL
#define LINUX_SA_RESTART   0x10000000UL
#define LINUX_SA_NODEFER   0x40000000UL
#define LINUX_SA_RESETHAND 0x80000000UL
#define LINUX_SS_ONSTACK   1
#define LINUX_SS_DISABLE   2
#define LINUX_MINSIGSTKSZ  2048
/* siginfo's si_code */
#define LINUX_SI_USER      0
#define LINUX_SI_KERNEL    0x80
#define LINUX_SI_TKILL     (-6)
#define LINUX_SI_TIMER     (-2)
#define LINUX_ILL_ILLOPN   2
#define LINUX_FPE_INTDIV   1
#define LINUX_TRAP_BRKPT   1
#define LINUX_BUS_ADRALN   1
#define LINUX_BUS_ADRERR   2
#define LINUX_SEGV_MAPERR  1
#define LINUX_SEGV_ACCERR  2
#define LINUX_CLD_EXITED   1
#define LINUX_CLD_KILLED   2
#define LINUX_CLD_STOPPED  5
#define LINUX_CLD_CONTINUED 6
#define LINUX_ITIMER_REAL  0
#define LINUX_ITIMER_VIRTUAL 1
#define LINUX_ITIMER_PROF  2
#define LINUX_TIMER_ABSTIME 1
#define LINUX_SIG_BLOCK   0
#define LINUX_SIG_UNBLOCK 1
#define LINUX_SIG_SETMASK 2

/* poll's events (and epoll's, the same bits). */
#define LINUX_POLLIN   0x001
#define LINUX_POLLPRI  0x002
#define LINUX_POLLOUT  0x004
#define LINUX_POLLERR  0x008
#define LINUX_POLLHUP  0x010
#define LINUX_POLLNVAL 0x020
#define LINUX_POLLRDNORM 0x040
#define LINUX_POLLWRNORM 0x100
#define LINUX_EPOLL_CTL_ADD 1
#define LINUX_EPOLL_CTL_DEL 2
#define LINUX_EPOLL_CTL_MOD 3
#define LINUX_EPOLLONESHOT (1U << 30)
#define LINUX_EPOLLET      (1U << 31)
#define LINUX_EPOLLEXCLUSIVE (1U << 28)
#define LINUX_EPOLLWAKEUP    (1U << 29)

/* Clocks. */
#define LINUX_CLOCK_REALTIME           0
#define LINUX_CLOCK_MONOTONIC          1
#define LINUX_CLOCK_PROCESS_CPUTIME_ID 2
#define LINUX_CLOCK_THREAD_CPUTIME_ID  3
#define LINUX_CLOCK_MONOTONIC_RAW      4
#define LINUX_CLOCK_REALTIME_COARSE    5
#define LINUX_CLOCK_MONOTONIC_COARSE   6
#define LINUX_CLOCK_BOOTTIME           7
/* times(2)'s unit: clock ticks a second (AT_CLKTCK, sysconf(_SC_CLK_TCK)). */
#define LINUX_CLOCKS_PER_SEC           100
/* getrusage(2)'s who. */
#define LINUX_RUSAGE_SELF              0
#define LINUX_RUSAGE_CHILDREN          (-1)
#define LINUX_RUSAGE_THREAD            1

/* Files. */
#define LINUX_AT_FDCWD        (-100)
#define LINUX_AT_SYMLINK_NOFOLLOW 0x100
#define LINUX_AT_REMOVEDIR    0x200
#define LINUX_AT_EACCESS      0x200
#define LINUX_AT_SYMLINK_FOLLOW 0x400
#define LINUX_AT_EMPTY_PATH   0x1000
#define LINUX_S_IFMT          0170000
#define LINUX_S_IFIFO         0010000
#define LINUX_S_IFCHR         0020000
#define LINUX_S_IFDIR         0040000
#define LINUX_S_IFBLK         0060000
#define LINUX_S_IFREG         0100000
#define LINUX_S_IFLNK         0120000
#define LINUX_S_IFSOCK        0140000
#define LINUX_IOV_MAX         1024
#define LINUX_PATH_MAX        4096

#define LINUX_O_ACCMODE   03
#define LINUX_O_RDONLY    00
#define LINUX_O_WRONLY    01
#define LINUX_O_RDWR      02
#define LINUX_O_CREAT     0100
#define LINUX_O_EXCL      0200
#define LINUX_O_NOCTTY    0400
#define LINUX_O_TRUNC     01000
#define LINUX_O_APPEND    02000
#define LINUX_O_NONBLOCK  04000
#define LINUX_O_LARGEFILE 0100000
#define LINUX_O_DIRECTORY 0200000
#define LINUX_O_NOFOLLOW  0400000
#define LINUX_O_CLOEXEC   02000000
#define LINUX_O_PATH      010000000
#define LINUX_O_TMPFILE   020000000

#define LINUX_F_DUPFD     0
#define LINUX_F_GETFD     1
#define LINUX_F_SETFD     2
#define LINUX_F_GETFL     3
#define LINUX_F_SETFL     4
#define LINUX_F_DUPFD_CLOEXEC 1030
#define LINUX_FD_CLOEXEC  1

#define LINUX_SEEK_SET 0
#define LINUX_SEEK_CUR 1
#define LINUX_SEEK_END 2

#define LINUX_R_OK 4
#define LINUX_W_OK 2
#define LINUX_X_OK 1

#define LINUX_DT_FIFO 1
#define LINUX_DT_CHR  2
#define LINUX_DT_DIR  4
#define LINUX_DT_BLK  6
#define LINUX_DT_REG  8
#define LINUX_DT_LNK  10
#define LINUX_DT_SOCK 12

/* ioctl requests. */
#define LINUX_TCGETS     0x5401
#define LINUX_TCSETS     0x5402
#define LINUX_TCSETSW    0x5403
#define LINUX_TCSETSF    0x5404
#define LINUX_TIOCGPGRP  0x540F
#define LINUX_TIOCSPGRP  0x5410
#define LINUX_TIOCGWINSZ 0x5413
#define LINUX_TIOCSWINSZ 0x5414
#define LINUX_TCSBRK     0x5409
#define LINUX_TCXONC     0x540A
#define LINUX_TCFLSH     0x540B
#define LINUX_TIOCSCTTY  0x540E
#define LINUX_TIOCOUTQ   0x5411
#define LINUX_TIOCNOTTY  0x5422
#define LINUX_TIOCGSID   0x5429
#define LINUX_FIONREAD   0x541B
#define LINUX_FIONBIO    0x5421
#define LINUX_FIONCLEX   0x5450
#define LINUX_FIOCLEX    0x5451

/* Resource limits (prlimit64). */
#define LINUX_RLIMIT_STACK  3
#define LINUX_RLIMIT_NPROC  6
#define LINUX_RLIMIT_NOFILE 7
#define LINUX_RLIM_NLIMITS  16
#define LINUX_RLIM_INFINITY (~0UL)

struct linux_rlimit {
	uint64_t cur, max;
};

/* The terminal's settings (the kernel's struct termios, 36 bytes). */
struct linux_termios {
	uint32_t iflag, oflag, cflag, lflag;
	uint8_t line, cc[19];
};

struct linux_winsize {
	uint16_t row, col, xpixel, ypixel;
};

/* getdents64's record: the name follows, the record is padded to 8. */
struct linux_dirent64 {
	uint64_t ino;
	int64_t off;
	uint16_t reclen;
	uint8_t type;
	char name[];
};

struct linux_statx_timestamp {
	int64_t sec;
	uint32_t nsec;
	int32_t reserved;
};

/* statx's struct: 256 bytes. */
struct linux_statx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, pad0;
	uint64_t ino, size, blocks, attributes_mask;
	struct linux_statx_timestamp atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};
#define LINUX_STATX_BASIC_STATS 0x7FF

struct linux_iovec {
	uint64_t base, len;
};

struct linux_timespec {
	int64_t sec, nsec;
};

/* ns as a timespec. */
static inline struct linux_timespec ns_timespec(uint64_t ns)
{
	return (struct linux_timespec){ (int64_t)(ns / 1000000000), (int64_t)(ns % 1000000000) };
}

/* A timespec's ns (seconds past INT64_MAX / 2 ns held there, far enough
 * to be never), or -EINVAL (Linux's timespec64_valid). */
static inline long timespec_ns(const struct linux_timespec *ts, uint64_t *ns)
{
	if (ts->sec < 0 || ts->nsec < 0 || ts->nsec >= 1000000000)
		return -LINUX_EINVAL;
	*ns = (uint64_t)ts->sec > INT64_MAX / 1000000000 / 2 ? INT64_MAX / 2
		: (uint64_t)ts->sec * 1000000000 + (uint64_t)ts->nsec;
	return 0;
}

struct linux_timeval {
	int64_t sec, usec;
};

/* struct timezone (gettimeofday, settimeofday). */
struct linux_timezone {
	int32_t minuteswest, dsttime;
};

struct linux_itimerval {
	struct linux_timeval interval, value;
};

/* struct itimerspec (timerfd_settime, timer_settime). */
struct linux_itimerspec {
	struct linux_timespec interval, value;
};

/* struct rusage (getrusage). */
struct linux_rusage {
	struct { int64_t sec, usec; } utime, stime;
	int64_t maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock, msgsnd,
		msgrcv, nsignals, nvcsw, nivcsw;
};

struct linux_pollfd {
	int32_t fd;
	int16_t events, revents;
};

/* epoll_event: packed on x86_64 (12 bytes). */
struct __attribute__((packed)) linux_epoll_event {
	uint32_t events;
	uint64_t data;
};

/* sigaltstack's stack_t. */
struct linux_stack {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};

/* siginfo_t (128 bytes): the fields kill, tgkill and SIGCHLD fill. */
struct linux_siginfo {
	int32_t signo, errno_, code, pad;
	union {
		struct {
			int32_t pid, uid;
			int32_t status, pad2;   /* SIGCHLD's */
			int64_t utime, stime;   /* SIGCHLD's */
		};
		uint64_t addr;                  /* a fault's (SIGILL, SIGFPE...) */
		struct {                        /* a POSIX timer's (SI_TIMER) */
			int32_t timerid, overrun;
			uint64_t value;
		};
	};
	uint8_t rest[128 - 48];
};

/* The x86_64 signal frame at the handler's stack pointer: the return
 * address (sa_restorer), the ucontext, the siginfo (arch/x86's struct
 * rt_sigframe). uc_mcontext is struct sigcontext. */
struct linux_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate;
	uint64_t reserved[8];
};

#define LINUX_UC_FP_XSTATE          0x1     /* uc_flags: fpstate is an XSAVE area */
#define LINUX_UC_SIGCONTEXT_SS      0x2
#define LINUX_UC_STRICT_RESTORE_SS  0x4

struct linux_ucontext {
	uint64_t flags, link;
	struct linux_stack stack;
	struct linux_sigcontext mcontext;
	uint64_t sigmask;
};

struct linux_rt_sigframe {
	uint64_t pretcode;
	struct linux_ucontext uc;
	struct linux_siginfo info;
};

_Static_assert(sizeof(struct linux_siginfo) == 128, "siginfo_t is 128 bytes");
_Static_assert(sizeof(struct linux_sigcontext) == 256, "struct sigcontext is 256 bytes");
_Static_assert(offsetof(struct linux_rt_sigframe, uc.mcontext) == 48, "uc_mcontext at 40 of uc");
_Static_assert(offsetof(struct linux_rt_sigframe, info) == 312, "siginfo after the ucontext");
_Static_assert(sizeof(struct linux_epoll_event) == 12, "epoll_event is packed on x86_64");

/* rt_sigaction's struct (the kernel's, not libc's). */
struct linux_sigaction {
	uint64_t handler, flags, restorer, mask;
};

struct linux_utsname {
	char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};

/* struct stat of x86_64 (fstat, newfstatat): 144 bytes. */
struct linux_stat {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad0;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	struct linux_timespec atime, mtime, ctime;
	int64_t reserved[3];
};

#endif
