import UmkHost

// IOSequence+Unsafe.swift: the bytes a read fills or a write drains (gVisor's usermem.IOSequence): pieces of
// guest memory already translated through the page table (AddressSpace.ioSequence), or a kernel buffer. Files
// copy through it and never see a pointer; only hostfs and the console hand its pieces to the host, which reads
// or writes guest memory in place.
struct IOSequence {
    private var pieces: [HostBuffer]
    /// The number of bytes in the sequence.
    private(set) var count: Int

    init(pieces: [HostBuffer]) {
        self.pieces = pieces
        count = pieces.reduce(0) { $0 + $1.count }
    }

    var isEmpty: Bool { count == 0 }

    /// The sequence without its first `n` bytes.
    func dropFirst(_ n: Int) -> IOSequence {
        var skip = n
        let rest = pieces.compactMap { b -> HostBuffer? in
            if skip >= b.count {
                skip -= b.count
                return nil
            }
            defer { skip = 0 }
            return HostBuffer(base: b.base + skip, count: b.count - skip)
        }
        return IOSequence(pieces: rest)
    }

    /// The first `n` bytes of the sequence.
    func prefix(_ n: Int) -> IOSequence {
        var left = max(n, 0)
        var out: [HostBuffer] = []
        for b in pieces where left > 0 {
            out.append(HostBuffer(base: b.base, count: min(b.count, left)))
            left -= out[out.count - 1].count
        }
        return IOSequence(pieces: out)
    }

    /// Copies `bytes` into the sequence, in order (a read's data); returns how many fitted.
    @discardableResult
    func copyOut<C: Collection>(_ bytes: C) -> Int where C.Element == UInt8 {
        if let n = bytes.withContiguousStorageIfAvailable({ copyOut(raw: UnsafeRawBufferPointer($0)) }) { return n }
        return Array(bytes).withUnsafeBytes { copyOut(raw: $0) }
    }

    private func copyOut(raw src: UnsafeRawBufferPointer) -> Int {
        var done = 0
        for b in pieces where done < src.count {
            let n = min(b.count, src.count - done)
            b.base.copyMemory(from: src.baseAddress! + done, byteCount: n)
            done += n
        }
        return done
    }

    /// The first `limit` bytes of the sequence, copied (a write's data, for files that keep it in the kernel).
    func copyIn(limit: Int = .max) -> [UInt8] {
        var out: [UInt8] = []
        append(to: &out, limit: limit)
        return out
    }

    /// Appends the first `limit` bytes of the sequence to `out`; returns how many.
    @discardableResult
    func append(to out: inout [UInt8], limit: Int = .max) -> Int {
        var done = 0
        out.reserveCapacity(out.count + min(limit, count))
        for b in pieces where done < limit {
            let n = min(b.count, limit - done)
            out.append(contentsOf: UnsafeRawBufferPointer(start: b.base, count: n))
            done += n
        }
        return done
    }

    /// Fills the whole sequence with zeros (/dev/zero) or random bytes (/dev/urandom); returns its count.
    func fill(random: Bool) -> Int {
        for b in pieces {
            let buf = UnsafeMutableRawBufferPointer(start: b.base, count: b.count)
            if random { HostRandom.fill(buf) } else { buf.initializeMemory(as: UInt8.self, repeating: 0) }
        }
        return count
    }

    /// Runs `body` with a sequence over a kernel buffer of `count` bytes; returns the first bytes of it, as
    /// many as `body` says it filled.
    static func reading(_ count: Int, _ body: (IOSequence) throws(LinuxErrno) -> Int) throws(LinuxErrno) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let r: Result<Int, LinuxErrno> = bytes.withUnsafeMutableBytes { b in
            let io = IOSequence(pieces: b.baseAddress.map { [HostBuffer(base: $0, count: b.count)] } ?? [])
            return Result { () throws(LinuxErrno) in try body(io) }
        }
        let n = try r.get()
        return Array(bytes.prefix(max(0, min(n, count))))
    }

    /// Runs `body` with a sequence over the kernel buffer `bytes`, which a write drains (sendfile, splice).
    static func draining(_ bytes: inout [UInt8], _ body: (IOSequence) throws(LinuxErrno) -> Int) throws(LinuxErrno) -> Int {
        let r: Result<Int, LinuxErrno> = bytes.withUnsafeMutableBytes { b in
            let io = IOSequence(pieces: b.baseAddress.map { [HostBuffer(base: $0, count: b.count)] } ?? [])
            return Result { () throws(LinuxErrno) in try body(io) }
        }
        return try r.get()
    }

    /// The pieces as host buffers, for host I/O straight into or out of guest memory (hostfs, the console).
    var hostBuffers: [HostBuffer] { pieces }
}

extension IOSequence {
    /// The pieces of `parts`, in order (readv's iovecs).
    init(concatenating parts: [IOSequence]) { self.init(pieces: parts.flatMap { $0.pieces }) }
}

extension PhysicalFrames {
    /// The sequence over whole frames, in order (the page cache reads a file into them).
    func ioSequence(frames list: [Int]) -> IOSequence {
        IOSequence(pieces: list.map { HostBuffer(base: memory.base + $0 * 4096, count: 4096) })
    }

    /// The sequence over bytes [offset, offset+count) of one frame (tmpfs reads and writes file pages).
    func ioSequence(frame: Int, offset: Int, count: Int) -> IOSequence {
        precondition(offset >= 0 && count >= 0 && offset + count <= 4096)
        return IOSequence(pieces: [HostBuffer(base: memory.base + frame * 4096 + offset, count: count)])
    }

    /// Copies frame `from` into frame `to`.
    func copyFrame(_ from: Int, to: Int) {
        (memory.base + to * 4096).copyMemory(from: memory.base + from * 4096, byteCount: 4096)
    }
}

extension IOSequence {
    /// Copies bytes from `source` into this sequence, both from their starts; returns how many.
    @discardableResult
    func copy(from source: IOSequence) -> Int {
        var done = 0
        var si = 0, so = 0  // piece of source and offset in it
        for b in pieces {
            var bo = 0
            while bo < b.count && si < source.pieces.count {
                let s = source.pieces[si]
                let n = min(b.count - bo, s.count - so)
                (b.base + bo).copyMemory(from: s.base + so, byteCount: n)
                bo += n
                so += n
                done += n
                if so == s.count { si += 1; so = 0 }
            }
        }
        return done
    }
}

extension AddressSpace {
    /// The sequence over guest [address, address+count), for a read into it (`write`) or a write from it.
    /// With `partial`, it stops at the first page that is not there, as Linux's copies stop at the first fault
    /// and the call returns a short count; only a first page that is not there is EFAULT.
    func ioSequence(_ address: GuestAddress, _ count: Int, write: Bool, partial: Bool = false) throws(LinuxErrno)
        -> IOSequence
    {
        IOSequence(pieces: try hostBuffers(address, count, write: write, partial: partial))
    }
}
