/*
 * The Linux x86_64 ABI as the POSIX server's processes see it: error
 * numbers, auxiliary-vector keys, flags and the structures the server
 * copies in and out, with the values of Linux's user-space ABI. The
 * system-call numbers and names are in syscall.h.
 */
#ifndef MICA_POSIX_LINUX_H
#define MICA_POSIX_LINUX_H

#include <stdint.h>

/* errno values (returned negated). */
#define LINUX_EPERM    1
#define LINUX_ENOENT   2
#define LINUX_ESRCH    3
#define LINUX_EINTR    4
#define LINUX_EBADF    9
#define LINUX_ENOMEM   12
#define LINUX_EFAULT   14
#define LINUX_EEXIST   17
#define LINUX_ENODEV   19
#define LINUX_EINVAL   22
#define LINUX_ENOTTY   25
#define LINUX_ESPIPE   29
#define LINUX_ERANGE   34
#define LINUX_ENAMETOOLONG 36
#define LINUX_ENOSYS   38

/* Auxiliary vector keys (getauxval(3)). */
#define AT_NULL     0
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

/* mmap, mprotect. */
#define LINUX_PROT_READ   0x1
#define LINUX_PROT_WRITE  0x2
#define LINUX_PROT_EXEC   0x4
#define LINUX_MAP_SHARED  0x01
#define LINUX_MAP_PRIVATE 0x02
#define LINUX_MAP_TYPE    0x0F
#define LINUX_MAP_FIXED   0x10
#define LINUX_MAP_ANONYMOUS 0x20
#define LINUX_MAP_FIXED_NOREPLACE 0x100000

/* arch_prctl. */
#define LINUX_ARCH_SET_GS 0x1001
#define LINUX_ARCH_SET_FS 0x1002
#define LINUX_ARCH_GET_FS 0x1003
#define LINUX_ARCH_GET_GS 0x1004

/* Signals. */
#define LINUX_NSIG    64
#define LINUX_SIGKILL 9
#define LINUX_SIGSTOP 19
#define LINUX_SIG_BLOCK   0
#define LINUX_SIG_UNBLOCK 1
#define LINUX_SIG_SETMASK 2

/* Clocks. */
#define LINUX_CLOCK_REALTIME           0
#define LINUX_CLOCK_MONOTONIC          1
#define LINUX_CLOCK_PROCESS_CPUTIME_ID 2
#define LINUX_CLOCK_THREAD_CPUTIME_ID  3
#define LINUX_CLOCK_MONOTONIC_RAW      4
#define LINUX_CLOCK_REALTIME_COARSE    5
#define LINUX_CLOCK_MONOTONIC_COARSE   6
#define LINUX_CLOCK_BOOTTIME           7

/* Files. */
#define LINUX_AT_FDCWD        (-100)
#define LINUX_AT_EMPTY_PATH   0x1000
#define LINUX_S_IFCHR         0020000
#define LINUX_IOV_MAX         1024
#define LINUX_PATH_MAX        4096

struct linux_iovec {
	uint64_t base, len;
};

struct linux_timespec {
	int64_t sec, nsec;
};

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
