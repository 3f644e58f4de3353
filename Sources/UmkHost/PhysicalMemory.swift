// PhysicalMemory.swift: the guest's RAM, one sparse memfd of `size` bytes mapped once into the kernel.
// Every guest page that is backed is a frame of this file; stubs map frames of it MAP_SHARED at guest
// addresses, and the kernel reads and writes guest memory through its own mapping (arch/um kernel/physmem.c).
import Glibc
import CUmk

public final class PhysicalMemory: @unchecked Sendable {
    public static let pageSize = 4096
    public let fd: Int32
    public let size: Int
    /// The kernel's mapping of the whole file. Only guest-memory access code (+Unsafe files) uses it.
    public let base: UnsafeMutableRawPointer

    public init(size: Int) throws(Errno) {
        precondition(size > 0 && size % PhysicalMemory.pageSize == 0)
        let fd = try shim(umk_memfd_create("umk-physmem", 0))
        if ftruncate(fd, off_t(size)) != 0 {
            let e = errno
            close(fd)
            throw Errno(rawValue: e)
        }
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0),
            p != MAP_FAILED
        else {
            let e = errno
            close(fd)
            throw Errno(rawValue: e)
        }
        self.fd = fd
        self.size = size
        self.base = p
    }

    deinit {
        munmap(base, size)
        close(fd)
    }

    /// Gives the host memory behind [offset, offset+length) back and leaves it reading as zeroes: the pages
    /// of a freed frame are zero when it is next handed out (no stub maps a frame by the time it is freed).
    public func release(offset: Int, length: Int) {
        _ = umk_punch_hole(fd, UInt64(offset), UInt64(length))
    }

    /// Copies `length` bytes of `file` from `fileOffset` into this file at `offset`, inside the host kernel
    /// (sendfile to the memory file: no copy through umk, no fault, no zeroing first). Returns the bytes
    /// copied, fewer at the end of `file`.
    public func copy(from file: HostFile, at fileOffset: Int64, to offset: Int, length: Int) throws(Errno) -> Int {
        _ = try retrying { lseek(fd, off_t(offset), SEEK_SET) }
        var from = off_t(fileOffset)
        var done = 0
        while done < length {
            let n = try retrying { sendfile(fd, file.fd, &from, length - done) }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Makes [offset, offset+length) resident and writable in umk's own mapping with one call
    /// (MADV_POPULATE_WRITE), instead of a page fault per page when the kernel first fills it. Best effort: an
    /// older host without it leaves the faults to happen.
    public func populate(offset: Int, length: Int) {
        _ = madvise(base + offset, length, 23)  // MADV_POPULATE_WRITE (Linux 5.14)
    }

    /// Host memory this file holds now (its resident pages), in bytes.
    public func residentBytes() -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return 0 }
        return Int(st.st_blocks) * 512
    }
}
