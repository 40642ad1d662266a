/*
 * recvmmsg and sendmmsg (man 2 recvmmsg, man 2 sendmmsg): recvmsg and
 * sendmsg over a vector of struct mmsghdr, as Linux's do_recvmmsg and
 * __sys_sendmmsg do it — at most UIO_MAXIOV (1024) messages, each one's
 * byte count written to its msg_len.
 *
 * recvmmsg: MSG_WAITFORONE makes the messages after the first not wait;
 * the timeout, as Linux's, is looked at only after each message (a
 * blocking call waits for each one however long; see the man page's
 * BUGS) and what is left of it is written back. An error after some
 * messages returns their count and is kept for the next call (SO_ERROR),
 * except EAGAIN. sendmmsg returns the count sent, or the first message's
 * error.
 *
 * A call that waits keeps the messages done in io_done (so a signal
 * makes it return their count, as Linux), its deadline in mmsg_end and
 * the waiting message's own progress (a stream's write) in mmsg_inner;
 * MSG_WAITALL on a stream is not kept across messages: each stream
 * message returns what came.
 */
#include "file.h"
#include "socket.h"
#include "syscall.h"

#define NS_PER_SEC  1000000000UL
#define MSG_WAITFORONE   0x10000
#define MSG_CMSG_COMPAT  0x80000000UL

typedef long (*msg_call)(struct process *p, struct user_regs *r);

/* The vector's entry i's call (recvmsg or sendmsg) with these flags:
 * bytes, SYSCALL_BLOCK or -errno. */
static long one_message(struct process *p, msg_call call, uint64_t fd, uint64_t vec, uint64_t i,
			uint64_t flags)
{
	struct thread *t = p->current;
	struct user_regs r = { 0 };
	uint64_t count = t->io_done;

	r.rdi = fd;
	r.rsi = vec + i * sizeof(struct linux_mmsghdr);
	r.rdx = flags;
	t->io_done = t->blocked ? t->mmsg_inner : 0;
	long n = call(p, &r);
	t->mmsg_inner = n == SYSCALL_BLOCK ? t->io_done : 0;
	t->io_done = count;
	return n;
}

/* n (a message's bytes) into entry i's msg_len: 0 or -EFAULT. */
static long put_len(struct process *p, uint64_t vec, uint64_t i, long n)
{
	uint32_t len = (uint32_t)n;

	return as_copy_out(&p->as, vec + i * sizeof(struct linux_mmsghdr) +
			   __builtin_offsetof(struct linux_mmsghdr, len), &len, sizeof(len)) < 0
		       ? -LINUX_EFAULT : 0;
}

/* Messages t->io_done.. up to vlen of the vector at vec through recvmsg
 * (receive) or sendmsg with flags, each one's byte count into its
 * msg_len, until one fails (*err) or waits; receive: after the first
 * with MSG_DONTWAIT when flags has MSG_WAITFORONE, and none after the
 * clock passes t->mmsg_end. The messages done, or SYSCALL_BLOCK (their
 * count kept in io_done). */
static long each_message(struct process *p, bool receive, uint64_t fd, uint64_t vec,
			 uint64_t vlen, uint64_t flags, long *err)
{
	struct thread *t = p->current;
	uint64_t done = t->io_done;

	while (done < vlen) {
		uint64_t fl = flags;
		if (receive) {
			fl &= ~(uint64_t)MSG_WAITFORONE;
			if ((flags & MSG_WAITFORONE) && done)
				fl |= LINUX_MSG_DONTWAIT;
		}
		long n = one_message(p, receive ? posix_recvmsg : posix_sendmsg, fd, vec, done, fl);
		if (n == SYSCALL_BLOCK)
			return SYSCALL_BLOCK;   /* io_done: the messages so far */
		if (n < 0) {
			*err = n;
			break;
		}
		if ((*err = put_len(p, vec, done, n)) < 0)
			break;
		t->io_done = ++done;
		if (receive && (uint64_t)sys_clock() >= t->mmsg_end)
			break;
	}
	t->io_done = 0;
	return (long)done;
}

long posix_recvmmsg(struct process *p, struct user_regs *r)
{
	struct thread *t = p->current;
	uint64_t fd = r->rdi, vec = r->rsi, flags = r->r10, tva = r->r8;
	uint64_t vlen = (uint32_t)r->rdx;
	bool first = !t->blocked;
	uint64_t now = (uint64_t)sys_clock();
	struct linux_timespec ts;
	struct file *f;
	long err = 0;

	if (flags & MSG_CMSG_COMPAT)
		return -LINUX_EINVAL;
	if (tva && as_copy_in(&p->as, &ts, tva, sizeof(ts)) < 0)
		return -LINUX_EFAULT;
	if (first) {
		t->mmsg_end = UINT64_MAX;
		if (tva && (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NS_PER_SEC))
			return -LINUX_EINVAL;
		if (tva)
			t->mmsg_end = now + ((uint64_t)ts.sec > UINT64_MAX / 4 / NS_PER_SEC
					     ? UINT64_MAX / 4
					     : (uint64_t)ts.sec * NS_PER_SEC + (uint64_t)ts.nsec);
	}
	struct psock *s = socket_fd(p, fd, &f, &err);
	if (!s)
		return err;
	err = 0;
	if (first && s->err)
		return -socket_take_error(s);
	if (vlen > LINUX_IOV_MAX)
		vlen = LINUX_IOV_MAX;
	if (s->type == LINUX_SOCK_STREAM)
		flags &= ~(uint64_t)LINUX_MSG_WAITALL;
	if (first)
		t->io_done = 0;
	long done = each_message(p, true, fd, vec, vlen, flags, &err);
	if (done == SYSCALL_BLOCK)
		return SYSCALL_BLOCK;
	if (err && !done)
		return err;
	if (err && err != -LINUX_EAGAIN)
		s->err = (int)-err;     /* for the next call, as Linux */
	if (tva) {
		now = (uint64_t)sys_clock();
		uint64_t left = now >= t->mmsg_end ? 0 : t->mmsg_end - now;
		ts = (struct linux_timespec){ (int64_t)(left / NS_PER_SEC), (int64_t)(left % NS_PER_SEC) };
		if (as_copy_out(&p->as, tva, &ts, sizeof(ts)) < 0)
			return -LINUX_EFAULT;
	}
	return done;
}

long posix_sendmmsg(struct process *p, struct user_regs *r)
{
	struct thread *t = p->current;
	uint64_t fd = r->rdi, vec = r->rsi, flags = r->r10;
	uint64_t vlen = (uint32_t)r->rdx;
	struct file *f;
	long err = 0;

	if (flags & MSG_CMSG_COMPAT)
		return -LINUX_EINVAL;
	if (!socket_fd(p, fd, &f, &err))
		return err;
	err = 0;
	if (vlen > LINUX_IOV_MAX)
		vlen = LINUX_IOV_MAX;
	if (!t->blocked)
		t->io_done = 0;
	long done = each_message(p, false, fd, vec, vlen, flags, &err);
	if (done == SYSCALL_BLOCK)
		return SYSCALL_BLOCK;
	return done ? done : err;
}
