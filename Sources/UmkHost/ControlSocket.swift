// ControlSocket.swift: how `umk exec`, `umk ps`, `umk stop` ... reach a named instance (UML's mconsole, docker's
// API socket): a SOCK_SEQPACKET UNIX socket per instance in a directory of the user's own, made 0600, and a
// SO_PEERCRED check of every connection. A message is a list of strings (NUL-separated), and may carry
// descriptors: an exec's stdin, stdout and stderr.
import Glibc
import CUmk

public final class ControlSocket: @unchecked Sendable {
    public let fd: Int32
    /// The largest message: an exec's arguments and environment must fit (a SEQPACKET message is bounded
    /// by the socket's send buffer).
    public static let maxMessage = 160 << 10

    private init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    /// Binds and listens at `path` (which must not exist), mode 0600.
    public static func listen(at path: String) throws(Errno) -> ControlSocket {
        let r = umk_control_listen(path)
        guard r >= 0 else { throw Errno(rawValue: -r) }
        return ControlSocket(fd: r)
    }

    public static func connect(to path: String) throws(Errno) -> ControlSocket {
        let r = umk_control_connect(path)
        guard r >= 0 else { throw Errno(rawValue: -r) }
        return ControlSocket(fd: r)
    }

    /// The next connection (blocking); EINVAL once the listener was shut down.
    public func accept() throws(Errno) -> ControlSocket {
        while true {
            let r = umk_control_accept(fd)
            if r == -EINTR { continue }
            guard r >= 0 else { throw Errno(rawValue: -r) }
            return ControlSocket(fd: r)
        }
    }

    /// The uid of the process at the other end (SO_PEERCRED), or nil.
    public var peerUID: UInt32? {
        let r = umk_control_peer_uid(fd)
        return r >= 0 ? UInt32(r) : nil
    }

    public func send(_ fields: [String], descriptors: [Int32] = []) throws(Errno) {
        var bytes: [UInt8] = []
        for f in fields { bytes += Array(f.utf8) + [0] }
        guard bytes.count <= ControlSocket.maxMessage else { throw Errno(rawValue: E2BIG) }
        let r = bytes.withUnsafeBytes { b in
            descriptors.withUnsafeBufferPointer { umk_control_send(fd, b.baseAddress, b.count, $0.baseAddress, Int32($0.count)) }
        }
        guard r >= 0 else { throw Errno(rawValue: Int32(-r)) }
    }

    /// The next message and the descriptors it carried (owned by the caller now), or nil at end of stream.
    public func receive() throws(Errno) -> (fields: [String], descriptors: [HostFile])? {
        var buf = [UInt8](repeating: 0, count: ControlSocket.maxMessage)
        var fds = [Int32](repeating: -1, count: 8)
        var count: Int32 = 0
        var r: Int
        repeat {
            r = buf.withUnsafeMutableBytes { b in
                fds.withUnsafeMutableBufferPointer { umk_control_receive(fd, b.baseAddress, b.count, $0.baseAddress, 8, &count) }
            }
        } while r == -Int(EINTR)
        let files = fds[0..<Int(max(0, count))].map { HostFile(fd: $0) }
        guard r >= 0 else { throw Errno(rawValue: Int32(-r)) }
        if r == 0 { return nil }
        var fields = buf[0..<r].split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if fields.last == "" { fields.removeLast() }
        return (fields, files)
    }

    /// Waits up to `timeoutMilliseconds` for a message (or the end); false on timeout or a signal.
    public func waitReadable(timeoutMilliseconds: Int32) -> Bool {
        umk_poll_readable(fd, timeoutMilliseconds) > 0
    }

    /// Ends both directions: a thread blocked in accept or receive on it returns.
    public func shutDown() { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
}

/// Where named instances keep their sockets and console logs.
public enum ControlDirectory {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// $UMK_RUNTIME_DIR, else $XDG_RUNTIME_DIR/umk, else /tmp/umk-UID: made (0700) if missing, and refused
    /// unless it is a directory of this user's that no one else may write or enter.
    public static func path(create: Bool = true) throws(Failure) -> String {
        let path: String
        if let dir = getenv("UMK_RUNTIME_DIR").map({ String(cString: $0) }), !dir.isEmpty {
            path = dir
        } else if let xdg = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), xdg.hasPrefix("/") {
            path = xdg + "/umk"
        } else {
            path = "/tmp/umk-\(geteuid())"
        }
        if create && mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw Failure(description: "\(path): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard lstat(path, &st) == 0 else { throw Failure(description: "\(path): \(String(cString: strerror(errno)))") }
        guard st.st_mode & S_IFMT == S_IFDIR, st.st_uid == geteuid(), st.st_mode & 0o077 == 0 else {
            throw Failure(description: "\(path): not a private directory of this user's (it must be mode 0700 and owned by uid \(geteuid()))")
        }
        return path
    }

    /// The names of the entries of `directory` that end in `suffix`, without it.
    public static func names(in directory: String, suffix: String) -> [String] {
        guard let d = opendir(directory) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(suffix) && name.count > suffix.count { out.append(String(name.dropLast(suffix.count))) }
        }
        return out.sorted()
    }

    public static func remove(_ path: String) { unlink(path) }

    /// The device and inode of the file at `path` itself (not followed), or nil when there is none: whether a
    /// socket file is still the one an instance bound.
    public static func identity(_ path: String) -> [UInt64]? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return [UInt64(st.st_dev), UInt64(st.st_ino)]
    }
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
    public static var userID: UInt32 { geteuid() }
}

/// `umk run -d`: umk again, detached.
public enum HostDetach {
    /// Starts umk with `arguments` in a session of its own, its console output appended to `logPath`.
    /// Returns the read end of a pipe whose write end the child has ($UMK_READY_FD: it writes one line there
    /// when it runs, or why it could not start), and the child's pid.
    public static func spawn(_ arguments: [String], environment: [String], logPath: String) throws(Errno) -> (ready: HostFile, pid: Int32) {
        let log = try HostStreams.open(logPath, forWriting: true)
        let pipe = try HostStreams.pipe()
        let env = environment.filter { !$0.hasPrefix("UMK_READY_FD=") } + ["UMK_READY_FD=3"]
        let argv = ["umk"] + arguments
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = env.map { strdup($0) } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        let r = umk_spawn_detached(&cArgs, &cEnv, log.fd, pipe.write.fd)
        guard r > 0 else { throw Errno(rawValue: Int32(-r)) }
        return (pipe.read, Int32(r))  // our write end closes now: the read sees the end of a child that died
    }

    /// The line the detached umk wrote on its ready pipe (empty if it ended without one).
    public static func readLine(_ file: HostFile) -> String {
        var out: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(file.fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || byte == 10 { break }
            out.append(byte)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The child's exit status, once it has ended (waitpid).
    public static func exitStatus(of pid: Int32) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// In the detached umk: writes `line` to the ready pipe named by $UMK_READY_FD, and closes it.
    public static func reportReady(_ line: String) {
        guard let v = getenv("UMK_READY_FD"), let fd = Int32(String(cString: v)), fd > 2 else { return }
        unsetenv("UMK_READY_FD")
        _ = Array((line + "\n").utf8).withUnsafeBytes { umk_write_all(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    public static var isDetachedChild: Bool { getenv("UMK_READY_FD") != nil }
}
