// StraceFilter.swift: --strace-filter EXPR, strace's -e trace=EXPR: a comma-separated list of call names and
// classes (%file, %process, %network or %net, %signal, %ipc, %desc, %memory, %creds, %clock, %stat, %lstat,
// %fstat, %%stat, %statfs, %fstatfs, %%statfs, %pure; also without the %, as strace still takes them), `all`
// or `none`, `?NAME` for a name that may not exist, the whole list negated by a leading `!`. FIXME: strace's
// /REGEX is not taken. The classes are strace's (src/linux/x86_64/syscallent.h: TF, TP, TN, TS, TI, TD, TM, TC, TCL, TST,
// TLST, TFST, TSTA, TSF, TFSF, TSFA, PU), by call name.

struct StraceFilter {
    private var traced: [Bool]
    /// Numbers beyond the table: traced with `all`, or in a negated list.
    private var others = false

    /// The calls of each class, by name.
    static let classes: [String: [String]] = [
        "file": ["open", "stat", "lstat", "access", "execve", "truncate", "getcwd", "chdir", "rename", "mkdir",
                 "rmdir", "creat", "link", "unlink", "symlink", "readlink", "chmod", "chown", "lchown", "utime",
                 "mknod", "uselib", "statfs", "pivot_root", "chroot", "acct", "mount", "umount2", "swapon",
                 "swapoff", "quotactl", "setxattr", "lsetxattr", "getxattr", "lgetxattr", "listxattr",
                 "llistxattr", "removexattr", "lremovexattr", "utimes", "inotify_add_watch", "openat", "mkdirat",
                 "mknodat", "fchownat", "futimesat", "newfstatat", "unlinkat", "renameat", "linkat", "symlinkat",
                 "readlinkat", "fchmodat", "faccessat", "utimensat", "fanotify_mark", "name_to_handle_at",
                 "renameat2", "execveat", "statx", "open_tree", "move_mount", "fsconfig", "fspick", "openat2",
                 "faccessat2", "mount_setattr", "fchmodat2", "setxattrat", "getxattrat", "listxattrat",
                 "removexattrat", "open_tree_attr", "file_getattr", "file_setattr", "quotactl_fd",
                 "statmount", "listmount"],
        "process": ["clone", "fork", "vfork", "execve", "exit", "wait4", "kill", "rt_sigqueueinfo", "tkill",
                    "exit_group", "tgkill", "waitid", "rt_tgsigqueueinfo", "execveat", "pidfd_send_signal",
                    "clone3"],
        "network": ["sendfile", "socket", "connect", "accept", "sendto", "recvfrom", "sendmsg", "recvmsg",
                    "shutdown", "bind", "listen", "getsockname", "getpeername", "socketpair", "setsockopt",
                    "getsockopt", "getpmsg", "putpmsg", "accept4", "recvmmsg", "sendmmsg"],
        "signal": ["rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "pause", "kill", "rt_sigpending",
                   "rt_sigtimedwait", "rt_sigqueueinfo", "rt_sigsuspend", "sigaltstack", "tkill", "tgkill",
                   "signalfd", "signalfd4", "rt_tgsigqueueinfo", "pidfd_send_signal"],
        "ipc": ["shmget", "shmat", "shmctl", "semget", "semop", "semctl", "shmdt", "msgget", "msgsnd", "msgrcv",
                "msgctl", "semtimedop"],
        "desc": ["read", "write", "open", "close", "fstat", "poll", "lseek", "mmap", "ioctl", "pread64",
                 "pwrite64", "readv", "writev", "pipe", "select", "dup", "dup2", "sendfile", "fcntl", "flock",
                 "fsync", "fdatasync", "ftruncate", "getdents", "fchdir", "creat", "fchmod", "fchown", "fstatfs",
                 "readahead", "fsetxattr", "fgetxattr", "flistxattr", "fremovexattr", "epoll_create",
                 "getdents64", "fadvise64", "epoll_wait", "epoll_ctl", "mq_open", "mq_timedsend",
                 "mq_timedreceive", "mq_notify", "mq_getsetattr", "inotify_init", "inotify_add_watch",
                 "inotify_rm_watch", "openat", "mkdirat", "mknodat", "fchownat", "futimesat", "newfstatat",
                 "unlinkat", "renameat", "linkat", "symlinkat", "readlinkat", "fchmodat", "faccessat",
                 "pselect6", "ppoll", "splice", "tee", "sync_file_range", "vmsplice", "utimensat",
                 "epoll_pwait", "signalfd", "timerfd_create", "eventfd", "fallocate", "timerfd_settime",
                 "timerfd_gettime", "signalfd4", "eventfd2", "epoll_create1", "dup3", "pipe2", "inotify_init1",
                 "preadv", "pwritev", "perf_event_open", "fanotify_init", "fanotify_mark", "name_to_handle_at",
                 "open_by_handle_at", "syncfs", "setns", "finit_module", "renameat2", "memfd_create",
                 "kexec_file_load", "bpf", "execveat", "userfaultfd", "copy_file_range", "preadv2", "pwritev2",
                 "statx", "io_uring_setup", "io_uring_enter", "io_uring_register", "open_tree", "move_mount",
                 "fsopen", "fsconfig", "fsmount", "fspick", "pidfd_open", "close_range", "openat2",
                 "pidfd_getfd", "faccessat2", "epoll_pwait2", "mount_setattr", "quotactl_fd",
                 "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self", "memfd_secret",
                 "process_mrelease", "cachestat", "fchmodat2", "setxattrat", "getxattrat", "listxattrat",
                 "removexattrat", "open_tree_attr", "file_getattr", "file_setattr"],
        "memory": ["mmap", "mprotect", "munmap", "brk", "mremap", "msync", "mincore", "madvise", "shmat", "shmdt",
                   "mlock", "munlock", "mlockall", "munlockall", "io_setup", "io_destroy", "remap_file_pages",
                   "mbind", "set_mempolicy", "get_mempolicy", "migrate_pages", "move_pages", "mlock2",
                   "pkey_mprotect", "process_madvise", "set_mempolicy_home_node", "map_shadow_stack", "mseal"],
        "creds": ["getuid", "getgid", "setuid", "setgid", "geteuid", "getegid", "setreuid", "setregid",
                  "getgroups", "setgroups", "setresuid", "getresuid", "setresgid", "getresgid", "setfsuid",
                  "setfsgid", "capget", "capset", "prctl"],
        "clock": ["gettimeofday", "adjtimex", "settimeofday", "time", "clock_settime", "clock_gettime",
                  "clock_getres", "clock_adjtime"],
        "stat": ["stat"], "lstat": ["lstat"], "fstat": ["fstat", "newfstatat", "statx"],
        "%stat": ["stat", "fstat", "lstat", "newfstatat", "statx"],
        "statfs": ["statfs"], "fstatfs": ["fstatfs"], "%statfs": ["ustat", "statfs", "fstatfs"],
        "pure": ["getpid", "getuid", "getgid", "geteuid", "getegid", "getppid", "getpgrp", "gettid"],
    ]

    /// Parses EXPR; the error says what is wrong with it (one line).
    static func parse(_ expr: String) -> Result<StraceFilter, StraceFilterError> {
        var text = Substring(expr)
        var negated = false
        if text.hasPrefix("!") {
            negated = true
            text = text.dropFirst()
        }
        var chosen = [Bool](repeating: false, count: SyscallNames.table.count)
        var others = false
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            var word = item.hasPrefix("trace=") ? item.dropFirst(6) : item
            let optional = word.hasPrefix("?")
            if optional { word = word.dropFirst() }
            if word == "all" {
                chosen = chosen.map { _ in true }
                others = true
            } else if word == "none" {
                continue
            } else if word.hasPrefix("%") {
                let key = word == "%net" ? "network" : String(word.dropFirst())
                guard let names = classes[key] else {
                    if optional { continue }
                    return .failure(StraceFilterError(reason: "invalid system call '\(word)'"))
                }
                for n in names { if let nr = SyscallNames.table.firstIndex(of: n) { chosen[nr] = true } }
            } else if let nr = SyscallNames.table.firstIndex(of: String(word)) {
                chosen[nr] = true
            } else if let names = classes[word == "net" ? "network" : String(word)] {
                for n in names { if let nr = SyscallNames.table.firstIndex(of: n) { chosen[nr] = true } }
            } else if let nr = Int(word), nr >= 0 && nr < chosen.count {
                chosen[nr] = true
            } else if !optional {
                return .failure(StraceFilterError(reason: "invalid system call '\(word)'"))
            }
        }
        if negated {
            chosen = chosen.map { !$0 }
            others.toggle()
        }
        return .success(StraceFilter(traced: chosen, others: others))
    }

    @inline(__always) func traces(_ nr: Int) -> Bool { nr >= 0 && nr < traced.count ? traced[nr] : others }
}

public struct StraceFilterError: Error, Sendable {
    public let reason: String
}

/// For the command line: whether an --strace-filter expression parses, and why not.
public enum StraceFilterCheck {
    public static func problem(_ expr: String) -> String? {
        if case .failure(let e) = StraceFilter.parse(expr) { return e.reason }
        return nil
    }
}
