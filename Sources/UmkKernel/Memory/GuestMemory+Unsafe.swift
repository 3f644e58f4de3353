import UmkHost

// GuestMemory+Unsafe.swift: every copy between the kernel and guest memory (Linux's copy_{from,to}_user,
// gVisor's usermem.IO). Guest pages are reached through the kernel's own mapping of the physical-memory file,
// translated through the page table at the moment of access; a page that is not there, or not writable
// for a write, is EFAULT. The guest is never read through ptrace.
extension AddressSpace {
    func frameBuffer(_ frame: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: frames.memory.base + frame * 4096, count: 4096)
    }

    /// Calls `body` with the host pieces that make up guest [address, address+count), in order.
    @inline(__always)
    func withPieces(_ address: GuestAddress, _ count: Int, write: Bool,
                    _ body: (UnsafeMutableRawPointer, Int) throws(LinuxErrno) -> Void) throws(LinuxErrno)
    {
        guard count > 0 else { return }
        let end = try address.adding(UInt64(count))
        guard end.raw <= AddressSpace.userLimit else { throw .EFAULT }
        var at = address.raw
        while at < end.raw {
            let inPage = Int(at & 4095)
            let n = min(4096 - inPage, Int(end.raw - at))
            guard let f = frame(forPage: at >> 12, write: write) else { throw .EFAULT }
            try body(frames.memory.base + f * 4096 + inPage, n)
            at += UInt64(n)
        }
    }

    /// Host buffers over a guest range, for vectored host I/O straight into or out of guest memory.
    /// With `partial`, the buffers stop at the first page that is not there, as Linux's copies stop at the
    /// first fault and the call returns a short count; only a first page that is not there is EFAULT.
    func hostBuffers(_ address: GuestAddress, _ count: Int, write: Bool, partial: Bool = false) throws(LinuxErrno)
        -> [HostBuffer]
    {
        var out: [HostBuffer] = []
        guard count > 0 else { return out }
        let end = try address.adding(UInt64(count))
        var at = address.raw
        while at < end.raw {
            let inPage = Int(at & 4095)
            let n = min(4096 - inPage, Int(end.raw - at))
            guard at < AddressSpace.userLimit, let f = frame(forPage: at >> 12, write: write) else {
                if partial && !out.isEmpty { return out }
                throw .EFAULT
            }
            let p = frames.memory.base + f * 4096 + inPage
            if let last = out.last, last.base + last.count == p {
                out[out.count - 1].count += n
            } else {
                out.append(HostBuffer(base: p, count: n))
            }
            at += UInt64(n)
        }
        return out
    }

    func copyIn(_ address: GuestAddress, into buffer: UnsafeMutableRawBufferPointer) throws(LinuxErrno) {
        var done = 0
        try withPieces(address, buffer.count, write: false) { (p, n) throws(LinuxErrno) in
            (buffer.baseAddress! + done).copyMemory(from: p, byteCount: n)
            done += n
        }
    }

    func copyOut(_ address: GuestAddress, from buffer: UnsafeRawBufferPointer) throws(LinuxErrno) {
        var done = 0
        try withPieces(address, buffer.count, write: true) { (p, n) throws(LinuxErrno) in
            p.copyMemory(from: buffer.baseAddress! + done, byteCount: n)
            done += n
        }
    }

    func readBytes(_ address: GuestAddress, _ count: Int) throws(LinuxErrno) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        try withPieces(address, count, write: false) { (p, n) throws(LinuxErrno) in
            out.withUnsafeMutableBytes { $0.baseAddress!.advanced(by: done).copyMemory(from: p, byteCount: n) }
            done += n
        }
        return out
    }

    func writeBytes(_ address: GuestAddress, _ bytes: [UInt8]) throws(LinuxErrno) {
        var done = 0
        try withPieces(address, bytes.count, write: true) { (p, n) throws(LinuxErrno) in
            bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress! + done, byteCount: n) }
            done += n
        }
    }

    /// Reads a plain value (an integer, or a struct of them) from guest memory.
    func read<T: BitwiseCopyable>(_ address: GuestAddress, as: T.Type = T.self) throws(LinuxErrno) -> T {
        if address.raw & 4095 <= 4096 - UInt64(MemoryLayout<T>.size), address.raw < AddressSpace.userLimit {
            guard let f = frame(forPage: address.raw >> 12, write: false) else { throw .EFAULT }
            return (frames.memory.base + f * 4096 + Int(address.raw & 4095)).loadUnaligned(as: T.self)
        }
        let bytes = try readBytes(address, MemoryLayout<T>.size)
        return bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }

    func write<T: BitwiseCopyable>(_ address: GuestAddress, _ value: T) throws(LinuxErrno) {
        if address.raw & 4095 <= 4096 - UInt64(MemoryLayout<T>.size), address.raw < AddressSpace.userLimit {
            guard let f = frame(forPage: address.raw >> 12, write: true) else { throw .EFAULT }
            (frames.memory.base + f * 4096 + Int(address.raw & 4095)).storeBytes(of: value, as: T.self)
            return
        }
        try writeBytes(address, withUnsafeBytes(of: value) { Array($0) })
    }

    /// A NUL-terminated string of at most `max` bytes (NUL included); longer is ENAMETOOLONG, as for paths.
    func readString(_ address: GuestAddress, max: Int = 4096) throws(LinuxErrno) -> [UInt8] {
        var out: [UInt8] = []
        var at = address.raw
        while true {
            guard at < AddressSpace.userLimit, let f = frame(forPage: at >> 12, write: false) else { throw .EFAULT }
            let page = UnsafeRawBufferPointer(start: frames.memory.base + f * 4096, count: 4096)
            var i = Int(at & 4095)
            while i < 4096 {
                let b = page[i]
                if b == 0 { return out }
                out.append(b)
                if out.count >= max { throw .ENAMETOOLONG }
                i += 1
            }
            at = (at & ~4095) + 4096
        }
    }

    /// Zero-fills guest [address, address+count).
    func zero(_ address: GuestAddress, _ count: Int) throws(LinuxErrno) {
        try withPieces(address, count, write: true) { (p, n) throws(LinuxErrno) in p.initializeMemory(as: UInt8.self, repeating: 0, count: n) }
    }
}

extension AddressSpace {
    /// Zeroes guest memory whatever its protection: for the loader, which clears the bss part of a segment's
    /// last file page. That page becomes the address space's own first (it was the page cache's).
    func zeroDirect(_ address: GuestAddress, _ count: Int) throws(LinuxErrno) {
        var at = address.raw
        let end = at + UInt64(count)
        while at < end {
            try makePrivate(at >> 12)
            guard let pte = pages[at >> 12] else { throw .EFAULT }
            let inPage = Int(at & 4095)
            let n = min(4096 - inPage, Int(end - at))
            (frames.memory.base + Int(pte.frame) * 4096 + inPage).initializeMemory(as: UInt8.self, repeating: 0, count: n)
            at += UInt64(n)
        }
    }
}

extension AddressSpace {
    /// A debugger's read (access_process_vm): as many bytes from `address` as are readable, stopping at the
    /// first page that is not (empty if the first is not). Pages not yet backed are faulted in.
    func debuggerRead(_ address: GuestAddress, _ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var at = address.raw
        let end = address.raw.addingReportingOverflow(UInt64(max(count, 0)))
        let limit = end.overflow ? AddressSpace.userLimit : min(end.partialValue, AddressSpace.userLimit)
        while at < limit {
            let inPage = Int(at & 4095)
            let n = min(4096 - inPage, Int(limit - at))
            guard let f = frame(forPage: at >> 12, write: false) else { break }
            out += UnsafeRawBufferPointer(start: frames.memory.base + f * 4096 + inPage, count: n)
            at += UInt64(n)
        }
        return out
    }

    /// A debugger's write (access_process_vm with FOLL_FORCE, as ptrace's POKETEXT): private mappings are
    /// written whatever their protection, the page copied first if it is shared (copy-on-write, the page
    /// cache's); a shared mapping only if it is writable. EFAULT where nothing is mapped; the pages before
    /// it are written. The changed mappings reach the stub at the next flush (before the guest runs).
    func debuggerWrite(_ address: GuestAddress, _ bytes: [UInt8]) throws(LinuxErrno) {
        guard !bytes.isEmpty else { return }
        let end = try address.adding(UInt64(bytes.count))
        guard end.raw <= AddressSpace.userLimit else { throw .EFAULT }
        var at = address.raw
        var done = 0
        while at < end.raw {
            let vpn = at >> 12
            let inPage = Int(at & 4095)
            let n = min(4096 - inPage, Int(end.raw - at))
            guard let v = vmas.find(at) else { throw .EFAULT }
            let f: Int
            if v.shared {
                guard let writable = frame(forPage: vpn, write: true) else { throw .EFAULT }
                f = writable
            } else {
                guard frame(forPage: vpn, write: false) != nil else { throw .EFAULT }  // backed first
                try makePrivate(vpn)
                guard let pte = pages[vpn] else { throw .EFAULT }
                f = Int(pte.frame)
            }
            bytes.withUnsafeBytes { (frames.memory.base + f * 4096 + inPage).copyMemory(from: $0.baseAddress! + done, byteCount: n) }
            done += n
            at += UInt64(n)
        }
    }
}
