import UmkHost

// AddressSpace.swift: one guest address space (Linux's mm_struct): its VMAs, its page table (guest page ->
// frame of the physical-memory file, with protection), and the platform's address space whose mappings mirror
// the page table (Platform.swift). Every change here is queued there and flushed before the guest runs again.
//
// Writable private memory is counted against --mem when it is mapped (ENOMEM at mmap time when the instance
// cannot back it, never an OOM on the host), but anonymous pages take frames only when first touched: the
// fault maps a cluster of pages around the one touched, so a fresh mapping costs no page-table work and a
// fork copies only what was used. File pages come from the page cache at map time.
final class AddressSpace {
    typealias PTE = PageTable.Entry

    let frames: PhysicalFrames
    let cache: PageCache
    let space: PlatformAddressSpace
    private(set) var vmas = VMASet()
    private(set) var pages = PageTable()

    /// Guest user space ends where the stub begins.
    static let userLimit: UInt64 = StubProcess.guestLimit
    /// Top-down mmap placement starts here, below the stack and its growth room (no ASLR, as with setarch -R).
    static let stackTop: UInt64 = 0x7fff_ff7f_f000
    static let mmapTop: UInt64 = 0x7fff_f7ff_f000
    static let mmapBottom: UInt64 = 0x1_0000

    var brkStart: UInt64 = 0
    var brkCurrent: UInt64 = 0
    /// RLIMIT_STACK: how far the stack may grow down from its top.
    var stackLimit: UInt64 = 8 << 20
    /// Where exec put the argument and environment strings and the initial stack pointer (mm->arg_start,
    /// env_start, start_stack): /proc/PID/environ and stat read them. Empty before the first exec.
    var argumentStrings: Range<UInt64> = 0..<0
    var environmentStrings: Range<UInt64> = 0..<0
    var stackStart: UInt64 = 0
    /// The auxiliary vector exec gave the program (saved_auxv: /proc/PID/auxv, gdb's qXfer:auxv:read), as
    /// the bytes of its (type, value) pairs up to AT_NULL included.
    var auxiliaryVector: [UInt8] = []

    /// Where this address space's platform space comes from.
    private let platform: Platform

    init(frames: PhysicalFrames, cache: PageCache, platform: Platform) throws(LinuxErrno) {
        self.frames = frames
        self.cache = cache
        self.platform = platform
        space = try platform.newAddressSpace()
    }

    deinit {
        space.release()  // no platform mapping of a frame below survives this line
        frames.release(retiring)
        frames.release(pages.frames)
        frames.uncharge(chargedPages)
    }

    /// Frames this address space no longer uses whose host unmapping (or replacement) is queued but has not
    /// run yet. They are freed only after the flush that removes them from the stub, or once the stub is
    /// dead: a frame is never handed to anyone else while a guest can still reach it.
    private var retiring: [Int] = []

    /// Host mappings the stub may use for guest pages (`PageTable.runs`): the host's vm.max_map_count less
    /// the stub's own two mappings and some slack, so that the guest gets ENOMEM from umk long before the
    /// host would refuse the stub anything.
    static let hostMappingBudget = max(HostLimits.maxMapCount - 64, 1024)
    /// System calls that split runs (mprotect, madvise) stop this far below the budget, so that a process
    /// refused by one can still take page faults (its stack, its heap) and handle the error.
    static let syscallMappingBudget = hostMappingBudget - 4096

    /// Whether the stub is at its host-mapping budget: a fault that needs a new mapping cannot be served.
    var atHostMappingLimit: Bool { pages.runs + 2 > AddressSpace.hostMappingBudget }

    /// Pages of this address space counted against --mem.
    private(set) var chargedPages = 0

    /// Pages touched at once on a first-touch fault of anonymous memory (aligned, within the VMA).
    static let faultAround: UInt64 = 64

    var residentPages: Int { pages.count }

    // MARK: Mapping

    /// vm.max_map_count: bounds what umk keeps per address space, whatever the guest asks (the stub's
    /// host mappings are bounded by the host's own limit of the same number).
    static let maxMapCount = 65_530

    /// RLIMIT_AS and RLIMIT_DATA of the process this address space belongs to (nil: none yet, during exec).
    var mappingLimits: (() -> (address: UInt64, data: UInt64)?)?

    /// Private writable memory that is not stack: what RLIMIT_DATA counts (mm/mmap.c is_data_mapping).
    private static func isData(_ v: VMA) -> Bool { v.prot.contains(.write) && !v.shared && !v.growsDown }

    /// may_expand_vm: ENOMEM if `v` would take the address space past RLIMIT_AS, or its data past RLIMIT_DATA.
    private func checkLimits(_ v: VMA) throws(LinuxErrno) {
        guard let limits = mappingLimits?(), limits.address != .max || limits.data != .max else { return }
        let total = vmas.vmas.reduce(UInt64(0)) { $0 &+ $1.length }
        guard v.length <= limits.address, total <= limits.address - v.length else { throw .ENOMEM }
        if AddressSpace.isData(v) {
            let data = vmas.vmas.lazy.filter(AddressSpace.isData).reduce(UInt64(0)) { $0 &+ $1.length }
            guard v.length <= limits.data, data <= limits.data - v.length else { throw .ENOMEM }
        }
    }

    /// Maps [start, start+length) (page aligned, free in the VMA map) as new memory.
    func map(_ v: VMA, populate eager: Bool = false) throws(LinuxErrno) {
        precondition(v.start % 4096 == 0 && v.end % 4096 == 0)
        guard vmas.vmas.count < AddressSpace.maxMapCount else { throw .ENOMEM }
        try checkLimits(v)
        var v = v
        if v.accountable && v.prot.contains(.write) && !v.charged {
            try frames.charge(v.pageCount)
            chargedPages += v.pageCount
            v.charged = true
        }
        vmas.insert(v)
        // Shared anonymous memory is backed at once: its frames are the shared object a later fork shares.
        // File mappings up to 16 MiB are mapped at once from the page cache; larger ones on first touch.
        let wanted = v.shared && v.file == nil || eager || (v.file != nil && v.pageCount <= 4096)
        if v.prot != .none && wanted && v.pageCount > frames.freeFrames + cache.count {
            vmas.remove(v.range)
            if v.charged {
                frames.uncharge(v.pageCount)
                chargedPages -= v.pageCount
            }
            throw .ENOMEM
        }
        if v.prot != .none && wanted {
            do {
                try populate(v.range)
            } catch {
                // All or nothing: do not leave half a mapping behind.
                unmap(v.range)
                throw error
            }
        }
    }

    /// Gives every page of `r` without a frame one, filled from the VMA's file or zero, and maps it.
    /// File pages map the page cache's frame copy-on-write; anonymous pages get fresh (zero) frames.
    func populate(_ r: Range<UInt64>) throws(LinuxErrno) {
        var missing: [UInt64] = []
        var v: VMA? = nil
        for vpn in (r.lowerBound >> 12)..<(r.upperBound >> 12) where pages[vpn] == nil {
            if v == nil || !v!.range.contains(vpn << 12) { v = vmas.find(vpn << 12) }
            guard let vma = v else { preconditionFailure("populate outside a VMA") }
            if let file = vma.file {
                // Past the file's last page there is nothing to map: a touch there is SIGBUS, as on Linux.
                guard !vma.isBeyondEndOfFile(vpn << 12) else { continue }
                let f = try cache.frame(file, page: (vma.fileOffset &+ ((vpn << 12) - vma.start)) >> 12)
                do {
                    // A shared mapping of a tmpfs file writes its frames in place; the rest copy on write.
                    try install(vpn, PTE(frame: Int32(f), prot: vma.prot, cow: !(vma.shared && file.memory != nil)))
                } catch {
                    frames.release([f])
                    throw error
                }
            } else {
                missing.append(vpn)
            }
        }
        guard !missing.isEmpty else { return }
        let fresh = try frames.allocate(missing.count).flatMap { $0 }
        for (i, f) in fresh.enumerated() {
            let vpn = missing[i]
            if v == nil || !v!.range.contains(vpn << 12) { v = vmas.find(vpn << 12) }
            do {
                try install(vpn, PTE(frame: Int32(f), prot: v!.prot))
            } catch {
                frames.release(fresh[i...])  // not installed: still only ours
                throw error
            }
        }
    }

    /// Maps the pages of `r` that have no frame to the zero frames, copy-on-write.
    private func mapZero(_ r: Range<UInt64>, _ prot: Protection) throws(LinuxErrno) {
        for vpn in (r.lowerBound >> 12)..<(r.upperBound >> 12) where pages[vpn] == nil {
            guard let f = frames.zeroFrame(for: vpn) else { throw .ENOMEM }
            frames.retain(f)
            do {
                try install(vpn, PTE(frame: Int32(f), prot: prot, cow: true))
            } catch {
                frames.release([f])
                throw error
            }
        }
    }

    /// Puts `pte` in the page table at `vpn` and queues its host mapping; ENOMEM (and nothing changed) if that
    /// would take the stub past its host-mapping budget. The frame an entry it replaces held is the caller's.
    private func install(_ vpn: UInt64, _ pte: PTE) throws(LinuxErrno) {
        let old = pages[vpn]
        pages[vpn] = pte
        if pages.runs > AddressSpace.hostMappingBudget {
            pages[vpn] = old
            throw .ENOMEM
        }
        hostMap(vpn: vpn, frame: Int(pte.frame), prot: pte.hostProt)
    }

    private func hostMap(vpn: UInt64, frame: Int, prot: Protection) {
        space.map(address: vpn << 12, length: 4096, prot: prot.rawValue, offset: frames.fileOffset(of: frame))
    }

    /// Drops a page whose host unmapping is queued: its frame is freed after the flush.
    private func retire(_ frame: Int) { retiring.append(frame) }

    /// Removes every mapping in `r`; frames no longer referenced are freed.
    func unmap(_ r: Range<UInt64>) {
        let removed = vmas.remove(r)
        for v in removed {
            if v.charged {
                frames.uncharge(v.pageCount)
                chargedPages -= v.pageCount
            }
            for vpn in residentPages(in: v.range) {
                if let pte = pages.removeValue(forKey: vpn) { retire(Int(pte.frame)) }
            }
            space.unmap(address: v.start, length: v.length)
        }
    }

    /// mprotect: `r` must be wholly mapped (ENOMEM otherwise, as in Linux).
    func protect(_ r: Range<UInt64>, _ prot: Protection) throws(LinuxErrno) {
        guard vmas.covers(r) else { throw .ENOMEM }
        if prot.contains(.write) && vmas.overlapping(r).contains(where: { !$0.mayWrite }) { throw .EACCES }
        guard vmas.vmas.count + 2 <= AddressSpace.maxMapCount else { throw .ENOMEM }
        // One protection over a range splits at most the two runs at its ends.
        guard pages.runs + 2 <= AddressSpace.syscallMappingBudget else { throw .ENOMEM }
        // Memory becoming writable is counted now (mprotect_fixup); it stays counted if made read-only.
        if prot.contains(.write) {
            let newly = vmas.overlapping(r).filter { $0.accountable && !$0.charged }.reduce(0) { $0 + $1.pageCount }
            try frames.charge(newly)
            chargedPages += newly
        }
        vmas.update(r) {
            $0.prot = prot
            if prot.contains(.write) && $0.accountable { $0.charged = true }
        }
        for vpn in residentPages(in: r) {
            guard var pte = pages[vpn] else { continue }
            pte.prot = prot
            pages[vpn] = pte
            space.protect(address: vpn << 12, length: 4096, prot: pte.hostProt.rawValue)
        }
        // File pages are mapped eagerly, anonymous ones on first touch.
        if prot != .none {
            for v in vmas.overlapping(r) where (v.file != nil && v.pageCount <= 4096) || (v.shared && v.file == nil) {
                guard v.pageCount <= frames.freeFrames + cache.count else { throw .ENOMEM }
                try populate(v.range)
            }
        }
    }

    /// MADV_DONTNEED: private anonymous pages read as zero again, private file pages as the file again;
    /// shared pages keep their contents (they are the shared object's). Frames shared with others are
    /// replaced, not zeroed.
    func discard(_ r: Range<UInt64>) throws(LinuxErrno) {
        for v in vmas.overlapping(r) where !v.shared {
            for vpn in residentPages(in: v.range) {
                guard let pte = pages[vpn] else { continue }
                let f = Int(pte.frame)
                if frames.refcount(f) == 1 && v.file == nil {
                    frames.zero(f..<(f + 1))
                } else {
                    // A hole in a run is one more host mapping: refused at the budget, as Linux refuses a
                    // split past vm.max_map_count.
                    pages[vpn] = nil
                    if pages.runs > AddressSpace.syscallMappingBudget {
                        pages[vpn] = pte
                        throw .ENOMEM
                    }
                    // The frame goes only after the stub has unmapped it: it may be someone else's next.
                    space.unmap(address: vpn << 12, length: 4096)
                    retire(f)
                    if v.file != nil { try populate((vpn << 12)..<((vpn + 1) << 12)) }  // anonymous: on next touch
                }
            }
        }
    }

    /// Moves the pages of [old, old+length) to `new` (a free range), keeping their frames: mremap's move.
    func move(from old: UInt64, length: UInt64, to new: UInt64) throws(LinuxErrno) {
        let pieces = vmas.remove(old..<(old + length))
        for var v in pieces {
            let length = v.length
            v.start = new + (v.start - old)
            v.end = v.start + length
            vmas.insert(v)
        }
        // The pages keep their frames and their order, so they make no more runs than before.
        for (vpn, pte) in pages.entries(in: (old >> 12)..<((old + length) >> 12)) {
            pages[vpn] = nil
            let nvpn = (new >> 12) + (vpn - (old >> 12))
            pages[nvpn] = pte
            hostMap(vpn: nvpn, frame: Int(pte.frame), prot: pte.hostProt)
        }
        space.unmap(address: old, length: length)
    }

    /// Extends the VMA that ends at `end` by `extra` bytes (the range after it must be free).
    func grow(endingAt end: UInt64, by extra: UInt64) throws(LinuxErrno) {
        guard var v = vmas.find(end - 1) else { throw .EFAULT }
        v.fileOffset &+= end - v.start
        v.start = end
        v.end = end + extra
        v.growsDown = false
        v.charged = false  // map counts the new pages
        try map(v)
    }

    /// The pages of `r` that have a frame, in order: walked over the range when it is small, picked from
    /// the page table when the range is larger than it (a huge PROT_NONE reservation costs nothing).
    func residentPages(in r: Range<UInt64>) -> [UInt64] {
        pages.entries(in: (r.lowerBound >> 12)..<(r.upperBound >> 12)).map { $0.0 }
    }

    // MARK: Fork

    /// A copy of this address space in a new platform space, sharing every frame: private writable pages become
    /// copy-on-write in both, shared ones stay shared. No frame is copied here; no new frame is taken.
    func fork() throws(LinuxErrno) -> AddressSpace {
        let child = try AddressSpace(frames: frames, cache: cache, platform: platform)
        try frames.charge(each: vmas.vmas.filter(\.charged).map(\.pageCount))  // the child's private memory too
        child.chargedPages = chargedPages
        child.vmas = vmas
        child.brkStart = brkStart
        child.brkCurrent = brkCurrent
        child.stackLimit = stackLimit
        child.argumentStrings = argumentStrings
        child.environmentStrings = environmentStrings
        child.stackStart = stackStart
        // The child starts with this page table (its chunks shared until either side writes one); then, VMA
        // by VMA in address order so that the child's host mappings merge into runs, every private page
        // becomes copy-on-write, writable now or not: a later mprotect must not give either side write
        // access to the shared frame.
        child.pages = pages
        for f in pages.frames { frames.retain(f) }  // first: a failure below then releases exactly these
        for vma in vmas.vmas {
            for (vpn, old) in pages.entries(in: (vma.start >> 12)..<(vma.end >> 12)) {
                var pte = old
                if !vma.shared && !pte.cow {
                    pte.cow = true
                    pages[vpn] = pte
                    child.pages[vpn] = pte
                    space.protect(address: vpn << 12, length: 4096, prot: pte.hostProt.rawValue)
                }
                child.hostMap(vpn: vpn, frame: Int(pte.frame), prot: pte.hostProt)
            }
        }
        try child.flush()
        // Now, not when this task resumes: its other threads run on and must write-fault from here on.
        try flush()
        return child
    }

    /// The first write to a copy-on-write page: the last sharer takes the frame back writable; the others
    /// copy it into a frame of their own.
    func breakCopyOnWrite(_ vpn: UInt64) throws(LinuxErrno) {
        guard let pte = pages[vpn], pte.cow else { return }
        try makePrivate(vpn)
    }

    /// Gives a page a frame of its own, whatever its protection (the loader writes read-only pages).
    func makePrivate(_ vpn: UInt64) throws(LinuxErrno) {
        guard var pte = pages[vpn], frames.refcount(Int(pte.frame)) > 1 || pte.cow else { return }
        let old = Int(pte.frame)
        pte.cow = false
        guard frames.refcount(old) > 1 else {
            try install(vpn, pte)
            return
        }
        let f = try frames.allocate(1)[0].lowerBound
        frameBuffer(f).copyMemory(from: UnsafeRawBufferPointer(frameBuffer(old)))
        pte.frame = Int32(f)
        do {
            try install(vpn, pte)
        } catch {
            frames.release([f])
            throw error
        }
        retire(old)  // the stub maps it until the new mapping replaces it
    }

    // MARK: Placement

    /// A free range of `length` bytes for a mapping without MAP_FIXED: the hint if it is free, else the
    /// highest gap below the mmap base (Linux's top-down layout). `below4G` serves MAP_32BIT.
    func findFree(length: UInt64, hint: UInt64, below4G: Bool = false) -> UInt64? {
        if hint != 0, hint % 4096 == 0, hint >= AddressSpace.mmapBottom, hint <= AddressSpace.userLimit,
            length <= AddressSpace.userLimit - hint, !vmas.overlaps(hint..<(hint + length))
        {
            return hint
        }
        let top = below4G ? UInt64(0x8000_0000) : AddressSpace.mmapTop
        return vmas.findGap(length: length, below: top, above: AddressSpace.mmapBottom)
    }

    // MARK: Faults

    /// Whether `address` is in a file mapping but past the file's last page: a touch there is SIGBUS
    /// (BUS_ADRERR), not a page of zeros.
    func isBeyondEndOfFile(_ address: UInt64) -> Bool {
        vmas.find(address)?.isBeyondEndOfFile(address & ~4095) ?? false
    }

    /// Handles a host page fault of the guest at `address`: copies a copy-on-write page, grows the stack, or
    /// backs a page that has no frame yet. Returns false when the guest really faulted (no VMA, or the
    /// access is not allowed).
    func handleFault(at address: UInt64) -> Bool {
        guard address < AddressSpace.userLimit else { return false }
        let page = address & ~4095
        if let v = vmas.find(address) {
            if let pte = pages[page >> 12] {
                guard pte.cow, v.prot.contains(.write) else { return false }
                return (try? breakCopyOnWrite(page >> 12)) != nil && flushQuietly()
            }
            guard v.prot != .none, !v.isBeyondEndOfFile(page) else { return false }
            let span = AddressSpace.faultAround << 12
            let around = max(page & ~(span - 1), v.start)..<min((page & ~(span - 1)) + span, v.end)
            if v.file == nil && !v.shared && !v.charged && frames.zeroFrames != nil {
                // Nothing promised for it: zero frames until written (a write faults again and copies).
                return (try? mapZero(around, v.prot)) != nil && flushQuietly()
            }
            // The cluster if there are frames for it, else the one page (then the OOM path).
            if !v.shared || v.file != nil, (try? populate(around)) != nil { return flushQuietly() }
            return (try? populate(page..<(page + 4096))) != nil && flushQuietly()
        }
        // Just below a stack: grow it down to the fault, in 64 KiB steps, within RLIMIT_STACK.
        guard let above = vmas.overlapping(page..<AddressSpace.userLimit).first, above.growsDown else { return false }
        let lowest = above.end > stackLimit ? above.end - stackLimit : 0
        guard page >= lowest else { return false }
        let newStart = max(page & ~0xffff, lowest)
        guard !vmas.overlaps(newStart..<above.start) else { return false }
        var v = above
        v.start = newStart
        v.end = above.start
        v.charged = false
        return (try? map(v)) != nil && flushQuietly()
    }

    private func flushQuietly() -> Bool { (try? flush()) != nil }

    /// Flushes that changed the platform's mappings so far: a fault that repeats with none in between is
    /// not one that another thread's fault handling has just fixed.
    private(set) var flushes = 0

    /// Whether the page holding `address` is in the page table (with some access): a fault on it may be one
    /// another thread's fault fixed meanwhile (a copy-on-write break), or a real protection fault.
    func isMapped(_ address: UInt64) -> Bool {
        guard address < AddressSpace.userLimit, let pte = pages[address >> 12] else { return false }
        return pte.prot != .none
    }

    /// Pushes queued host mapping changes into the stub, then frees the frames they took away. Called before
    /// the guest resumes. If the host refuses the batch the space is already dead (PlatformAddressSpace), so the
    /// frames can go too; the caller kills the process, as Linux kills one whose page tables cannot be built.
    func flush() throws(LinuxErrno) {
        if space.hasPendingChanges { flushes &+= 1 }
        defer {
            if !retiring.isEmpty && (!space.hasPendingChanges || space.hasFailed) {
                frames.release(retiring.sorted())  // in frame order: consecutive frames go in one hole punch
                retiring.removeAll()
            }
        }
        do { try space.flush() } catch { throw LinuxErrno(host: error) }
    }

    // MARK: Translation

    /// The frame behind a guest page, if the page is backed and allows `access`; faults it in if the VMA
    /// allows. Kernel accesses (copy in/out) go through here.
    func frame(forPage vpn: UInt64, write: Bool) -> Int? {
        if var pte = pages[vpn] {
            if pte.prot == .none || (write && !pte.prot.contains(.write)) { return nil }
            if write && pte.cow {
                guard (try? breakCopyOnWrite(vpn)) != nil else { return nil }
                pte = pages[vpn]!
            }
            return Int(pte.frame)
        }
        guard handleFault(at: vpn << 12), let pte = pages[vpn] else { return nil }
        if pte.prot == .none || (write && !pte.prot.contains(.write)) { return nil }
        return Int(pte.frame)
    }
}
