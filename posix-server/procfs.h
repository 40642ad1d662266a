/*
 * /proc's files, made when read (procfs.c; net/: procfs_net.c;
 * /proc/PID: procfs_pid.c; maps and environ: procfs_maps.c).
 */
#ifndef MICA_POSIX_PROCFS_H
#define MICA_POSIX_PROCFS_H

#include "file.h"
#include "vfs.h"

/* ---- procfs.c, procfs_net.c: the files of /proc made when read ---- */

/* Whether node is such a file (a VFS_FILE of FS_PROC). */
bool procfs_file(int node);
/* Its bytes from *off (advanced) into user buffer buf: bytes, 0 at
 * the end, -EFAULT, or SYSCALL_BLOCK (net/dev: waiting for the
 * netstack's answer, a bounded time). */
long procfs_read(struct process *p, struct file *f, uint64_t buf, uint64_t len, uint64_t *off);
/* Add to the file being made (fmt's formats); n bytes (false: they did
 * not all fit). */
void procfs_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool procfs_append(const void *bytes, size_t n);
/* (procfs_pid.c) /proc's nodes that depend on who looks (vfs_set_proc). */
extern const struct vfs_proc_ops procfs_ops;
/* The file of /proc/PID at node into the file being made: 0, or -ESRCH
 * (the process is gone), -ENOENT (fdinfo: the descriptor is closed). */
long procfs_pid_file(int node);
/* (procfs_maps.c) /proc/PID/maps and environ of p into the file being
 * made. */
void procfs_maps(const struct process *p);
void procfs_environ(struct process *p);
/* (procfs.c) /proc/stat's processes line: pids and tids given so far
 * (process.c). */
int pids_given(void);
/* (procfs.c) The load averages over 1, 5 and 15 minutes (LOAD_SHIFT-bit
 * fixed point, as Linux's avenrun), with any sample the timer was late
 * for taken now for the thread asking (not counted as runnable; NULL:
 * none); the runnable threads (the asking one among them) and all
 * threads of live processes. */
#define LOAD_SHIFT 11
#define LOAD_ONE   (1UL << LOAD_SHIFT)
void load_averages(const struct thread *asking, uint64_t load[3], uint64_t *running,
		   uint64_t *all);
/* When the next sample of the load averages is due (ns of sys_clock;
 * every 5 s from the first call), for the server's timer (timer.c). */
uint64_t load_next_sample(void);
/* The server's timer came at now: the sample, if due (every thread not
 * waiting in a call nor stopped counted). */
void load_sample(uint64_t now);
/* Whether node is a directory of /proc whose entries depend on the
 * processes (/proc, /proc/PID, its fd, fdinfo, task and task/TID). */
bool procfs_dir(int node);
/* Its entry at *pos (>= 2: getdents64's offset; "." and ".." are the
 * caller's) or after: its name (size bytes), DT_ type and inode number,
 * and *pos past it; false at the end. */
bool procfs_dirent(int dir, uint64_t *pos, char *name, size_t size, uint8_t *type, uint64_t *ino);
/* /proc/net's file (PROC_NET_DEV, _ROUTE, _TCP, _UDP) into the file
 * being made; a read at offset 0 first waits for the netstack's answer
 * (procfs_net.c, netinfo.h). 0, or SYSCALL_BLOCK. */
long procfs_net(struct process *p, enum vfs_device file, uint64_t off);

#endif
