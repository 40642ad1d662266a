/*
 * Paths of the POSIX server's calls (sys_file.c, sys_stat.c): a user's
 * path copied in and resolved in the file tree (vfs.h), and what stat
 * and getdents64 say of a node.
 */
#ifndef MICA_POSIX_PATH_H
#define MICA_POSIX_PATH_H

#include "posix.h"
#include "vfs.h"

/* ---- sys_file.c, sys_stat.c: paths ---- */

/* The path at user address va into path[LINUX_PATH_MAX]: 0, -EFAULT or
 * -ENAMETOOLONG. */
long path_in(struct process *p, uint64_t va, char *path);
/* Copy the path at va and resolve it (vfs_resolve's flags) from dirfd
 * (AT_FDCWD: the working directory). 0 or -errno. */
long path_lookup(struct process *p, uint64_t dirfd, uint64_t va, unsigned flags,
		 struct vfs_lookup *out);
/* The node an *at call with flags (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH)
 * means: 0 and *node, or -errno. */
long path_at_node(struct process *p, uint64_t dirfd, uint64_t va, uint64_t flags, int *node);
/* struct stat of node to user address out: 0 or -EFAULT. */
long node_stat(struct process *p, int node, uint64_t out);
/* getdents64's type of node (DT_*). */
uint8_t node_dirent_type(int node);
/* p's working directory is node now (counted as an open of it). */
void process_set_cwd(struct process *p, int node);

#endif
