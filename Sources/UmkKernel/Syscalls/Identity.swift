// Identity.swift: changing ids (kernel/sys.c setuid family, kernel/groups.c). Root may set any
// id; others only to one of their real, effective or saved ids (EPERM otherwise). The fs ids follow the
// effective ones.
extension SyscallTable {
    mutating func addCredentialCalls() {
        add(105, [.int]) { k, t, a throws(LinuxErrno) in try k.setIDs(t, user: true, real: nil, effective: a.uint(0), saved: nil, setuidStyle: true) }
        add(106, [.int]) { k, t, a throws(LinuxErrno) in try k.setIDs(t, user: false, real: nil, effective: a.uint(0), saved: nil, setuidStyle: true) }
        add(113, [.int, .int]) { k, t, a throws(LinuxErrno) in  // setreuid
            try k.setIDs(t, user: true, real: k.optionalID(a, 0), effective: k.optionalID(a, 1), saved: nil, setuidStyle: false, setreStyle: true)
        }
        add(114, [.int, .int]) { k, t, a throws(LinuxErrno) in  // setregid
            try k.setIDs(t, user: false, real: k.optionalID(a, 0), effective: k.optionalID(a, 1), saved: nil, setuidStyle: false, setreStyle: true)
        }
        add(117, [.int, .int, .int]) { k, t, a throws(LinuxErrno) in  // setresuid
            try k.setIDs(t, user: true, real: k.optionalID(a, 0), effective: k.optionalID(a, 1), saved: k.optionalID(a, 2), setuidStyle: false)
        }
        add(119, [.int, .int, .int]) { k, t, a throws(LinuxErrno) in  // setresgid
            try k.setIDs(t, user: false, real: k.optionalID(a, 0), effective: k.optionalID(a, 1), saved: k.optionalID(a, 2), setuidStyle: false)
        }
        add(122, [.int]) { _, t, a throws(LinuxErrno) in  // setfsuid: returns the old value, never fails visibly
            var c = t.process.credentials
            let old = c.fsuid
            if c.euid == 0 || [c.uid, c.euid, c.suid, c.fsuid].contains(a.uint(0)) { c.fsuid = a.uint(0) }
            t.process.credentials = c
            return .value(Int(old))
        }
        add(123, [.int]) { _, t, a throws(LinuxErrno) in  // setfsgid
            var c = t.process.credentials
            let old = c.fsgid
            if c.euid == 0 || [c.gid, c.egid, c.sgid, c.fsgid].contains(a.uint(0)) { c.fsgid = a.uint(0) }
            t.process.credentials = c
            return .value(Int(old))
        }
        add(116, [.int, .pointer]) { _, t, a throws(LinuxErrno) in  // setgroups
            guard t.process.credentials.euid == 0 else { throw .EPERM }
            let n = a.int(0)
            guard n >= 0, n <= 65536 else { throw .EINVAL }
            var groups: [UInt32] = []
            for i in 0..<Int(n) { groups.append(try t.mm.read(a.address(1).advanced(by: 4 * i), as: UInt32.self)) }
            t.process.credentials.groups = groups
            return .value(0)
        }
    }
}

extension Kernel {
    /// An id argument where -1 means "leave it".
    func optionalID(_ a: SyscallArgs, _ i: Int) -> UInt32? { a.uint(i) == UInt32.max ? nil : a.uint(i) }

    func setIDs(_ t: Task, user: Bool, real: UInt32?, effective: UInt32?, saved: UInt32?, setuidStyle: Bool,
                setreStyle: Bool = false) throws(LinuxErrno) -> SyscallOutcome
    {
        var c = t.process.credentials
        let privileged = c.euid == 0
        var (r, e, s) = user ? (c.uid, c.euid, c.suid) : (c.gid, c.egid, c.sgid)
        let allowed = [r, e, s]
        if setuidStyle {
            // setuid/setgid: root sets all three; others only the effective id, to the real or saved one.
            guard let id = effective else { throw .EINVAL }
            if privileged {
                (r, e, s) = (id, id, id)
            } else {
                guard id == r || id == s else { throw .EPERM }
                e = id
            }
        } else {
            for id in [real, effective, saved].compactMap({ $0 }) where !privileged && !allowed.contains(id) {
                throw .EPERM
            }
            let oldReal = r
            if let real { r = real }
            if let effective { e = effective }
            if let saved {
                s = saved
            } else if setreStyle && (real != nil || (effective != nil && effective != oldReal)) {
                s = e  // setreuid/setregid: the saved id follows a new effective id
            }
        }
        if user {
            (c.uid, c.euid, c.suid, c.fsuid) = (r, e, s, e)
        } else {
            (c.gid, c.egid, c.sgid, c.fsgid) = (r, e, s, e)
        }
        t.process.credentials = c
        return .value(0)
    }
}
