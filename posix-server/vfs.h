/*
 * The POSIX server's file tree: one table of nodes (directories, files,
 * symbolic links, devices) holding the read-only root filesystem, taken
 * from the cpio boot module (its file bytes stay in the archive), and the
 * writable tmpfs directories (/tmp, /var) whose files keep their bytes in
 * pages of the server's. Paths are resolved here, with Linux's errors.
 *
 * Pure logic (host unit tests, tests/unit/test_vfs.c): pages come from
 * the ops given to vfs_init; nothing here makes a system call. Errors are
 * Linux errno values, negated (linux.h).
 */
#ifndef MICA_POSIX_VFS_H
#define MICA_POSIX_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VFS_NODES      2048     /* nodes in all (files, directories, links, devices; every
				   pipe, socket, eventfd and epoll has one) */
#define VFS_NAME_MAX   59       /* bytes of one name (Linux's is 255: longer is ENAMETOOLONG) */
#define VFS_ROOT       0        /* the root directory's node */
#define VFS_LINKS_MAX  8        /* symbolic links followed in one path (then ELOOP) */
#define TMPFS_PAGES    4096     /* pages all tmpfs files together may hold (16 MiB): then ENOSPC */
#define TMPFS_NODES    1024     /* tmpfs nodes (files, directories, links) in all, as Linux's
				 * nr_inodes: then ENOSPC */
/* An account (share.h) may hold SHARE() of each of those two: its nodes
 * are those it made, its pages those of its nodes (as tmpfs quotas
 * charge a file's owner), whoever writes them. */

/* The file systems (a node's st_dev): only the tmpfs ones are writable. */
enum vfs_fs { FS_ROOT = 1, FS_TMP, FS_VAR, FS_DEV, FS_PROC, FS_PIPE };
#define VFS_WRITABLE(n) ((n)->fs == FS_TMP || (n)->fs == FS_VAR)

/* VFS_HARDLINK: a name beyond a node's first (link(2)): its `inode` is the
 * node it names, which holds everything else; it is never opened (paths
 * resolve to the node). VFS_FIFO: a named pipe (mknod S_IFIFO), whose
 * opens share one pipe (fifo.c). */
enum vfs_type { VFS_FREE, VFS_DIR, VFS_FILE, VFS_SYMLINK, VFS_DEVICE, VFS_PIPE, VFS_SOCKET,
		VFS_EVENTFD, VFS_SOCKET_NAME, VFS_TIMERFD, VFS_HARDLINK, VFS_FIFO };

/* Devices (/dev), the files of /proc made when they are read (procfs.c),
 * and /proc's nodes that depend on who looks (procfs_pid.c): /proc itself
 * (its numeric names are the live pids), /proc/self (a link to the
 * caller's pid), and from PROC_PID on the nodes that stand for something
 * of a process, made when looked up (vfs_proc_node). */
enum vfs_device { DEV_CONSOLE = 1, DEV_NULL, DEV_ZERO, DEV_RANDOM,
		  DEV_TTY,              /* /dev/tty: opens the caller's controlling terminal */
		  DEV_PTMX,             /* /dev/ptmx: opens the master of a new pty (pty.c) */
		  DEV_PTY_MASTER,       /* a pty's master (a node in no directory), */
		  DEV_PTY_SLAVE,        /* its slave /dev/pts/N: node->pty is N */
		  PROC_MEMINFO = 16, PROC_CPUINFO, PROC_UPTIME, PROC_MOUNTS, PROC_NET_DEV, PROC_STAT,
		  PROC_LOADAVG,
		  PROC_NET_ROUTE = 24, PROC_NET_TCP, PROC_NET_UDP,      /* procfs_net.c */
		  PROC_ROOT = 32, PROC_SELF,
		  PROC_PID = 40,        /* /proc/PID: a directory */
		  PROC_PID_STAT, PROC_PID_STATUS, PROC_PID_CMDLINE, PROC_PID_COMM, PROC_FDINFO,
		  PROC_PID_EXE,         /* links: the executable's path, the working directory's */
		  PROC_PID_CWD,
		  PROC_FD,              /* /proc/PID/fd/N: a link that opens what the descriptor has */
		  PROC_PID_FD,          /* directories: /proc/PID/fd, /proc/PID/fdinfo */
		  PROC_PID_FDINFO,
		  PROC_PID_MAPS, PROC_PID_ENVIRON,
		  PROC_PID_TASK,        /* directories: /proc/PID/task, /proc/PID/task/TID (fd: TID) */
		  PROC_TASK_TID,
		  PROC_TASK_STAT, PROC_TASK_STATUS, PROC_TASK_COMM };   /* of thread fd */
/* A node vfs_proc_node made (it goes when not open and room is wanted). */
#define VFS_PROC_NODE(n) ((n)->fs == FS_PROC && (n)->device >= PROC_PID)
#define VFS_PROC_NODES 128      /* such nodes at most (then the least recently used goes) */

struct vfs_node {
	uint8_t type;           /* enum vfs_type */
	uint8_t device;         /* VFS_DEVICE, a node of /proc (FS_PROC): enum vfs_device */
	uint8_t fs;             /* enum vfs_fs: which file system (st_dev) */
	bool unlinked;          /* removed while open: freed at the last close */
	uint32_t mode;          /* st_mode: type and permissions */
	int parent;             /* its directory (the root's is itself); -1 once unlinked */
	unsigned opens;         /* open file descriptions on it */
	char name[VFS_NAME_MAX + 1];
	uint64_t size;          /* bytes (files, symbolic links) */
	const uint8_t *data;    /* the root filesystem's bytes (files, link targets) */
	void **index;           /* tmpfs file: a page of pointers to pages of page pointers */
	uint64_t pages;         /* tmpfs file: pages it holds (data and index) */
	int account;            /* tmpfs: the account that made it (vfs_ops.account), which
				 * its pages are charged to; 0: the server's, no share */
	int pipe;               /* VFS_PIPE: its pipe (pipe.c) */
	int socket;             /* VFS_SOCKET: its socket (socket.c); VFS_SOCKET_NAME (a
				 * path bound in tmpfs): the socket bound to it + 1, 0: none */
	int eventfd;            /* VFS_EVENTFD: its counter (eventfd.c) */
	int timerfd;            /* VFS_TIMERFD: its timer (timerfd.c) */
	int pty;                /* DEV_PTY_MASTER, DEV_PTY_SLAVE: the pty's number (pty.c) */
	int inode;              /* VFS_HARDLINK: the node this name stands for */
	uint32_t links;         /* names of this node beyond its first (VFS_HARDLINKs) */
	int fifo;               /* VFS_FIFO: the node of its pipe while open + 1 (0: none);
				 * VFS_PIPE: the VFS_FIFO it is the pipe of + 1 (0: unnamed) */
	uint32_t rdev;          /* VFS_DEVICE made by mknod: its numbers (major << 8 | minor,
				 * Linux's old encoding: both below 256) */
	int pid, fd;            /* VFS_PROC_NODE: the process and descriptor it stands for */
	uint64_t used;          /* VFS_PROC_NODE: when it was last looked up (a count) */
	uint64_t atime, mtime, ctime;   /* ns since the epoch (CLOCK_REALTIME, vfs_ops.now):
					 * last read (relatime), changed, changed or its
					 * record changed; the root filesystem's from the cpio */
};

extern struct vfs_node vfs_nodes[VFS_NODES];

/* The node a directory entry stands for: itself, or a VFS_HARDLINK's. */
static inline int vfs_inode(int entry)
{
	return vfs_nodes[entry].type == VFS_HARDLINK ? vfs_nodes[entry].inode : entry;
}

extern int vfs_console;         /* /dev/console's node */
extern int vfs_pts;             /* /dev/pts, the ptys' slaves' directory */

/* Where tmpfs pages come from: a zeroed page charged to account's share
 * of the server's memory (0: to nobody), or NULL; back. now: the
 * time for the nodes' times, ns since the epoch (NULL: 0). account: the
 * account what is made now is charged to (share.h; NULL: 0). */
struct vfs_ops {
	void *(*page_alloc)(int account);
	void (*page_free)(void *page);
	uint64_t (*now)(void);
	int (*account)(void);
};

/* /proc's nodes that depend on who looks (procfs_pid.c; NULL: /proc has
 * only its fixed files). caller is what vfs_resolve was given (the
 * process whose path it is, or NULL). */
struct vfs_proc_ops {
	/* dir's (device PROC_ROOT: a numeric name; PROC_PID, PROC_PID_FD,
	 * PROC_PID_FDINFO: any) child called name[0..len): its node
	 * (vfs_proc_node), or -ENOENT, -ENFILE. */
	long (*child)(void *caller, int dir, const char *name, size_t len);
	/* The target of the link node (PROC_SELF, PROC_PID_EXE, PROC_PID_CWD,
	 * PROC_FD) and its length, or NULL: it is gone. */
	const char *(*link)(void *caller, int node, size_t *len);
	/* What the link node (PROC_FD) opens: a node, or -ENOENT. */
	long (*follow)(void *caller, int node);
};

/* The tree from the cpio archive (may be NULL), then /tmp and /var
 * (tmpfs), /dev and /proc (the files of enum vfs_device, /proc/self);
 * proc (may be NULL) makes the rest of /proc. false: the archive is
 * malformed or has more entries than the table. */
bool vfs_init(const struct vfs_ops *ops, const void *cpio, size_t size);
void vfs_set_proc(const struct vfs_proc_ops *proc);

/* The node dir's child name with device, pid and fd (a VFS_PROC_NODE):
 * the one there is (marked as just used) or a new one with mode, taking
 * the place of the least recently used such node that is not open and
 * has no child once VFS_PROC_NODES exist. The node or -ENFILE. */
long vfs_proc_node(int dir, const char *name, uint32_t mode, uint8_t device, int pid, int fd);

/* What a path resolves to. */
struct vfs_lookup {
	int node;               /* the node, or -1: missing last name (VFS_PARENT) */
	int entry;              /* the name found: node, or the VFS_HARDLINK naming it */
	int parent;             /* the directory holding the last name */
	char last[VFS_NAME_MAX + 1];
	bool dir_wanted;        /* the path ends in '/' */
};

#define VFS_FOLLOW 1            /* follow a symbolic link at the end too */
#define VFS_PARENT 2            /* a missing last name is not an error (node -1) */

/* Resolve path from the directory start (relative paths) for caller
 * (given to the vfs_proc_ops: /proc/self). 0, or -ENOENT, -ENOTDIR,
 * -ELOOP, -ENAMETOOLONG, -ENFILE (no node for a /proc name). */
long vfs_resolve(int start, const char *path, unsigned flags, void *caller,
		 struct vfs_lookup *out);

/* A symbolic link's target (/proc's for caller) and length; NULL (len
 * 0): a /proc link whose process or descriptor is gone. */
const char *vfs_link_target(int node, void *caller, size_t *len);

/* A new node name in the directory dir (a tmpfs one): mode's type is
 * S_IFREG, S_IFDIR, S_IFSOCK (a socket's name). The node, or -EROFS, -EEXIST, -ENOSPC (no node),
 * -ENOENT (dir was removed). */
long vfs_create(int dir, const char *name, uint32_t mode);

/* A node in no directory (a pipe's): freed at its last close. The node
 * or -ENFILE. */
long vfs_detached(uint32_t mode, uint8_t fs);

/* A device node name in dir (any file system: /dev/pts), mode S_IFCHR
 * with permissions: the node or -ENOSPC. vfs_device_gone(node) takes it
 * out of its directory again (freed now, or at its last close). */
long vfs_device(int dir, const char *name, uint32_t mode, uint8_t device);
void vfs_device_gone(int node);

/* Remove the directory entry `entry` (a node, or a VFS_HARDLINK: a
 * vfs_lookup's entry; unlink, rmdir: the caller checked the kind). A
 * node's last name gone, it is freed now or at its last close; its first
 * name gone while others remain, one of those becomes its first.
 * -EROFS, -ENOTEMPTY, -EBUSY. */
long vfs_remove(int entry, bool is_dir);

/* Move the entry (as vfs_remove's) to the name in dir, replacing what is
 * there (checked by the caller: same kind, empty directory); a name of
 * the same node there: nothing changes (rename(2)). -EROFS, -EXDEV,
 * -EINVAL (into itself), -ENOTEMPTY, -EISDIR, -ENOTDIR, -ENOENT (dir was
 * removed). */
long vfs_rename(int entry, int dir, const char *name);

/* A new name in dir for node (link(2), as Linux's vfs_link on tmpfs):
 * 0, or -EEXIST (the name is there), -EROFS (dir is on the read-only
 * root), -EXDEV (another file system), -EPERM (a directory, or a file
 * system without links: /proc, /dev), -ENOENT (node has no name left, or
 * dir was removed), -EMLINK (VFS_LINKS_NAMES names), -ENOSPC (no node). */
long vfs_link(int node, int dir, const char *name);
#define VFS_LINKS_NAMES 1000    /* names a node may have (then EMLINK) */


/* A directory's entry at or after *pos (the node index to look from):
 * the node and *pos past it, or -1 at the end. */
int vfs_child_next(int dir, unsigned *pos);

/* The last open of node closed: an unlinked one is freed. */
void vfs_closed(int node);

/* Bytes of a file at offset: read (up to its size), written (a tmpfs
 * file, grown as needed: -ENOSPC when the tmpfs is full or -EFBIG, short
 * if some went in). The byte count or -errno. */
long vfs_read(int node, uint64_t offset, void *buf, size_t len);
long vfs_write(int node, uint64_t offset, const void *buf, size_t len);

/* The page of a tmpfs file at page index (for a shared mapping of it,
 * written in place): into *page, made (zeroed, counted in the file and
 * in tmpfs) if create, else NULL when there is none. 0, or -ENXIO
 * (past the page holding the file's last byte), -ENOSPC (tmpfs full),
 * -EROFS (not a tmpfs file). */
long vfs_page(int node, uint64_t index, bool create, void **page);

/* The target of the new tmpfs symbolic link node, len bytes (below a
 * page), in one page of tmpfs (TMPFS_PAGES): 0, or -ENOSPC, -ENAMETOOLONG. */
long vfs_set_target(int node, const char *target, size_t len);

/* A tmpfs file's new size: bytes past it are freed (zeros when it grows
 * again). -EROFS for the root filesystem's. */
long vfs_truncate(int node, uint64_t size);

/* Pages tmpfs holds in all. */
uint64_t vfs_tmpfs_pages(void);

/* (vfs.c, for vfs_change.c) dir's child called name[0..len), or -1; a
 * new node in dir (-1: none in it) with mode, on file system fs: the
 * node, or -1 when the table is full. */
int vfs_child(int dir, const char *name, size_t len);
int vfs_node_new(int dir, const char *name, size_t len, uint32_t mode, uint8_t fs);

/* (tmpfs.c, for vfs.c) Pages from ops, none held; a node's pages all
 * given back (it is being freed). */
void tmpfs_init(const struct vfs_ops *ops);
void tmpfs_free(struct vfs_node *n);
/* A tmpfs symbolic link's target (vfs_set_target's page), or NULL. */
const char *tmpfs_bytes(const struct vfs_node *n);
/* (tmpfs.c, for vfs.c) The account whose call it is (vfs_ops.account;
 * 0: the server's); whether a new tmpfs node in a directory may be made
 * for account: TMPFS_NODES in all, SHARE of them each, counting the nodes
 * in a directory (not a MAP_SHARED|MAP_ANONYMOUS object's, whose pages
 * count but which is no file of /tmp, as Linux's are of its internal
 * shmem mount; nor a file removed while open). */
int tmpfs_account(void);
bool tmpfs_node_room(int account);

/* The time now for the nodes' times (vfs_ops.now), ns since the epoch. */
uint64_t vfs_now(void);
/* node's contents changed (write, truncate; a directory's entries):
 * its mtime and ctime are now. */
void vfs_touch(int node);

/* The absolute path of directory dir into buf (size bytes): its length,
 * or -ERANGE, -ENOENT (it was removed). */
long vfs_path(int dir, char *buf, size_t size);

#endif
