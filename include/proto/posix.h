/*
 * The POSIX server's control protocol: what the serial console asks it
 * (docs/console.md, docs/posix.md). The server registers a badged copy of
 * its endpoint (send right only) as POSIX_NAME; every request below goes
 * through that capability (ns_lookup(POSIX_NAME, slot)). The server never
 * waits for anything while it answers, so a call returns as soon as the
 * server runs. Anybody may look the name up (the name service has no
 * access control yet).
 *
 * A reply's label is 0, or ERR_INVALID_ARG (a malformed request: too few
 * words, a length past its bound) or ERR_NO_SYSCALL (an unknown label).
 * Where a request can fail the POSIX way, word 0 of a label-0 reply is
 * the result: >= 0, or a negated Linux errno (ESRCH 3, ENOENT 2, EACCES
 * 13, ENOEXEC 8, EAGAIN 11, EBUSY 16, EINVAL 22, E2BIG 7).
 *
 *   POSIX_PS        words: [0] slot (0, 1, ...). reply: struct posix_ps
 *                   of the process in that slot (pid 0: the slot is
 *                   free). ERR_RANGE past the last slot.
 *   POSIX_KILL      words: [0] pid (> 0: that process; < -1: the process
 *                   group -pid), [1] signal (0..64; 0 only checks).
 *                   reply: [0] 0, -ESRCH (no such process or group),
 *                   -EINVAL (a signal or pid out of range).
 *   POSIX_RUN       words: [0] the number of arguments (1..32), then the
 *                   arguments, each NUL-terminated, one after the other
 *                   (at most POSIX_RUN_BYTES). argv[0] is the program: a
 *                   name (/bin/NAME) or a path of the root filesystem.
 *                   It starts as a session of its own with the console
 *                   as its controlling terminal (fresh settings, its
 *                   group in the foreground): the console's job. reply:
 *                   [0] its pid, or -ENOENT, -EACCES (not an executable
 *                   file), -ENOEXEC (not a program the server can load),
 *                   -EAGAIN (no process slot), -EBUSY (the console's job
 *                   still runs; [1] its pid).
 *   POSIX_TERMINAL  words: [0] the number of bytes typed (0..
 *                   POSIX_TERMINAL_BYTES), then the bytes: they go
 *                   through the terminal's line discipline (echo, lines,
 *                   ^C as SIGINT to the foreground group). reply: struct
 *                   posix_job. With 0 bytes it only asks how the job is.
 */
#ifndef MICA_PROTO_POSIX_H
#define MICA_PROTO_POSIX_H

#include <stdint.h>

#define POSIX_NAME            "posix"
#define POSIX_RUN_BYTES       (62 * 8)  /* the arguments of POSIX_RUN, NULs included */
#define POSIX_TERMINAL_BYTES  (16 * 8)  /* bytes of one POSIX_TERMINAL */

enum posix_label {
	POSIX_PS = 1,
	POSIX_KILL = 2,
	POSIX_RUN = 3,
	POSIX_TERMINAL = 4,
};

enum posix_ps_state {
	POSIX_STATE_RUNNING = 1,        /* running, or ready to */
	POSIX_STATE_WAITING = 2,        /* its system call waits (read, wait4, sleep, poll) */
	POSIX_STATE_ZOMBIE = 3,         /* ended; its parent has not waited for it yet */
	POSIX_STATE_STOPPED = 4,        /* stopped by a stop signal until SIGCONT (Linux's T) */
};

#define POSIX_PS_TERMINAL   0x1     /* its session has the console as terminal */
#define POSIX_PS_FOREGROUND 0x2     /* and its group is in the foreground */

/* One process (POSIX_PS): 10 words. */
struct posix_ps {
	int64_t pid, ppid, pgid, sid;
	uint64_t state;                 /* enum posix_ps_state */
	uint64_t flags;                 /* POSIX_PS_* */
	char name[32];                  /* its program's file name, NUL-padded */
};
#define POSIX_PS_WORDS (sizeof(struct posix_ps) / 8)

enum posix_job_state {
	POSIX_JOB_NONE = 0,             /* no job (or its end was told already) */
	POSIX_JOB_RUNNING = 1,
	POSIX_JOB_ENDED = 2,            /* told once; then NONE */
};

/* The console's job (POSIX_TERMINAL's reply): 4 words. */
struct posix_job {
	int64_t pid;
	uint64_t state;                 /* enum posix_job_state */
	int64_t status;                 /* ENDED: the exit status (0..255), if no signal */
	int64_t signal;                 /* ENDED: the signal that killed it, or 0 */
};
#define POSIX_JOB_WORDS (sizeof(struct posix_job) / 8)

#endif
