import UmkHost

// StraceStructs.swift: the structs --strace decodes, in strace's abbreviated (non -v) form:
//   {st_mode=S_IFREG|0644, st_size=1234, ...}    [{iov_base="hi\n", iov_len=3}]    {tv_sec=0, tv_nsec=1000}
// Each returns nil when guest memory cannot be read, and the caller shows the address instead. Arrays stop
// after Strace.maxString elements with "...", as strace's print_array does; strings after maxString bytes.

extension Strace {
    /// A value of type T at guest address `at`, or nil.
    func load<T: BitwiseCopyable>(_ task: Task, _ at: UInt64, as: T.Type = T.self) -> T? {
        at == 0 ? nil : try? task.mm.read(GuestAddress(at), as: T.self)
    }

    func bytes(_ task: Task, _ at: UInt64, _ count: Int) -> [UInt8]? {
        at == 0 && count > 0 ? nil : try? task.mm.readBytes(GuestAddress(at), count)
    }

    /// `count` elements of `size` bytes from `at`: [a, b, ...], at most maxString of them. Nil if the first
    /// cannot be read; an element that cannot be read ends the array with its address, as strace does.
    func array(_ task: Task, _ at: UInt64, count: Int, size: Int, _ element: (UInt64) -> String?) -> String? {
        guard at != 0 else { return nil }
        var items: [String] = []
        for k in 0..<min(count, Strace.maxString + 1) {
            if k == Strace.maxString { items.append("..."); break }
            let (address, overflow) = at.addingReportingOverflow(UInt64(k * size))
            guard !overflow, let text = element(address) else {
                if k == 0 { return nil }
                items.append("... /* \(Strace.address(address)) */")
                break
            }
            items.append(text)
        }
        return "[" + items.joined(separator: ", ") + "]"
    }

    // MARK: files

    /// struct stat (x86-64, 144 bytes).
    func stat(_ task: Task, _ at: UInt64) -> String? {
        guard let b = bytes(task, at, 144) else { return nil }
        let mode = b.u32(24)
        var s = "{st_mode=\(StraceNames.mode(mode)), "
        if mode & 0o170000 == 0o020000 || mode & 0o170000 == 0o060000 {
            s += "st_rdev=\(Strace.makedev(b.u64(40))), "
        } else {
            s += "st_size=\(Int64(bitPattern: b.u64(48))), "
        }
        return s + "...}"
    }

    /// struct statx (256 bytes).
    func statx(_ task: Task, _ at: UInt64) -> String? {
        guard let b = bytes(task, at, 256) else { return nil }
        let mode = UInt32(b.u32(28) & 0xffff)
        var s = "{stx_mask=\(StraceNames.flags(b.u32(0), StraceNames.statxMask)), "
        s += "stx_attributes=\(StraceNames.flags(b.u64(8), StraceNames.statxAttributes)), stx_mode=\(StraceNames.mode(mode)), "
        if mode & 0o170000 == 0o020000 || mode & 0o170000 == 0o060000 {
            s += "stx_rdev=makedev(\(StraceNames.hex(b.u32(128))), \(StraceNames.hex(b.u32(132)))), "
        } else {
            s += "stx_size=\(b.u64(40)), "
        }
        return s + "...}"
    }

    /// makedev(major, minor) of a Linux dev_t.
    static func makedev(_ d: UInt64) -> String {
        let major = ((d >> 8) & 0xfff) | ((d >> 32) & ~0xfff)
        let minor = (d & 0xff) | ((d >> 12) & ~0xff)
        return "makedev(\(StraceNames.hex(major)), \(StraceNames.hex(minor)))"
    }

    // MARK: signals

    /// struct sigaction as the kernel takes it: handler, flags, restorer, mask.
    func sigaction(_ task: Task, _ at: UInt64) -> String? {
        guard let b = bytes(task, at, 32) else { return nil }
        let handler = b.u64(0), flags = b.u64(8), restorer = b.u64(16)
        let h = handler == 0 ? "SIG_DFL" : handler == 1 ? "SIG_IGN" : Strace.address(handler)
        var s = "{sa_handler=\(h), sa_mask=\(StraceNames.sigset(b.u64(24))), "
        s += "sa_flags=\(StraceNames.flags(flags, StraceNames.sigactionFlags))"
        if flags & 0x0400_0000 != 0 { s += ", sa_restorer=\(Strace.address(restorer))" }
        return s + "}"
    }

    // MARK: time

    func timespec(_ task: Task, _ at: UInt64) -> String? {
        guard let t = load(task, at, as: (Int64, Int64).self) else { return nil }
        return "{tv_sec=\(t.0), tv_nsec=\(t.1)}"
    }

    func timeval(_ task: Task, _ at: UInt64) -> String? {
        guard let t = load(task, at, as: (Int64, Int64).self) else { return nil }
        return "{tv_sec=\(t.0), tv_usec=\(t.1)}"
    }

    // MARK: I/O

    /// An iovec array; `data` bytes of contents in all (the call's result for readv, all for writev).
    func iovecs(_ task: Task, _ at: UInt64, count: Int, data: Int) -> String? {
        var left = data
        return array(task, at, count: count, size: 16) { address in
            guard let iov = load(task, address, as: (UInt64, UInt64).self) else { return nil }
            let shown = Int(min(iov.1, UInt64(max(left, 0))))
            left -= shown
            return "{iov_base=\(bufferString(task, GuestAddress(iov.0), shown)), iov_len=\(iov.1)}"
        }
    }

    /// struct msghdr (56 bytes); `data` bytes of contents (recvmsg's result).
    func msghdr(_ task: Task, _ at: UInt64, data: Int) -> String? {
        guard let b = bytes(task, at, 56) else { return nil }
        let name = b.u64(0), namelen = b.u32(8), iov = b.u64(16), iovlen = b.u64(24)
        let control = b.u64(32), controllen = b.u64(40), flags = b.u32(48)
        var s = "{msg_name="
        s += name == 0 ? "NULL" : (sockaddr(task, name, length: Int(namelen)) ?? Strace.address(name))
        s += ", msg_namelen=\(namelen), msg_iov="
        s += iovecs(task, iov, count: Int(min(iovlen, 1024)), data: data) ?? Strace.address(iov)
        s += ", msg_iovlen=\(iovlen), "
        if controllen > 0 {
            s += "msg_control=\(controlMessages(task, control, Int(min(controllen, 4096))) ?? Strace.address(control)), "
        }
        return s + "msg_controllen=\(controllen), msg_flags=\(StraceNames.flags(flags, StraceNames.messageFlags))}"
    }

    /// Ancillary data: SCM_RIGHTS and SCM_CREDENTIALS decoded, others by level and type.
    private func controlMessages(_ task: Task, _ at: UInt64, _ length: Int) -> String? {
        guard let b = bytes(task, at, length) else { return nil }
        var items: [String] = []
        var off = 0
        while off + 16 <= b.count, items.count < Strace.maxString {
            let len = Int(min(b.u64(off), UInt64(b.count - off))), level = Int32(bitPattern: b.u32(off + 8))
            let type = Int32(bitPattern: b.u32(off + 12))
            let levelName = level == 1 ? "SOL_SOCKET" : String(level)
            var item = "{cmsg_len=\(b.u64(off)), cmsg_level=\(levelName), cmsg_type="
            if level == 1 && type == 1 {
                let fds = stride(from: off + 16, to: off + len - 3, by: 4).map { String(Int32(bitPattern: b.u32($0))) }
                item += "SCM_RIGHTS, cmsg_data=[\(fds.joined(separator: ", "))]}"
            } else if level == 1 && type == 2 && len >= 28 {
                item += "SCM_CREDENTIALS, cmsg_data={pid=\(b.u32(off + 16)), uid=\(b.u32(off + 20)), gid=\(b.u32(off + 24))}}"
            } else {
                item += "\(level == 1 ? ["1": "SCM_RIGHTS", "2": "SCM_CREDENTIALS"][String(type)] ?? String(type) : String(type))}"
            }
            items.append(item)
            guard len >= 16 else { break }
            off += (len + 7) & ~7
        }
        return "[" + items.joined(separator: ", ") + "]"
    }

    /// A socket address of `length` bytes: AF_UNIX (paths, abstract names), AF_INET, AF_INET6.
    func sockaddr(_ task: Task, _ at: UInt64, length: Int) -> String? {
        guard length >= 2, let b = bytes(task, at, min(length, 128)) else { return length < 2 && at != 0 ? "{}" : nil }
        let family = Int32(b[0]) | Int32(b[1]) << 8
        var s = "{sa_family=\(StraceNames.value(family, StraceNames.addressFamilies))"
        switch family {
        case 1 where b.count > 2:
            let path = Array(b[2...])
            if path.first == 0 {
                s += ", sun_path=@" + Strace.quote(Array(path.dropFirst()), limit: 108)
            } else {
                s += ", sun_path=" + Strace.quote(Array(path.prefix { $0 != 0 }), limit: 108)
            }
        case 2 where b.count >= 8:
            s += ", sin_port=htons(\(UInt16(b[2]) << 8 | UInt16(b[3]))), sin_addr=inet_addr(\"\(b[4]).\(b[5]).\(b[6]).\(b[7])\")"
        case 10 where b.count >= 24:
            let groups = stride(from: 8, to: 24, by: 2).map { String(UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]), radix: 16) }
            s += ", sin6_port=htons(\(UInt16(b[2]) << 8 | UInt16(b[3]))), sin6_flowinfo=htonl(\(b.u32(4).bigEndian)), "
            s += "inet_pton(AF_INET6, \"\(groups.joined(separator: ":"))\", &sin6_addr)"
        default:
            break
        }
        return s + "}"
    }

    /// pollfd array: on entry fd and events; on return (`returned`) only the entries with revents.
    func pollfds(_ task: Task, _ at: UInt64, count: Int, returned: Bool) -> String? {
        if !returned {
            return array(task, at, count: count, size: 8) { address in
                guard let p = load(task, address, as: (Int32, UInt16, UInt16).self) else { return nil }
                // strace leaves out the events of a negative fd (poll ignores the entry).
                return p.0 < 0 ? "{fd=\(p.0)}" : "{fd=\(p.0), events=\(StraceNames.flags(p.1, StraceNames.pollEvents))}"
            }
        }
        var items: [String] = []
        for k in 0..<min(count, 1024) {
            guard let p = load(task, at &+ UInt64(8 * k), as: (Int32, UInt16, UInt16).self) else { return nil }
            if p.2 != 0 { items.append("{fd=\(p.0), revents=\(StraceNames.flags(p.2, StraceNames.pollEvents))}") }
            if items.count == Strace.maxString { items.append("..."); break }
        }
        return "[" + items.joined(separator: ", ") + "]"
    }

    /// struct epoll_event (packed, 12 bytes).
    func epollEvent(_ task: Task, _ at: UInt64) -> String? {
        guard let b = bytes(task, at, 12) else { return nil }
        let data = b.u64(4)
        return "{events=\(epollEvents(b.u32(0))), data={u32=\(UInt32(truncatingIfNeeded: data)), u64=\(data)}}"
    }

    func epollEvents(_ ev: UInt32) -> String {
        StraceNames.flags(ev, [
            (EPOLL.IN, "EPOLLIN"), (EPOLL.PRI, "EPOLLPRI"), (EPOLL.OUT, "EPOLLOUT"), (EPOLL.ERR, "EPOLLERR"),
            (EPOLL.HUP, "EPOLLHUP"), (0x20, "EPOLLNVAL"), (EPOLL.RDNORM, "EPOLLRDNORM"), (0x80, "EPOLLRDBAND"),
            (0x100, "EPOLLWRNORM"), (0x200, "EPOLLWRBAND"), (0x400, "EPOLLMSG"), (EPOLL.RDHUP, "EPOLLRDHUP"),
            (EPOLL.EXCLUSIVE, "EPOLLEXCLUSIVE"), (EPOLL.WAKEUP, "EPOLLWAKEUP"), (EPOLL.ONESHOT, "EPOLLONESHOT"),
            (EPOLL.ET, "EPOLLET"),
        ])
    }

    // MARK: processes and the system

    func rlimit(_ task: Task, _ at: UInt64) -> String? {
        guard let r = load(task, at, as: (UInt64, UInt64).self) else { return nil }
        return "{rlim_cur=\(StraceNames.rlim(r.0)), rlim_max=\(StraceNames.rlim(r.1))}"
    }

    func utsname(_ task: Task, _ at: UInt64) -> String? {
        guard let b = bytes(task, at, 130) else { return nil }
        let field = { (k: Int) in Strace.quote(Array(b[(65 * k)..<(65 * k + 65)].prefix { $0 != 0 }), limit: 65) }
        return "{sysname=\(field(0)), nodename=\(field(1)), ...}"
    }

    /// struct clone_args (clone3), the fields strace shows for its flags.
    func clone3(_ task: Task, _ at: UInt64) -> String? {
        guard let b = bytes(task, at, 64) else { return nil }
        let flags = b.u64(0)
        var s = "{flags=\(StraceNames.flags(flags, StraceNames.cloneFlags))"
        if flags & 0x1000 != 0 { s += ", pidfd=\(Strace.address(b.u64(8)))" }
        if flags & 0x1200000 != 0 { s += ", child_tid=\(Strace.address(b.u64(16)))" }
        if flags & 0x100000 != 0 { s += ", parent_tid=\(Strace.address(b.u64(24)))" }
        let sig = Int32(truncatingIfNeeded: b.u64(32))
        s += ", exit_signal=\(sig == 0 ? "0" : signalName(sig)), stack=\(Strace.address(b.u64(40)))"
        s += ", stack_size=\(StraceNames.hex(b.u64(48)))"
        if flags & 0x80000 != 0 { s += ", tls=\(Strace.address(b.u64(56)))" }
        return s + "}"
    }

    /// A NULL-terminated array of strings (execve's argv): at most maxString of them, then "...".
    func stringArray(_ task: Task, _ at: UInt64) -> String? {
        guard at != 0 else { return "NULL" }
        var items: [String] = []
        var address = at
        while let p = load(task, address, as: UInt64.self), p != 0 {
            if items.count == Strace.maxString { items.append("..."); break }
            items.append(cString(task, p, max: Strace.maxString + 1)
                .map { Strace.quote($0, limit: Strace.maxString) } ?? Strace.address(p))
            address = address &+ 8
        }
        if items.isEmpty && load(task, at, as: UInt64.self) == nil { return nil }
        return "[" + items.joined(separator: ", ") + "]"
    }

    // MARK: strings

    /// The NUL-terminated string at `at`, at most `max` bytes of it; nil if it cannot be read.
    func cString(_ task: Task, _ at: UInt64, max: Int) -> [UInt8]? {
        guard at != 0 else { return nil }
        var out: [UInt8] = []
        var address = at
        while out.count < max {
            let chunk = min(Int(4096 - (address & 4095)), max - out.count)
            guard let b = try? task.mm.readBytes(GuestAddress(address), chunk) else { return nil }
            if let z = b.firstIndex(of: 0) { return out + b[..<z] }
            out += b
            let (next, overflow) = address.addingReportingOverflow(UInt64(chunk))
            if overflow { return nil }
            address = next
        }
        return out
    }

    /// `count` bytes at `at`, quoted, at most maxString of them.
    func bufferString(_ task: Task, _ at: GuestAddress, _ count: Int, hex: Bool = false) -> String {
        let n = min(count, Strace.maxString)
        guard let bytes = try? task.mm.readBytes(at, n) else { return Strace.address(at.raw) }
        return Strace.quote(bytes, limit: n, hex: hex) + (count > n ? "..." : "")
    }

    /// A string as strace's string_quote prints it: C escapes, other bytes in octal (as few digits as the
    /// next character allows), or all in \xNN with `hex`.
    static func quote(_ s: [UInt8], limit: Int, hex: Bool = false) -> String {
        var out = "\""
        let shown = Array(s.prefix(limit))
        for (k, b) in shown.enumerated() {
            if hex {
                out += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
                continue
            }
            switch b {
            case 0x0a: out += "\\n"
            case 0x09: out += "\\t"
            case 0x0d: out += "\\r"
            case 0x0b: out += "\\v"
            case 0x0c: out += "\\f"
            case 0x22: out += "\\\""
            case 0x5c: out += "\\\\"
            case 0x20...0x7e: out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let nextIsDigit = k + 1 < shown.count && (0x30...0x37).contains(shown[k + 1])
                var digits = String(b, radix: 8)
                if nextIsDigit { digits = String(repeating: "0", count: 3 - digits.count) + digits }
                out += "\\" + digits
            }
        }
        return out + "\"" + (s.count > limit ? "..." : "")
    }
}

extension Array where Element == UInt8 {
    /// Little-endian fields of a struct read from guest memory (the caller read enough bytes).
    func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(self[at + $1]) << (8 * UInt32($1)) } }
    func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(self[at + $1]) << (8 * UInt64($1)) } }
}
