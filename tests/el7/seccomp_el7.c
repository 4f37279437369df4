/* Runs a program the way CentOS 7's kernel (Linux 3.10) would: every x86_64 system call added
 * after 3.10 fails with ENOSYS, as it does there, so a program that needs one without a
 * fallback fails here too. Those are numbers 314 (sched_setattr) to 334 (rseq), and 424
 * (pidfd_send_signal) and up: 335-423 are unused on x86_64.
 *
 *   seccomp-el7 PROGRAM [ARG...]     run PROGRAM under the filter (the filter is inherited
 *                                    by everything it starts, chroot included)
 *   seccomp-el7 --probe              under the filter, call getrandom, renameat2 and statx
 *                                    and print what each returned: the filter's own check
 *
 * A classic BPF filter, no libseccomp: it is a dozen instructions. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int install_filter(void) {
    struct sock_filter code[] = {
        /* Only x86_64 calls are judged; anything else (i386 emulation) is let through. */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 424, 2, 0),  /* 424 and up: newer than 3.10 */
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 335, 1, 0),  /* 335-423: unused, kernel says ENOSYS */
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 314, 0, 1),  /* 314-334: newer than 3.10 */
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof code / sizeof code[0]), code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void probe(const char* name, long rc) {
    printf("%s: %s\n", name, rc == 0 ? "ok" : errno == ENOSYS ? "ENOSYS" : strerror(errno));
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: seccomp-el7 PROGRAM [ARG...] | --probe\n");
        return 1;
    }
    if (install_filter() != 0) {
        fprintf(stderr, "seccomp-el7: cannot install the filter: %s\n", strerror(errno));
        return 1;
    }
    if (strcmp(argv[1], "--probe") == 0) {
        char buf[8];
        char statx_buf[256];
        probe("getrandom", syscall(SYS_getrandom, buf, sizeof buf, 0) == (long)sizeof buf ? 0 : -1);
        probe("renameat2", syscall(SYS_renameat2, AT_FDCWD, "/", AT_FDCWD, "/", 0));
        probe("statx", syscall(SYS_statx, AT_FDCWD, "/", 0, 0, statx_buf));
        return 0;
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "seccomp-el7: cannot run %s: %s\n", argv[1], strerror(errno));
    return 127;
}
