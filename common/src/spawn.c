/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One child process at a time, driven by a poll loop over its stdin and stdout sockets so that
 * neither side can block the other whatever the sizes. The child gets fresh socketpairs (not
 * pipes: send(MSG_NOSIGNAL) keeps an early exit from raising SIGPIPE here) and every other
 * descriptor closed, so it cannot touch the worker's registry connections or layer files.
 */
#include "pf/setup.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pf/buf.h"
#include "pf/spawn.h"

extern char **environ;

static int64_t now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int start_child(const struct pf_spawn_options *o, int in_fd, int out_fd, pid_t *ret_pid)
{
    posix_spawn_file_actions_t fa;
    int r;

    r = posix_spawn_file_actions_init(&fa);
    if (r != 0)
        return -r;
    if (in_fd >= 0)
        r = posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    else
        r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (r == 0)
        r = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    if (r == 0 && o->merge_stderr)
        r = posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
    else if (r == 0)
        r = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (r == 0)
        r = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    if (r == 0)
        r = posix_spawnp(ret_pid, o->argv[0], &fa, NULL, o->argv, o->envp ? o->envp : environ);
    (void)posix_spawn_file_actions_destroy(&fa);
    return -r;
}

/* Feeds the input and collects the output until the child closes stdout, the deadline passes
 * or the output passes its bound. */
static int exchange(const struct pf_spawn_options *o, int *in_fd, int out_fd, struct pf_buf *out,
                    int64_t deadline)
{
    size_t sent = 0;
    char chunk[4096];

    for (;;) {
        struct pollfd p[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = *in_fd, .events = POLLOUT}};
        int64_t left = deadline - now_ms();
        nfds_t n = *in_fd >= 0 ? 2 : 1;
        ssize_t k;
        int pr;

        if (left <= 0)
            return -ETIMEDOUT;
        pr = poll(p, n, (int)(left > INT_MAX ? INT_MAX : left));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -errno;
        if (pr == 0)
            return -ETIMEDOUT;
        if (n == 2 && p[1].revents) {
            bool done = !(p[1].revents & POLLOUT); /* POLLERR/POLLHUP: the child closed stdin */

            if (!done) {
                k = send(*in_fd, (const char *)o->input + sent, o->input_len - sent, MSG_NOSIGNAL);
                if (k > 0)
                    sent += (size_t)k;
                done = k < 0 ? errno != EINTR && errno != EAGAIN : sent == o->input_len;
            }
            /* A child that stops reading early just gets EOF sooner; its exit code tells. */
            if (done) {
                (void)close(*in_fd);
                *in_fd = -1;
            }
        }
        if (!p[0].revents)
            continue;
        k = read(out_fd, chunk, sizeof(chunk));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            return 0;
        if (pf_buf_append(out, chunk, (size_t)k) < 0)
            return -E2BIG;
    }
}

/* Waits for the child; kills it first when `kill_now`, or when it outlives `deadline`. */
static int reap(pid_t pid, int64_t deadline, bool kill_now, int *ret_exit)
{
    int st = 0;

    for (;;) {
        pid_t w;

        if (kill_now || now_ms() >= deadline) {
            (void)kill(pid, SIGKILL);
            kill_now = false;
            deadline = INT64_MAX;
        }
        w = waitpid(pid, &st, deadline == INT64_MAX ? 0 : WNOHANG);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        if (w == pid)
            break;
        (void)nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = 5 * 1000 * 1000}, NULL);
    }
    *ret_exit = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return 0;
}

int pf_spawn_run(const struct pf_spawn_options *o, struct pf_buf *out, int *ret_exit)
{
    int in_sv[2] = {-1, -1}, out_sv[2] = {-1, -1};
    int64_t deadline;
    pid_t pid = -1;
    int r, rr, code = -1;

    if (!o || !o->argv || !o->argv[0] || o->timeout_ms <= 0 || (!o->input && o->input_len))
        return -EINVAL;
    deadline = now_ms() + o->timeout_ms;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out_sv) < 0)
        return -errno;
    if (o->input && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, in_sv) < 0) {
        r = -errno;
        goto out;
    }
    /* The child's end of stdin must block like a normal pipe. */
    if (in_sv[1] >= 0 && fcntl(in_sv[1], F_SETFL, 0) < 0) {
        r = -errno;
        goto out;
    }
    r = start_child(o, in_sv[1], out_sv[1], &pid);
    if (r < 0)
        goto out;
    (void)close(out_sv[1]);
    out_sv[1] = -1;
    if (in_sv[1] >= 0)
        (void)close(in_sv[1]);
    in_sv[1] = -1;
    if (o->input && o->input_len == 0) {
        (void)close(in_sv[0]);
        in_sv[0] = -1;
    }
    r = exchange(o, &in_sv[0], out_sv[0], out, deadline);
    rr = reap(pid, deadline, r < 0, &code);
    if (r == 0)
        r = rr;
    if (r == 0)
        *ret_exit = code;
out:
    for (int i = 0; i < 2; i++) {
        if (in_sv[i] >= 0)
            (void)close(in_sv[i]);
        if (out_sv[i] >= 0)
            (void)close(out_sv[i]);
    }
    return r;
}
