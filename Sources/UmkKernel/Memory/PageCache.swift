import UmkHost

// PageCache.swift: file pages kept in frames of the physical-memory file, shared by every mapping of them
// (mm/filemap.c in miniature). A private file mapping maps the cached frame copy-on-write instead of copying
// the file, so the dynamic loader mapping libc costs no copy after the first time, and all processes share
// those pages. A file is known by its host identity and version (device, inode, size, mtime): a host file
// that changed is a new file. The cache gives frames back when guest memory runs short.

/// A host file as mappings know it: the open host file to read from, and its identity for the cache.
final class MappedFile {
    struct Key: Hashable {
        var device: UInt64, inode: UInt64, size: UInt64, mtime: Int64, mtimeNanoseconds: UInt32
    }

    /// A host file, read into the page cache.
    let host: HostFile?
    /// A tmpfs file: its pages are the file's own frames, which the mapping shares.
    let memory: TmpfsInode?
    let key: Key

    init(host: HostFile, stat: FileStat) {
        self.host = host
        memory = nil
        key = Key(device: UInt64(stat.devMajor) << 32 | UInt64(stat.devMinor), inode: stat.ino, size: stat.size,
                  mtime: stat.mtime.0, mtimeNanoseconds: stat.mtime.1)
    }

    init(memory inode: TmpfsInode) {
        host = nil
        memory = inode
        key = Key(device: UInt64(inode.fs.device), inode: inode.ino, size: 0, mtime: 0, mtimeNanoseconds: 0)
    }

    /// The file's size now (a tmpfs file's changes; a host file's is the one its key was made with).
    var size: UInt64 { memory?.size ?? key.size }
}

final class PageCache {
    private struct PageKey: Hashable {
        var file: MappedFile.Key
        var index: UInt64
    }

    private let frames: PhysicalFrames
    private var pages: [PageKey: Int32] = [:]

    init(frames: PhysicalFrames) {
        self.frames = frames
    }

    var count: Int { pages.count }

    /// The frame holding page `index` of `file`, read on first use (past the end it reads as zeroes). The
    /// cache keeps its own reference; the caller takes one more for its mapping.
    func frame(_ file: MappedFile, page index: UInt64) throws(LinuxErrno) -> Int {
        if let inode = file.memory { return try inode.frameForMapping(page: index) }
        let key = PageKey(file: file.key, index: index)
        if let f = pages[key] {
            frames.retain(Int(f))
            return Int(f)
        }
        try readAround(file, from: index)
        guard let f = pages[key] else { throw .EIO }
        frames.retain(Int(f))
        return Int(f)
    }

    /// Pages read at once on a miss: the missing page and the ones after it, up to the end of the file.
    static let readAhead: UInt64 = 32

    /// Reads the missing page `index` and the missing pages after it into new frames inside the host kernel
    /// (sendfile into the memory file: no copy through umk's mapping, so no fault and no zeroing of each page
    /// first; a third of a new instance's first exec went there); with one preadv where the host file cannot
    /// be spliced from.
    private func readAround(_ file: MappedFile, from index: UInt64) throws(LinuxErrno) {
        guard let host = file.host else { throw .EIO }
        let lastPage = file.key.size == 0 ? index : max(index, (file.key.size - 1) >> 12)
        var count: UInt64 = 1
        while count < PageCache.readAhead && index + count <= lastPage
            && pages[PageKey(file: file.key, index: index + count)] == nil
        {
            count += 1
        }
        let runs = try frames.allocate(Int(count))
        let list = runs.flatMap { Array($0) }
        do throws(LinuxErrno) {
            _ = try frames.fill(list, from: host, at: Int64(index * 4096))
            for (i, f) in list.enumerated() { pages[PageKey(file: file.key, index: index + UInt64(i))] = Int32(f) }
            return
        } catch .EINVAL, .ENOSYS, .EOPNOTSUPP {
            // Not spliceable: read through the mapping below.
        } catch {
            frames.release(list)
            throw error
        }
        let io = frames.ioSequence(frames: list)
        do {
            var done = 0
            while done < io.count {
                // Resume after a short read; end of file leaves the rest zero.
                let n = try host.read(into: io.dropFirst(done).hostBuffers, at: Int64(index * 4096) + Int64(done))
                if n == 0 { break }
                done += n
            }
        } catch {
            frames.release(list)
            throw LinuxErrno(host: error)
        }
        for (i, f) in list.enumerated() { pages[PageKey(file: file.key, index: index + UInt64(i))] = Int32(f) }
    }

    /// Gives back up to `wanted` frames that only the cache still uses; returns how many it freed.
    @discardableResult
    func shrink(_ wanted: Int) -> Int {
        var freed: [Int] = []
        for (key, f) in pages where frames.refcount(Int(f)) == 1 {
            pages[key] = nil
            freed.append(Int(f))
            if freed.count >= wanted { break }
        }
        frames.release(freed.sorted())
        return freed.count
    }
}
