import UmkHost

// GdbTarget.swift: a guest thread's registers as gdb numbers them, and the target description that says so
// (gdb's features/i386/64bit-core.xml, 64bit-sse.xml, 64bit-linux.xml, 64bit-segments.xml, 64bit-avx.xml,
// the set gdbserver describes for an amd64 GNU/Linux process). The general registers come from the task's
// saved registers; the x87, SSE and AVX registers from its context's XSAVE image, converted as gdb's
// i387_supply_fxsave does (the full tag word from the FXSAVE area's abridged one).

/// One register: its name, size in bytes, and the XML attributes beyond name and bitsize.
struct GdbRegister {
    let name: String
    let size: Int
    let type: String
    let group: String?
}

enum GdbTarget {
    /// Register numbers (the order of the XML and of the `g` packet).
    static let rip = 16, eflags = 17, firstSegment = 18, firstST = 24, fctrl = 32, firstXMM = 40, mxcsr = 56
    static let origRax = 57, fsBase = 58, gsBase = 59, firstYMMH = 60

    /// Whether the host has AVX (XSAVE component 2): only then are ymm0h..ymm15h described.
    static let hasAVX = HostCPU.extendedStateFeatures & 4 != 0 && HostCPU.extendedStateSize >= 832

    static let registers: [GdbRegister] = {
        var r: [GdbRegister] = []
        for n in ["rax", "rbx", "rcx", "rdx", "rsi", "rdi"] { r.append(GdbRegister(name: n, size: 8, type: "int64", group: nil)) }
        r.append(GdbRegister(name: "rbp", size: 8, type: "data_ptr", group: nil))
        r.append(GdbRegister(name: "rsp", size: 8, type: "data_ptr", group: nil))
        for i in 8...15 { r.append(GdbRegister(name: "r\(i)", size: 8, type: "int64", group: nil)) }
        r.append(GdbRegister(name: "rip", size: 8, type: "code_ptr", group: nil))
        r.append(GdbRegister(name: "eflags", size: 4, type: "i386_eflags", group: nil))
        for n in ["cs", "ss", "ds", "es", "fs", "gs"] { r.append(GdbRegister(name: n, size: 4, type: "int32", group: nil)) }
        for i in 0...7 { r.append(GdbRegister(name: "st\(i)", size: 10, type: "i387_ext", group: nil)) }
        for n in ["fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"] {
            r.append(GdbRegister(name: n, size: 4, type: "int", group: "float"))
        }
        for i in 0...15 { r.append(GdbRegister(name: "xmm\(i)", size: 16, type: "vec128", group: nil)) }
        r.append(GdbRegister(name: "mxcsr", size: 4, type: "i386_mxcsr", group: "vector"))
        r.append(GdbRegister(name: "orig_rax", size: 8, type: "int", group: "system"))
        r.append(GdbRegister(name: "fs_base", size: 8, type: "int", group: nil))
        r.append(GdbRegister(name: "gs_base", size: 8, type: "int", group: nil))
        if hasAVX {
            for i in 0...15 { r.append(GdbRegister(name: "ymm\(i)h", size: 16, type: "uint128", group: nil)) }
        }
        return r
    }()

    /// Byte offset of each register in the `g` packet's data, and its total size.
    static let offsets: [Int] = registers.reduce(into: [0]) { $0.append($0.last! + $1.size) }
    static var gPacketSize: Int { offsets.last! }

    // MARK: The target description

    static let targetXML: String = {
        func reg(_ i: Int) -> String {
            let r = registers[i]
            return "<reg name=\"\(r.name)\" bitsize=\"\(r.size * 8)\" type=\"\(r.type)\" regnum=\"\(i)\""
                + (r.group.map { " group=\"\($0)\"" } ?? "") + "/>\n"
        }
        var x = """
            <?xml version="1.0"?>
            <!DOCTYPE target SYSTEM "gdb-target.dtd">
            <target version="1.0">
            <architecture>i386:x86-64</architecture>
            <osabi>GNU/Linux</osabi>
            <feature name="org.gnu.gdb.i386.core">
            <flags id="i386_eflags" size="4">
            <field name="CF" start="0" end="0"/><field name="" start="1" end="1"/><field name="PF" start="2" end="2"/>
            <field name="AF" start="4" end="4"/><field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/>
            <field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/><field name="DF" start="10" end="10"/>
            <field name="OF" start="11" end="11"/><field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/>
            <field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/><field name="VIF" start="19" end="19"/>
            <field name="VIP" start="20" end="20"/><field name="ID" start="21" end="21"/>
            </flags>

            """
        for i in 0..<firstXMM { x += reg(i) }
        x += """
            </feature>
            <feature name="org.gnu.gdb.i386.sse">
            <vector id="v4f" type="ieee_single" count="4"/>
            <vector id="v2d" type="ieee_double" count="2"/>
            <vector id="v16i8" type="int8" count="16"/>
            <vector id="v8i16" type="int16" count="8"/>
            <vector id="v4i32" type="int32" count="4"/>
            <vector id="v2i64" type="int64" count="2"/>
            <union id="vec128">
            <field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/><field name="v16_int8" type="v16i8"/>
            <field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/><field name="v2_int64" type="v2i64"/>
            <field name="uint128" type="uint128"/>
            </union>
            <flags id="i386_mxcsr" size="4">
            <field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/><field name="ZE" start="2" end="2"/>
            <field name="OE" start="3" end="3"/><field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/>
            <field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/><field name="DM" start="8" end="8"/>
            <field name="ZM" start="9" end="9"/><field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/>
            <field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/>
            </flags>

            """
        for i in firstXMM...mxcsr { x += reg(i) }
        x += "</feature>\n<feature name=\"org.gnu.gdb.i386.linux\">\n" + reg(origRax) + "</feature>\n"
        x += "<feature name=\"org.gnu.gdb.i386.segments\">\n" + reg(fsBase) + reg(gsBase) + "</feature>\n"
        if hasAVX {
            x += "<feature name=\"org.gnu.gdb.i386.avx\">\n"
            for i in firstYMMH..<(firstYMMH + 16) { x += reg(i) }
            x += "</feature>\n"
        }
        return x + "</target>\n"
    }()

    // MARK: Reading and writing

    /// Every register of `t`, in `g` packet order. The task must be stopped in the kernel.
    static func read(_ t: Task) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: gPacketSize)
        let r = t.regs
        let gprs = [r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13,
                    r.r14, r.r15, r.rip]
        for (i, v) in gprs.enumerated() { out.store(v, at: offsets[i], size: 8) }
        out.store(r.eflags, at: offsets[eflags], size: 4)
        for (i, v) in [r.cs, r.ss, r.ds, r.es, r.fs, r.gs].enumerated() { out.store(v, at: offsets[firstSegment + i], size: 4) }
        out.store(r.origRax, at: offsets[origRax], size: 8)
        out.store(r.fsBase, at: offsets[fsBase], size: 8)
        out.store(r.gsBase, at: offsets[gsBase], size: 8)
        guard let x = extendedState(t), x.count >= 512 else { return out }
        for i in 0..<8 { out.replaceSubrange(offsets[firstST + i]..<(offsets[firstST + i] + 10), with: x[(32 + 16 * i)..<(42 + 16 * i)]) }
        let fstat = x.load(2, size: 2)
        out.store(x.load(0, size: 2), at: offsets[fctrl], size: 4)
        out.store(fstat, at: offsets[fctrl + 1], size: 4)
        out.store(fullTag(x, top: Int((fstat >> 11) & 7)), at: offsets[fctrl + 2], size: 4)
        out.store(x.load(12, size: 2), at: offsets[fctrl + 3], size: 4)  // fiseg
        out.store(x.load(8, size: 4), at: offsets[fctrl + 4], size: 4)  // fioff
        out.store(x.load(20, size: 2), at: offsets[fctrl + 5], size: 4)  // foseg
        out.store(x.load(16, size: 4), at: offsets[fctrl + 6], size: 4)  // fooff
        out.store(x.load(6, size: 2) & 0x7ff, at: offsets[fctrl + 7], size: 4)  // fop
        for i in 0..<16 { out.replaceSubrange(offsets[firstXMM + i]..<(offsets[firstXMM + i] + 16), with: x[(160 + 16 * i)..<(176 + 16 * i)]) }
        out.store(x.load(24, size: 4), at: offsets[mxcsr], size: 4)
        if hasAVX, x.count >= 832, x.load(512, size: 8) & 4 != 0 {
            for i in 0..<16 { out.replaceSubrange(offsets[firstYMMH + i]..<(offsets[firstYMMH + i] + 16), with: x[(576 + 16 * i)..<(592 + 16 * i)]) }
        }
        return out
    }

    /// Writes registers `first...` from `data` (a `g` packet's layout from register `first` on, as far as
    /// `data` goes). Returns false if the host refused the extended state.
    static func write(_ t: Task, from first: Int, _ data: [UInt8]) -> Bool {
        guard first >= 0, first < registers.count else { return false }
        var touchesExtended = false
        var x = extendedState(t) ?? []
        var r = t.regs
        var at = 0
        var n = first
        while n < registers.count, at + registers[n].size <= data.count {
            let size = registers[n].size
            let v = size <= 8 ? data.load(at, size: size) : 0
            switch n {
            case 0..<rip + 1:
                let set: [WritableKeyPath<Registers, UInt64>] = [\.rax, \.rbx, \.rcx, \.rdx, \.rsi, \.rdi, \.rbp, \.rsp,
                    \.r8, \.r9, \.r10, \.r11, \.r12, \.r13, \.r14, \.r15, \.rip]
                r[keyPath: set[n]] = v
            case eflags: r.eflags = v
            case firstSegment..<firstST:
                break  // segment selectors stay as the host set them (a bad one would fail the resume)
            case origRax: r.origRax = v
            case fsBase: r.fsBase = v
            case gsBase: r.gsBase = v
            default:
                guard x.count >= 512 else { break }
                touchesExtended = true
                writeExtended(&x, n, Array(data[at..<(at + size)]), v)
            }
            at += size
            n += 1
        }
        t.regs = r
        if touchesExtended, t.vforkSavedState == nil {
            do { try t.context.setExtendedState(x) } catch { return false }
        }
        return true
    }

    private static func writeExtended(_ x: inout [UInt8], _ n: Int, _ bytes: [UInt8], _ v: UInt64) {
        var component: UInt64 = 1
        switch n {
        case firstST..<fctrl: x.replaceSubrange((32 + 16 * (n - firstST))..<(42 + 16 * (n - firstST)), with: bytes)
        case fctrl: x.store(v, at: 0, size: 2)
        case fctrl + 1: x.store(v, at: 2, size: 2)
        case fctrl + 2:  // the full tag word back to FXSAVE's abridged one: a bit per register that is not empty
            var abridged: UInt64 = 0
            for i in 0..<8 where (v >> (2 * UInt64(i))) & 3 != 3 { abridged |= 1 << UInt64(i) }
            x.store(abridged, at: 4, size: 1)
        case fctrl + 3: x.store(v, at: 12, size: 2)
        case fctrl + 4: x.store(v, at: 8, size: 4)
        case fctrl + 5: x.store(v, at: 20, size: 2)
        case fctrl + 6: x.store(v, at: 16, size: 4)
        case fctrl + 7: x.store(v & 0x7ff, at: 6, size: 2)
        case firstXMM..<mxcsr:
            component = 2
            x.replaceSubrange((160 + 16 * (n - firstXMM))..<(176 + 16 * (n - firstXMM)), with: bytes)
        case mxcsr:
            component = 2
            x.store(v & 0xffff, at: 24, size: 4)  // reserved MXCSR bits would make the host refuse the image
        case firstYMMH..<(firstYMMH + 16):
            guard x.count >= 832 else { return }
            component = 4
            x.replaceSubrange((576 + 16 * (n - firstYMMH))..<(592 + 16 * (n - firstYMMH)), with: bytes)
        default: return
        }
        // The component now holds what was written, not its init state: say so in XSTATE_BV.
        if x.count >= 576 { x.store(x.load(512, size: 8) | component, at: 512, size: 8) }
    }

    /// The task's XSAVE image: its context's, or the one saved while a vfork child borrows the context.
    private static func extendedState(_ t: Task) -> [UInt8]? {
        if let saved = t.vforkSavedState { return saved }
        guard !t.inHost, let context = t.context else { return nil }
        return try? context.extendedState()
    }

    /// gdb's ftag: two bits per physical register (valid 0, zero 1, special 2, empty 3), from the abridged
    /// tag byte and the register contents (i387_supply_fxsave).
    static func fullTag(_ x: [UInt8], top: Int) -> UInt64 {
        let abridged = x[4]
        var tag: UInt64 = 0
        for physical in 0..<8 {
            var t: UInt64 = 3
            if abridged & (1 << physical) != 0 {
                let base = 32 + 16 * ((physical - top) & 7)
                let exponent = x.load(base + 8, size: 2) & 0x7fff
                let mantissa = x[base..<(base + 8)]
                if exponent == 0x7fff {
                    t = 2
                } else if exponent == 0 {
                    t = mantissa.allSatisfy { $0 == 0 } ? 1 : 2
                } else {
                    t = x[base + 7] & 0x80 != 0 ? 0 : 2
                }
            }
            tag |= t << (2 * UInt64(physical))
        }
        return tag
    }
}

extension Array where Element == UInt8 {
    /// A little-endian value of `size` bytes at `offset` (0 past the end).
    func load(_ offset: Int, size: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<size where offset + i < count { v |= UInt64(self[offset + i]) << (8 * UInt64(i)) }
        return v
    }

    mutating func store(_ v: UInt64, at offset: Int, size: Int) {
        for i in 0..<size where offset + i < count { self[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
    }
}
