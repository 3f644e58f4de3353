// HostStreams.swift: the host descriptors an embedder's program gets as stdin, stdout and stderr (pipes, files,
// bytes in a memory file), made on the embedder's thread: the kernel thread's seccomp filter does not let it
// create descriptors of its own.
import Glibc
import CUmk

public enum HostStreams {
    /// A descriptor of umk's own for the same open file as `fd` (close-on-exec).
    public static func duplicate(_ fd: Int32) throws(Errno) -> HostFile {
        HostFile(fd: try retrying { fcntl(fd, F_DUPFD_CLOEXEC, 3) })
    }

    public static func pipe() throws(Errno) -> (read: HostFile, write: HostFile) {
        var fds: [Int32] = [-1, -1]
        let r = fds.withUnsafeMutableBytes { umk_syscall6(293, Int(bitPattern: $0.baseAddress), Int(O_CLOEXEC), 0, 0, 0, 0) }  // pipe2
        guard r == 0 else { throw Errno(rawValue: Int32(-r)) }
        return (HostFile(fd: fds[0]), HostFile(fd: fds[1]))
    }

    /// A connected pair of UNIX stream sockets (`umk exec -t`'s terminal stream between client and instance).
    public static func socketPair() throws(Errno) -> (HostFile, HostFile) {
        var fds: [Int32] = [-1, -1]
        let r = fds.withUnsafeMutableBufferPointer { socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, $0.baseAddress) }
        guard r == 0 else { throw Errno(rawValue: errno) }
        return (HostFile(fd: fds[0]), HostFile(fd: fds[1]))
    }

    /// Up to `max` bytes from `fd` (blocking only if nothing is there): nil at end of file or on an error.
    public static func readSome(_ fd: Int32, max: Int = 4096) -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: max)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            return Array(buf[0..<n])
        }
    }

    /// Sends what the socket takes now, without waiting: the count (0 when full), nil once the peer is gone.
    public static func sendSome(_ fd: Int32, _ bytes: [UInt8]) -> Int? {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL)) }
        if n >= 0 { return n }
        return errno == EAGAIN || errno == EINTR ? 0 : nil
    }

    /// Writes all of `bytes` (blocking); false on an error.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { umk_write_all(fd, $0.baseAddress, $0.count) } >= 0
    }

    /// An anonymous file in memory (memfd): input given as bytes, or output kept to be read afterwards.
    public static func memoryFile(_ name: String, contents: [UInt8] = []) throws(Errno) -> HostFile {
        let fd = name.withCString { umk_syscall6(319, Int(bitPattern: $0), 1, 0, 0, 0, 0) }  // memfd_create, MFD_CLOEXEC
        guard fd >= 0 else { throw Errno(rawValue: Int32(-fd)) }
        let file = HostFile(fd: Int32(fd))
        var done = 0
        while done < contents.count {
            let n = contents[done...].withUnsafeBytes { Glibc.write(file.fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Errno(rawValue: n < 0 ? errno : ENOSPC) }
            done += n
        }
        _ = try file.seek(0, whence: SEEK_SET)
        return file
    }

    /// Opens a host path for a guest's stream: for reading, or created/truncated (or appended) for writing.
    public static func open(_ path: String, forWriting: Bool, append: Bool = false) throws(Errno) -> HostFile {
        let flags = forWriting ? O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC) : O_RDONLY
        return HostFile(fd: try retrying { Glibc.open(path, flags | O_CLOEXEC, 0o644) })
    }

    /// Everything in a file from offset 0 (a memory file the guest wrote).
    public static func contents(_ file: HostFile) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buf.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, $0.count, off_t(out.count)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return out }
            out += buf[0..<n]
        }
    }

    /// Whether `fd` is a socket (gdb's `target remote | COMMAND` gives the command one as stdin and stdout).
    public static func isSocket(_ fd: Int32) -> Bool {
        var st = stat()
        return fstat(fd, &st) == 0 && st.st_mode & S_IFMT == S_IFSOCK
    }

    /// Which of `files` are readable (or at end or in error), waiting up to `timeoutMilliseconds` (-1: no
    /// limit) for one to be; none when a signal ends the wait.
    public static func readable(_ files: [HostFile], timeoutMilliseconds: Int32) -> [Bool] {
        var fds = files.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        let r = poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
        guard r > 0 else { return files.map { _ in false } }
        return fds.map { $0.revents != 0 }
    }
}
