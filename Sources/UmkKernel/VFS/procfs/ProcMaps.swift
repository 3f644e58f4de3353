import UmkHost

// ProcMaps.swift: /proc/PID/maps and smaps (fs/proc/task_mmu.c show_map_vma, show_smap), one VMA a line:
// range, permissions with p or s, file offset, device, inode, and the name padded to column 73 as
// seq_pad pads it. smaps adds the block of sizes after each line; what umk does not have (swap, huge
// pages, KSM, locking) reads 0.
// Deviations: every resident page of a private mapping counts as private and clean or dirty by whether the
// VMA is writable (no dirty bits are kept), Pss equals Rss, and there is no [vdso] or [vvar].

extension Kernel {
    func procMaps(_ p: Process, detailed: Bool) -> String {
        guard let mm = p.mmStorage else { return "" }
        var out = ""
        for v in mm.vmas.vmas {
            out += Kernel.mapsLine(v)
            if detailed { out += Kernel.smapsBlock(v, resident: mm.residentPages(in: v.range).count) }
        }
        return out
    }

    static func mapsLine(_ v: VMA) -> String {
        func hex(_ x: UInt64, _ width: Int) -> String { String(x, radix: 16).leftPadded(to: width) }
        let perms = (v.prot.contains(.read) ? "r" : "-") + (v.prot.contains(.write) ? "w" : "-")
            + (v.prot.contains(.exec) ? "x" : "-") + (v.shared ? "s" : "p")
        let key = v.file?.key
        let device = key?.device ?? 0
        var line = hex(v.start, 8) + "-" + hex(v.end, 8) + " " + perms + " " + hex(v.file == nil ? 0 : v.fileOffset, 8)
        line += " " + hex(device >> 32, 2) + ":" + hex(device & 0xffff_ffff, 2) + " \(key?.inode ?? 0) "
        guard let name = v.name, !name.isEmpty else { return line + "\n" }
        if line.utf8.count < 72 { line += String(repeating: " ", count: 72 - line.utf8.count) }
        return line + " " + name + "\n"
    }

    static func smapsBlock(_ v: VMA, resident: Int) -> String {
        func row(_ name: String, _ kB: Int) -> String {
            let label = name + ":"
            let number = "\(kB)"
            return label + String(repeating: " ", count: max(16 - label.count, 0) + max(8 - number.count, 0)) + number
                + " kB\n"
        }
        let rss = resident * 4
        let dirty = v.prot.contains(.write) ? rss : 0
        let sharedRss = v.shared ? rss : 0, privateRss = v.shared ? 0 : rss
        var out = row("Size", v.pageCount * 4) + row("KernelPageSize", 4) + row("MMUPageSize", 4) + row("Rss", rss)
        out += row("Pss", rss) + row("Pss_Dirty", dirty)
        out += row("Shared_Clean", v.shared ? sharedRss - dirty : 0) + row("Shared_Dirty", v.shared ? dirty : 0)
        out += row("Private_Clean", v.shared ? 0 : privateRss - dirty) + row("Private_Dirty", v.shared ? 0 : dirty)
        out += row("Referenced", rss) + row("Anonymous", v.file == nil ? rss : 0)
        for name in ["KSM", "LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb",
                     "Private_Hugetlb", "Swap", "SwapPss", "Locked"] {
            out += row(name, 0)
        }
        out += "THPeligible:    0\n"
        var flags: [String] = []
        if v.prot.contains(.read) { flags.append("rd") }
        if v.prot.contains(.write) { flags.append("wr") }
        if v.prot.contains(.exec) { flags.append("ex") }
        if v.shared { flags.append("sh") }
        flags += ["mr", "mw", "me"]
        if v.shared { flags.append("ms") }
        if v.growsDown { flags.append("gd") }
        if v.charged { flags.append("ac") }
        if v.noReserve { flags.append("nr") }
        return out + "VmFlags: " + flags.map { $0 + " " }.joined() + "\n"
    }
}
