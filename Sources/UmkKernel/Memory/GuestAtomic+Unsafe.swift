import Synchronization

// GuestAtomic+Unsafe.swift: atomic operations on a 32-bit guest word (Linux's futex_atomic_cmpxchg_inatomic and
// arch_futex_atomic_op_inuser). The kernel is the only one running guest-kernel code, but guest threads and
// processes on other host CPUs may write the same word at the same moment through their own mappings of the
// frame, so a read-modify-write is one locked instruction on the frame's memory in umk's mapping, never a read
// and a separate write. The word must be aligned (the callers check) and its page writable: a copy-on-write
// page is copied first, and a read-only or missing page is EFAULT, as the fault Linux takes would be.
extension AddressSpace {
    /// The word's place in umk's mapping of the physical-memory file.
    private func atomicWord(_ address: UInt64, write: Bool) throws(LinuxErrno) -> UnsafeMutablePointer<Atomic<UInt32>> {
        guard address & 3 == 0, address < AddressSpace.userLimit,
              let f = frame(forPage: address >> 12, write: write)
        else { throw .EFAULT }
        return (frames.memory.base + f * 4096 + Int(address & 4095)).assumingMemoryBound(to: Atomic<UInt32>.self)
    }

    /// The word's value, read as one access.
    func atomicLoad(_ address: UInt64) throws(LinuxErrno) -> UInt32 {
        try atomicWord(address, write: false).pointee.load(ordering: .sequentiallyConsistent)
    }

    /// Compare-and-swap: stores `desired` if the word holds `expected`; returns what it held.
    func compareExchange(_ address: UInt64, expected: UInt32, desired: UInt32) throws(LinuxErrno) -> UInt32 {
        let word = try atomicWord(address, write: true)
        return word.pointee.compareExchange(expected: expected, desired: desired, ordering: .sequentiallyConsistent).original
    }

    /// Replaces the word with `update(old)` atomically (a compare-and-swap loop); returns the old value.
    func atomicUpdate(_ address: UInt64, _ update: (UInt32) -> UInt32) throws(LinuxErrno) -> UInt32 {
        let word = try atomicWord(address, write: true)
        var old = word.pointee.load(ordering: .relaxed)
        while true {
            let (done, seen) = word.pointee.compareExchange(expected: old, desired: update(old),
                                                            ordering: .sequentiallyConsistent)
            if done { return old }
            old = seen
        }
    }
}
