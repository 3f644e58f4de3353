import UmkHost

// Credentials.swift: who a guest process is (Linux's struct cred, reduced to ids) and the classic
// owner/group/other permission check (fs/namei.c generic_permission). uid 0 passes read and write checks,
// and execute checks when any execute bit is set, as root does without capabilities dropped.
struct Credentials: Equatable {
    var uid: UInt32 = 0, euid: UInt32 = 0, suid: UInt32 = 0, fsuid: UInt32 = 0
    var gid: UInt32 = 0, egid: UInt32 = 0, sgid: UInt32 = 0, fsgid: UInt32 = 0
    var groups: [UInt32] = []

    init(uid: UInt32, gid: UInt32) {
        self.uid = uid; euid = uid; suid = uid; fsuid = uid
        self.gid = gid; egid = gid; sgid = gid; fsgid = gid
    }

    var isRoot: Bool { fsuid == 0 }

    struct Access: OptionSet {
        let rawValue: Int32
        static let execute = Access(rawValue: 1)
        static let write = Access(rawValue: 2)
        static let read = Access(rawValue: 4)
    }

    func permits(_ st: FileStat, _ want: Access, real: Bool = false) -> Bool {
        let uid = real ? self.uid : fsuid
        let gid = real ? self.gid : fsgid
        let mode = Int32(st.mode)
        if uid == 0 {
            if want.contains(.execute) && (st.fileType != S.IFDIR) && mode & 0o111 == 0 { return false }
            return true
        }
        let bits: Int32
        if st.uid == uid {
            bits = (mode >> 6) & 7
        } else if st.gid == gid || groups.contains(st.gid) {
            bits = (mode >> 3) & 7
        } else {
            bits = mode & 7
        }
        return bits & want.rawValue == want.rawValue
    }
}
