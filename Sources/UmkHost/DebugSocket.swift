// DebugSocket.swift: the host side of the gdb stub (the kernel's Debug/GdbStub.swift): where gdb connects,
// and the connected descriptor the stub reads packets from and writes replies to. Listening and accepting
// happen once, at boot and on the kernel thread, before its seccomp filter (KernelFilter) is installed: the
// filter allows read, write, poll and close, which is all the connection needs afterwards.
import Glibc
import CUmk

/// Where `umk run --gdb ADDR` listens: `HOST:PORT` or `:PORT` on the loopback interface only (gdb is the
/// user, and nothing on the network should be able to drive the guest), or a UNIX socket path.
public enum DebugAddress: Equatable, Sendable, CustomStringConvertible {
    case loopback(port: Int)
    case unix(path: String)

    /// Parses ADDR: anything with a `/` is a path; otherwise `[127.0.0.1|localhost]:PORT`.
    public init?(_ text: String) {
        if text.contains("/") {
            self = .unix(path: text)
            return
        }
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = text[..<colon]
        guard ["", "127.0.0.1", "localhost"].contains(host), let port = Int(text[text.index(after: colon)...]),
              port > 0, port < 65536 else { return nil }
        self = .loopback(port: port)
    }

    public var description: String {
        switch self {
        case .loopback(let port): return "127.0.0.1:\(port)"
        case .unix(let path): return path
        }
    }
}

/// One connection from gdb.
public final class DebugConnection {
    public let file: HostFile
    private var open = true

    /// A connection over `fd`, already connected to gdb (one accepted here, or one handed over later, say
    /// through a control socket, to attach to a running instance); closed with the connection.
    public init(fd: Int32) { file = HostFile(fd: fd, owned: false) }

    deinit { close() }

    /// Listens at `address`, calls `listening`, and waits for one connection. `interrupted` is asked about
    /// once a second (and after a signal): true gives up with EINTR, so that Ctrl-C or SIGTERM to umk still
    /// ends it. A UNIX socket's file is removed once gdb has connected.
    public static func accept(at address: DebugAddress, listening: () -> Void, interrupted: () -> Bool) throws(Errno)
        -> DebugConnection
    {
        let listener: Int32
        switch address {
        case .loopback(let port): listener = Int32(try shim(umk_debug_listen(nil, Int32(port))))
        case .unix(let path): listener = Int32(try shim(path.withCString { umk_debug_listen($0, 0) }))
        }
        defer {
            umk_debug_close(listener)
            if case .unix(let path) = address { _ = unlink(path) }
        }
        listening()
        while true {
            let r = umk_debug_accept(listener, 1000)
            if r >= 0 { return DebugConnection(fd: r) }
            if r != -EAGAIN && r != -EINTR && r != -ECONNABORTED { throw Errno(rawValue: -r) }
            if interrupted() { throw Errno(rawValue: EINTR) }
        }
    }

    /// Whatever gdb has sent, without blocking: empty when nothing is waiting, nil once gdb has gone
    /// (end of file or an error).
    public func readAvailable() -> [UInt8]? {
        guard open else { return nil }
        guard file.isReadable() else { return [] }
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = buf.withUnsafeMutableBytes { umk_read_some(file.fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        buf.removeSubrange(Int(n)...)
        return buf
    }

    /// Writes all of `bytes` (blocking: gdb reads its replies). False if gdb has gone.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard open else { return false }
        let r = bytes.withUnsafeBytes { umk_send_all(file.fd, $0.baseAddress, $0.count) }
        return r >= 0
    }

    public func close() {
        guard open else { return }
        open = false
        umk_debug_close(file.fd)
    }

    public var isOpen: Bool { open }
}
