import UmkHost

// Exec.swift: building a new program image (fs/exec.c, fs/binfmt_elf.c, fs/binfmt_script.c): resolve and
// check the file, follow `#!` interpreters, load the ELF and its PT_INTERP into a fresh address space, and
// lay out the initial stack. The old image is untouched until everything has succeeded.
struct ProgramImage {
    var mm: AddressSpace
    var registers: Registers
    var path: String
    /// The credentials the program runs with: the caller's, with a set-user-ID or set-group-ID binary's
    /// owner as effective (and saved) id.
    var credentials: Credentials
}

struct ExecRequest {
    var path: [UInt8]
    var argv: [[UInt8]]
    var envp: [[UInt8]]
    /// The name a `#!` interpreter and AT_EXECFN get, when it differs from `path` (execveat: "/dev/fd/N/...").
    var displayPath: [UInt8]? = nil
    /// execveat through a close-on-exec fd: the new image could not reopen the path, so a script is ENOENT.
    var pathInaccessible = false
}

extension Kernel {
    /// Interpreters followed per exec: binfmt handlers run at most 6 times (fs/exec.c exec_binprm).
    static let maxInterpreterDepth = 5
    static let maxArgumentString = 131_072  // MAX_ARG_STRLEN

    /// Loads `request` for a process with root/cwd/credentials `walk`/`cwd`, into a new address space.
    func loadProgram(_ request: ExecRequest, walk: PathWalk, cwd: Dentry, credentials: Credentials,
                     stackLimit: UInt64, noNewPrivileges: Bool = false) throws(LinuxErrno) -> ProgramImage
    {
        var req = request
        var depth = 0
        while true {
            let dentry = try walk.resolve(req.path, from: cwd, followFinal: true)
            let file = try openForExec(dentry, credentials)
            let st = try file.stat()
            var head = [UInt8](repeating: 0, count: 256)
            let n = try readAt(file, 0, into: &head)
            head.removeSubrange(n...)
            if head.starts(with: [0x23, 0x21]) {  // "#!"
                if req.pathInaccessible { throw .ENOENT }
                depth += 1
                guard depth <= Kernel.maxInterpreterDepth else { throw .ELOOP }
                req = try scriptRequest(req, head: head)
                continue
            }
            let image = try ELFImage.parse(fileSize: st.size) { (off, count) throws(LinuxErrno) in
                var b = [UInt8](repeating: 0, count: count)
                let got = try readAt(file, off, into: &b)
                return Array(b[0..<got])
            }
            var interp: (ELFImage, OpenFile)? = nil
            if let ipath = image.interpreter {
                let identry = try walk.resolve(ipath, from: cwd, followFinal: true)
                let ifile = try openForExec(identry, credentials)
                let ist = try ifile.stat()
                let iimage = try ELFImage.parse(fileSize: ist.size) { (off, count) throws(LinuxErrno) in
                    var b = [UInt8](repeating: 0, count: count)
                    let got = try readAt(ifile, off, into: &b)
                    return Array(b[0..<got])
                }
                guard iimage.interpreter == nil else { throw .ELIBBAD }
                interp = (iimage, ifile)
            }
            // Set-user-ID and set-group-ID binaries (never scripts), unless the mount is nosuid or the process
            // has no_new_privs (fs/exec.c bprm_fill_uid). AT_SECURE then tells the loader to distrust its
            // environment.
            var creds = credentials
            let nosuid = dentry.mount?.mountOptions.contains("nosuid") ?? false
            if !nosuid && !noNewPrivileges {
                if st.mode & S.ISUID != 0 { (creds.euid, creds.suid, creds.fsuid) = (st.uid, st.uid, st.uid) }
                if st.mode & S.ISGID != 0 && st.mode & 0o010 != 0 { (creds.egid, creds.sgid, creds.fsgid) = (st.gid, st.gid, st.gid) }
            }
            return try build(req, image: image, file: file, interp: interp, path: dentry.path,
                             credentials: creds, stackLimit: stackLimit)
        }
    }

    private func openForExec(_ d: Dentry, _ creds: Credentials) throws(LinuxErrno) -> OpenFile {
        guard d.inode.fileType == S.IFREG else { throw .EACCES }
        let st = try d.inode.stat()
        guard creds.permits(st, .execute), creds.permits(st, .read) || creds.isRoot else { throw .EACCES }
        let f = try d.inode.open(flags: O.RDONLY, dentry: d)
        guard f.mappableFile != nil else { throw .EACCES }
        return f
    }

    private func readAt(_ f: OpenFile, _ off: UInt64, into b: inout [UInt8]) throws(LinuxErrno) -> Int {
        b = try IOSequence.reading(b.count) { (io) throws(LinuxErrno) in
            var done = 0
            while done < io.count {
                let n = try f.read(into: io.dropFirst(done), at: Int64(off) + Int64(done))
                if n == 0 { break }
                done += n
            }
            return done
        }
        return b.count
    }

    /// binfmt_script: "#!interp [one-arg]" becomes argv = [interp, one-arg?, script-path, argv[1...]].
    private func scriptRequest(_ req: ExecRequest, head: [UInt8]) throws(LinuxErrno) -> ExecRequest {
        var line = Array(head.dropFirst(2))
        if let nl = line.firstIndex(of: 0x0a) { line = Array(line[..<nl]) } else if head.count >= 256 { throw .ENOEXEC }
        func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
        while let f = line.first, isBlank(f) { line.removeFirst() }
        while let l = line.last, isBlank(l) || l == 0x0d { line.removeLast() }
        guard !line.isEmpty else { throw .ENOEXEC }
        let split = line.firstIndex(where: isBlank) ?? line.count
        let interp = Array(line[..<split])
        var arg = Array(line[split...])
        while let f = arg.first, isBlank(f) { arg.removeFirst() }
        var argv: [[UInt8]] = [interp]
        if !arg.isEmpty { argv.append(arg) }
        argv.append(req.displayPath ?? req.path)
        argv.append(contentsOf: req.argv.dropFirst())
        return ExecRequest(path: interp, argv: argv, envp: req.envp)
    }

    private func build(_ req: ExecRequest, image: ELFImage, file: OpenFile, interp: (ELFImage, OpenFile)?,
                       path: String, credentials: Credentials, stackLimit: UInt64) throws(LinuxErrno) -> ProgramImage
    {
        let mm = try AddressSpace(frames: frames, cache: pageCache, platform: platform)
        mm.stackLimit = stackLimit
        // The main program: ET_EXEC where it says, ET_DYN at ELF_ET_DYN_BASE (no ASLR).
        let bias: UInt64 = image.kind == .dynamic ? 0x5555_5555_4000 - image.span.lowerBound : 0
        let mainEnd = try loadSegments(image, file: file, bias: bias, into: mm, name: path)
        var base: UInt64 = 0
        var entry = image.entry &+ bias
        if let (iimage, ifile) = interp {
            let span = iimage.span
            guard let at = mm.findFree(length: span.upperBound - span.lowerBound, hint: 0) else { throw .ENOMEM }
            base = at - span.lowerBound
            _ = try loadSegments(iimage, file: ifile, bias: base, into: mm, name: ifile.dentry?.path ?? "")
            entry = iimage.entry &+ base
        }
        mm.brkStart = (mainEnd + 4095) & ~4095
        mm.brkCurrent = mm.brkStart
        guard let phdr = image.programHeaderAddress else { throw .ENOEXEC }

        let aux = AuxiliaryVector(phdr: phdr &+ bias, phnum: UInt64(image.phnum), base: base, entry: image.entry &+ bias,
                                  credentials: credentials)
        let sp = try InitialStack.build(in: mm, argv: req.argv, envp: req.envp, execfn: req.displayPath ?? req.path, aux: aux,
                                        executable: image.executableStack)
        try mm.flush()
        var regs = Registers()
        regs.rip = entry
        regs.rsp = sp
        return ProgramImage(mm: mm, registers: regs, path: path, credentials: credentials)
    }

    /// Maps the PT_LOAD segments; returns the highest address used (where brk starts for the main program).
    private func loadSegments(_ image: ELFImage, file: OpenFile, bias: UInt64, into mm: AddressSpace,
                              name: String) throws(LinuxErrno) -> UInt64
    {
        var end: UInt64 = 0
        let span = image.span
        guard span.upperBound &+ bias <= AddressSpace.userLimit,
              !mm.vmas.overlaps((span.lowerBound &+ bias)..<(span.upperBound &+ bias)) else { throw .ENOMEM }
        for seg in image.segments {
            let start = seg.vaddr &+ bias
            let pageStart = start & ~4095
            let fileEnd = start + seg.fileSize
            let fileMapEnd = (fileEnd + 4095) & ~4095
            let memEnd = (start + seg.memorySize + 4095) & ~4095
            if seg.fileSize > 0 {
                // A segment sharing its first page with the previous one's last replaces it, as MAP_FIXED does.
                mm.unmap(pageStart..<fileMapEnd)
                guard let mapped = file.mappableFile else { throw .EACCES }
                try mm.map(VMA(start: pageStart, end: fileMapEnd, prot: seg.prot, name: name, file: mapped,
                               fileOffset: seg.offset & ~4095))
                // The rest of the last file page is bss: zero, as padzero() makes it.
                if fileEnd < fileMapEnd, seg.memorySize > seg.fileSize {
                    try mm.zeroDirect(GuestAddress(fileEnd), Int(fileMapEnd - fileEnd))
                }
            }
            let anonStart = max(fileMapEnd, pageStart)
            if memEnd > anonStart {
                mm.unmap(anonStart..<memEnd)
                try mm.map(VMA(start: anonStart, end: memEnd, prot: seg.prot))
            }
            end = max(end, start + seg.memorySize)
        }
        return end
    }
}
