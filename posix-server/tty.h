/*
 * A terminal of the POSIX server: the console (tty_console.c) or a
 * pseudo-terminal's slave (pty.c), each with the line discipline
 * (ldisc.h) between what is typed and what a reader gets. What every
 * terminal does the same way — reads (VMIN, VTIME), writes (TOSTOP),
 * readiness, the termios and job-control ioctls, the controlling terminal
 * of a session, hang-ups — is tty.c's; these are its shapes, for the
 * files that make terminals, and (at the end) what the rest of the
 * server calls.
 *
 * A terminal controls one session at a time (sid; 0: none) and has one
 * foreground process group (pgrp), as Linux's tty->ctrl.session and
 * ctrl.pgrp: a process's controlling terminal is the terminal whose sid
 * is its session (so one per session, and fork, exec and setpgid need not
 * carry it; setsid leaves it, as the new session is nobody's).
 */
#ifndef MICA_POSIX_TTY_H
#define MICA_POSIX_TTY_H

#include "file.h"
#include "ldisc.h"
#include "syscall.h"

#define TTY_CONSOLE (-1)        /* struct tty's index for the console */
#define PTY_MAX     8           /* ptys at once, an account SHARE(PTY_MAX) (then opening
				 * /dev/ptmx is ENOSPC) */
#define PTY_BUF     4096        /* bytes a master's buffer holds (then the slave's writer waits) */

struct tty {
	struct ldisc l;
	struct linux_winsize ws;
	int sid, pgrp;          /* the session it controls (0: none), its foreground group */
	int index;              /* a pty's number (/dev/pts/N), or TTY_CONSOLE */
	bool hung;              /* a pty whose master closed: reads 0, the rest EIO */
};

/* Fresh: Linux's settings of a new terminal (ldisc_init), no session. */
void tty_init(struct tty *t, int index);

/* Bytes that arrived for the terminal (typed at the console, written to
 * a pty's master): through the line discipline, echoed by tty_output,
 * signal characters sent to the foreground group; waiting calls woken. */
void tty_input(struct tty *t, const uint8_t *bytes, unsigned n);

/* What the terminal shows (a program's writes, echo): the console's go
 * out through the kernel's debug channel, a pty's into its master's
 * buffer after output processing (pty_output). The bytes of buf taken
 * (a pty's buffer may be full: fewer). */
unsigned tty_output(struct tty *t, const char *buf, unsigned n);

/* The terminal of a file description (the console's, a pty slave's), or
 * NULL (another file, a pty's master). */
struct tty *tty_of_file(const struct file *f);

/* The controlling terminal of session sid (> 0), or NULL. */
struct tty *tty_of_session(int sid);

/* t's device number as /proc/PID/stat's tty_nr encodes it (Linux's
 * new_encode_dev): the console 5:1, a pty's slave 136:N. */
unsigned tty_device_number(const struct tty *t);

/* Whether t is p's controlling terminal. */
bool tty_controls(const struct process *p, const struct tty *t);

/* The session t controls lets it go. exiting (its leader ended, or
 * TIOCNOTTY): the foreground group gets SIGHUP (and SIGCONT unless the
 * leader ended), as Linux's disassociate_ctty; otherwise (a pty's master
 * closed: tty_vhangup) the session leader gets SIGHUP and SIGCONT. */
void tty_hang_up(struct tty *t, bool exiting);

/* p, a session leader without a terminal, takes t (nobody's), its group
 * in front. */
void tty_take(struct tty *t, const struct process *p);

/* The terminal requests of t (the console's or a pty's slave; master:
 * asked on its pty's master, which answers for the slave's groups
 * without being the caller's terminal): 0 or -errno (-ENOTTY for others). */
long tty_ioctl(struct process *p, struct tty *t, uint64_t req, uint64_t arg, bool master);

/* (tty_console.c) The console's terminal; p's end for the console's job. */
struct tty *tty_console(void);
void tty_console_ended(const struct process *p);

/* (pty.c) The slave's terminal of pty index (NULL: not in use), and
 * output for it: processed (OPOST: ONLCR, OCRNL, ONLRET, ONOCR) into its
 * master's buffer, as much as fits: bytes of buf taken. */
struct tty *pty_tty(int index);
unsigned pty_output(struct tty *t, const char *buf, unsigned n);
/* (pty.c) The slave of a pty flushed (TCFLSH's how; TCSETSF: 0): packet
 * mode's TIOCPKT_FLUSHREAD, _FLUSHWRITE for the master. */
void pty_flushed(struct tty *t, unsigned how);
/* The termios of a pty changed from old: packet mode's TIOCPKT_NOSTOP,
 * _DOSTOP when ^S/^Q flow control went or came. */
void pty_termios_changed(struct tty *t, const struct linux_termios *old);
/* Room in the master's buffer for output (a waiting writer's test). */
unsigned pty_output_room(const struct tty *t);
/* The master's side of tty_file_read, _write, _poll, _ioctl (posix.h). */
long pty_master_read(struct process *p, struct file *f, uint64_t buf, uint64_t len);
long pty_master_write(struct process *p, struct file *f, uint64_t buf, uint64_t len);
unsigned pty_master_poll(const struct file *f);
long pty_master_ioctl(struct process *p, struct file *f, uint64_t req, uint64_t arg);
/* f, an open of /dev/ptmx, becomes the master of a new pty (its slave
 * /dev/pts/N made, locked): 0, or -ENOSPC (PTY_MAX in use, or the
 * account's share of them, share.h; no node). */
long pty_new(struct file *f);
/* The slave node of pty index; whether it may be opened (0, or -EIO:
 * locked, or its master closed); it was opened. */
int pty_slave_node(int index);
long pty_slave_open(int index);
void pty_slave_opened(int index);
/* f, a master or a slave, is closed (its last descriptor went). */
void pty_closed(const struct file *f);

/* ---- what the rest of the server calls (tty.c, tty_console.c, pty.c) ---- */

/* Whether f is a terminal's: the console, a pty's master or slave. */
bool tty_file(const struct file *f);
/* A read of a terminal: bytes, 0 (end of file, VMIN/VTIME's, a hung-up
 * slave), -EAGAIN, -EIO (a background read that may not stop, a
 * master whose slave closed), -EFAULT, or SYSCALL_BLOCK (nothing to read
 * yet, or stopped by SIGTTIN). */
long tty_file_read(struct process *p, struct file *f, uint64_t buf, uint64_t len);
/* A write: bytes taken (fewer when a pty's buffer filled), -EAGAIN,
 * -EIO (hung up; TOSTOP in an orphaned group), -EFAULT, or SYSCALL_BLOCK
 * (no room yet, or stopped by SIGTTOU with TOSTOP). */
long tty_file_write(struct process *p, struct file *f, uint64_t buf, uint64_t len);
/* POLLIN, POLLOUT, POLLHUP (and POLLERR for a hung-up slave). */
unsigned tty_file_poll(const struct file *f);
/* The terminal requests (tty_ioctl(4), pty(7)), FIONREAD included: 0 or
 * -errno (-ENOTTY for others). */
long tty_file_ioctl(struct process *p, struct file *f, uint64_t req, uint64_t arg);
/* Before an open of *node: /dev/tty becomes the caller's controlling
 * terminal's node (-ENXIO: none); a pty's slave may be opened (-EIO:
 * locked, or hung up). 0 to go on. */
long tty_open(struct process *p, int *node);
/* After it, on the new description f (open's flags): /dev/ptmx makes a
 * pty, f its master (-ENOSPC: none free; the caller drops f); a slave
 * opened without O_NOCTTY by a session leader without a terminal becomes
 * its controlling terminal if nobody has it. */
long tty_opened(struct process *p, struct file *f, uint64_t flags);
/* f, a terminal's, is closed (its last descriptor went). */
void tty_closed(const struct file *f);
/* Bytes typed at the console (control.c), through the line discipline. */
void tty_console_input(const uint8_t *bytes, unsigned n);
/* Send sig to every live process of group pgrp (> 0). */
void tty_signal_group(int pgrp, int sig);
/* p, a new session, gets the console (fresh settings, its group in
 * front) and is the console's job (tty_job). */
void tty_attach(struct process *p);
/* p has ended (process_end): the console's job's status kept; a session
 * leader's terminal let go, its foreground group sent SIGHUP. */
void tty_process_ended(const struct process *p);
/* The console's job: its pid (0: none) and whether it ended, how. */
int tty_job(bool *ended, int *status, int *signal);
/* Its end was told to the console: no job now. */
void tty_job_told(void);
/* The foreground group of the console if session sid has it, else 0. */
int tty_foreground(int sid);

#endif
