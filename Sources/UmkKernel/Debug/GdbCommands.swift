// GdbCommands.swift: the gdb stub's packets (gdb/doc "Packets", "General Query Packets"): what each asks
// and how the stub answers, over the state GdbStub.swift keeps. Malformed packets get an error or an empty
// reply (not supported), never a trap.

extension GdbStub {
    // MARK: Packets

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ data: [UInt8]) {
        let framed = gdbFrame(data)
        lastSent = framed
        if !connection.write(framed) { connection.close() }
    }

    func handle(_ p: [UInt8]) {
        guard let first = p.first else { return send("") }
        let body = p[1...]
        switch first {
        case UInt8(ascii: "?"):
            switch state {
            case .stopped: send(stopReply(lastStop.tid, signal: lastStop.signal))
            case .stopping: break  // the stop report, once every thread is off the CPU, is the answer
            case .running: send("")
            }
        case UInt8(ascii: "q"), UInt8(ascii: "Q"): handleQuery(p)
        case UInt8(ascii: "v"): handleV(p)
        case UInt8(ascii: "H"):
            // Hg sets the thread registers come from; Hc (continue) is older gdbs' vCont, which we have.
            guard body.count >= 2, let id = GdbThreadID(body.dropFirst()) else { return send("E22") }
            if body.first == UInt8(ascii: "g"), id.tid > 0 {
                guard task(id.tid) != nil else { return send("E03") }
                generalThread = Int32(id.tid)
            }
            send("OK")
        case UInt8(ascii: "T"):
            guard let id = GdbThreadID(body), id.tid > 0, task(id.tid) != nil else { return send("E03") }
            send("OK")
        case UInt8(ascii: "g"):
            guard let t = stoppedThread() else { return send("E03") }
            send(GdbHex.encode(GdbTarget.read(t)))
        case UInt8(ascii: "G"):
            guard let t = stoppedThread(), let data = GdbHex.decode(body) else { return send("E22") }
            send(GdbTarget.write(t, from: 0, data) ? "OK" : "E22")
        case UInt8(ascii: "p"):
            guard let n = GdbHex.number(body), n < UInt64(GdbTarget.registers.count), let t = stoppedThread() else {
                return send("E22")
            }
            let i = Int(n)
            send(GdbHex.encode(GdbTarget.read(t)[GdbTarget.offsets[i]..<GdbTarget.offsets[i + 1]]))
        case UInt8(ascii: "P"):
            guard let (number, value) = body.splitOnce("="), let n = GdbHex.number(number),
                  n < UInt64(GdbTarget.registers.count), let data = GdbHex.decode(value),
                  data.count == GdbTarget.registers[Int(n)].size, let t = stoppedThread()
            else { return send("E22") }
            send(GdbTarget.write(t, from: Int(n), data) ? "OK" : "E22")
        case UInt8(ascii: "m"):
            guard let (a, l) = body.splitOnce(","), let address = GdbHex.number(a), let length = GdbHex.number(l) else {
                return send("E22")
            }
            let bytes = readMemory(address, Int(min(length, 0x10000)))
            send(bytes.isEmpty && length > 0 ? Array("E0e".utf8) : GdbHex.encode(bytes))
        case UInt8(ascii: "M"), UInt8(ascii: "X"):
            guard let (range, payload) = body.splitOnce(":"), let (a, l) = range.splitOnce(","),
                  let address = GdbHex.number(a), let length = GdbHex.number(l)
            else { return send("E22") }
            let data = first == UInt8(ascii: "M") ? GdbHex.decode(payload) : GdbBinary.unescape(payload)
            guard let data, UInt64(data.count) == length else { return send("E22") }
            send(writeMemory(address, data) ? "OK" : "E0e")
        case UInt8(ascii: "c"), UInt8(ascii: "s"):
            if !body.isEmpty, let address = GdbHex.number(body), let t = task(Int64(generalThread)) { t.regs.rip = address }
            resume([(step: first == UInt8(ascii: "s"), signal: nil, thread: nil)])
        case UInt8(ascii: "C"), UInt8(ascii: "S"):
            let parts = body.split(separator: UInt8(ascii: ";"), maxSplits: 1)
            guard let s = parts.first, let sig = GdbHex.number(s), sig < 65 else { return send("E22") }
            if parts.count == 2, let address = GdbHex.number(parts[1]), let t = task(Int64(generalThread)) { t.regs.rip = address }
            resume([(step: first == UInt8(ascii: "S"), signal: Int32(sig), thread: nil)])
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            handleBreakpoint(insert: first == UInt8(ascii: "Z"), body)
        case UInt8(ascii: "D"):
            send("OK")
            detach()
        case UInt8(ascii: "k"):
            kill()
        default:
            send("")  // not supported
        }
    }

    func kill() {
        killing = true
        kernel.terminate(target, .signaled(9))
        finish()
    }

    func handleV(_ p: [UInt8]) {
        if p.starts(with: Array("vCont?".utf8)) { return send("vCont;c;C;s;S") }
        if let rest = p.dropping(prefix: "vCont;") {
            var actions: [(step: Bool, signal: Int32?, thread: GdbThreadID?)] = []
            for item in rest.split(separator: UInt8(ascii: ";")) {
                let (verb, thread) = item.splitOnce(":").map { ($0.0, Optional($0.1)) } ?? (item, nil)
                guard let kind = verb.first else { return send("E22") }
                var signal: Int32? = nil
                if kind == UInt8(ascii: "C") || kind == UInt8(ascii: "S") {
                    guard let s = GdbHex.number(verb.dropFirst()), s < 65 else { return send("E22") }
                    signal = Int32(s)
                } else if kind != UInt8(ascii: "c") && kind != UInt8(ascii: "s") {
                    return send("")  // t, r: not offered
                }
                let id = thread.flatMap { GdbThreadID($0) }
                if thread != nil && id == nil { return send("E22") }
                actions.append((step: kind == UInt8(ascii: "s") || kind == UInt8(ascii: "S"), signal: signal, thread: id))
            }
            return resume(actions)
        }
        if let rest = p.dropping(prefix: "vKill;") {
            _ = rest
            send("OK")
            return kill()
        }
        if p.starts(with: Array("vMustReplyEmpty".utf8)) { return send("") }
        if let rest = p.dropping(prefix: "vFile:") { return handleFile(Array(rest)) }
        send("")
    }

    func handleQuery(_ p: [UInt8]) {
        if let offered = p.dropping(prefix: "qSupported") {
            let offeredFeatures = offered.dropFirst().split(separator: UInt8(ascii: ";"))
            multiprocess = offeredFeatures.contains { $0.elementsEqual("multiprocess+".utf8) }
            execEvents = offeredFeatures.contains { $0.elementsEqual("exec-events+".utf8) }
            var features = ["PacketSize=\(GdbHex.text(UInt64(GdbStub.packetSize)))", "QStartNoAckMode+", "QPassSignals+",
                            "qXfer:features:read+", "qXfer:auxv:read+", "qXfer:exec-file:read+", "qXfer:siginfo:read+",
                            "vContSupported+", "swbreak+", "hwbreak+"]
            if multiprocess { features.append("multiprocess+") }
            if execEvents { features.append("exec-events+") }
            return send(features.joined(separator: ";"))
        }
        if p.starts(with: Array("QStartNoAckMode".utf8)) {
            send("OK")
            noAck = true
            return
        }
        if let rest = p.dropping(prefix: "qXfer:") { return handleTransfer(Array(rest)) }
        if let rest = p.dropping(prefix: "QPassSignals:") {
            passSignals = Set(rest.split(separator: UInt8(ascii: ";")).compactMap {
                GdbHex.number($0).flatMap { $0 < 256 ? GdbSignals.linux(Int32($0)) : nil }
            })
            return send("OK")
        }
        if p.starts(with: Array("qfThreadInfo".utf8)) {
            let ids = target.tasks.filter { $0.isAlive }.map { threadText($0.tid) }
            return send(ids.isEmpty ? "l" : "m" + ids.joined(separator: ","))
        }
        if p.starts(with: Array("qsThreadInfo".utf8)) { return send("l") }
        if p.elementsEqual("qC".utf8) { return send("QC" + threadText(generalThread)) }
        if p.starts(with: Array("qAttached".utf8)) { return send(attached ? "1" : "0") }
        if let rest = p.dropping(prefix: "qThreadExtraInfo,") {
            guard let id = GdbThreadID(rest), id.tid > 0, let t = task(id.tid) else { return send("E03") }
            return send(GdbHex.encode(t.name ?? t.process.name))
        }
        if p.starts(with: Array("qSymbol".utf8)) { return send("OK") }
        send("")  // qTStatus, qOffsets, QPassSignals ...: not supported
    }

    /// qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH.
    func handleTransfer(_ p: [UInt8]) {
        let parts = p.split(separator: UInt8(ascii: ":"), maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[1].elementsEqual("read".utf8), let (o, l) = parts[3].splitOnce(","),
              let offset = GdbHex.number(o), let length = GdbHex.number(l)
        else { return send("E00") }
        let object: [UInt8]
        switch String(decoding: parts[0], as: UTF8.self) {
        case "features":
            guard parts[2].elementsEqual("target.xml".utf8) else { return send("E00") }
            object = Array(GdbTarget.targetXML.utf8)
        case "auxv":
            object = target.mmStorage?.auxiliaryVector ?? []
        case "exec-file":
            object = Array(target.executablePath.utf8)
        case "siginfo":  // $_siginfo: what the thread stopped with (si_addr of a fault)
            guard case .stopped = state else { return send("E01") }
            let tid = generalThread
            object = (stopSignals[tid] ?? SignalInfo(signo: tid == lastStop.tid ? lastStop.signal : 0, code: SignalInfo.SI_KERNEL)).bytes
        default:
            return send("")
        }
        guard offset <= UInt64(object.count) else { return send("E00") }
        let start = Int(offset)
        let end = start + Int(min(length, UInt64(object.count - start), UInt64(GdbStub.packetSize / 2)))
        send([UInt8(ascii: end == object.count ? "l" : "m")] + GdbBinary.escape(Array(object[start..<end])))
    }

    func handleBreakpoint(insert: Bool, _ body: ArraySlice<UInt8>) {
        let fields = body.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        let hardware: [String: GdbWatchpoint.Kind] = ["1": .execute, "2": .write, "4": .access]
        if fields.count >= 3, let kind = hardware[String(decoding: fields[0], as: UTF8.self)] {
            return handleWatchpoint(insert: insert, kind: kind, fields[1], fields[2])
        }
        guard fields.count >= 3, fields[0].elementsEqual("0".utf8) else { return send("") }  // no Z3
        guard let address = GdbHex.number(fields[1]), let mm = target.mmStorage else { return send("E22") }
        syncBreakpointSpace()
        if insert {
            if breakpoints[address] != nil { return send("OK") }
            guard let original = mm.debuggerRead(GuestAddress(address), 1).first,
                  suspended || (try? mm.debuggerWrite(GuestAddress(address), [0xcc])) != nil
            else { return send("E0e") }
            breakpoints[address] = original
        } else {
            guard let original = breakpoints.removeValue(forKey: address) else { return send("OK") }
            if !suspended { try? mm.debuggerWrite(GuestAddress(address), [original]) }
        }
        send("OK")
    }

    /// Z1, Z2, Z4 (x86 has no read-only watchpoints, Z3). A breakpoint's length is gdb's kind (1).
    func handleWatchpoint(insert: Bool, kind: GdbWatchpoint.Kind, _ a: ArraySlice<UInt8>, _ l: ArraySlice<UInt8>) {
        guard let address = GdbHex.number(a), let length = GdbHex.number(l), length > 0, length <= 32,
              address < AddressSpace.userLimit, length <= AddressSpace.userLimit - address
        else { return send("E22") }
        let watch = GdbWatchpoint(address: address, length: kind == .execute ? 1 : length, kind: kind)
        if insert {
            guard GdbWatchpoint.pieces(watchpoints + [watch]).count <= 4 else { return send("E28") }  // ENOSPC
            watchpoints.append(watch)
        } else {
            guard let i = watchpoints.firstIndex(of: watch) else { return send("OK") }
            watchpoints.remove(at: i)
        }
        watchGeneration += 1
        send("OK")
    }

    // MARK: Memory

    /// Guest memory as gdb should see it: the bytes under our breakpoints rather than their int3.
    func readMemory(_ address: UInt64, _ count: Int) -> [UInt8] {
        guard let mm = target.mmStorage else { return [] }
        syncBreakpointSpace()
        var bytes = mm.debuggerRead(GuestAddress(address), count)
        if suspended { return bytes }
        for (a, original) in breakpoints where a >= address && a - address < UInt64(bytes.count) {
            bytes[Int(a - address)] = original
        }
        return bytes
    }

    /// A write over one of our breakpoints changes the byte kept for it, and the int3 stays.
    func writeMemory(_ address: UInt64, _ data: [UInt8]) -> Bool {
        guard let mm = target.mmStorage else { return false }
        guard !data.isEmpty else { return true }
        syncBreakpointSpace()
        var bytes = data
        for (a, _) in breakpoints where !suspended && a >= address && a - address < UInt64(bytes.count) {
            breakpoints[a] = bytes[Int(a - address)]
            bytes[Int(a - address)] = 0xcc
        }
        return (try? mm.debuggerWrite(GuestAddress(address), bytes)) != nil
    }

    // MARK: Threads

    func task(_ tid: Int64) -> Task? {
        target.tasks.first { Int64($0.tid) == tid && $0.isAlive }
    }

    /// The thread `g`, `m` and friends apply to, if it is stopped in the kernel.
    func stoppedThread() -> Task? {
        guard let t = task(Int64(generalThread)) ?? target.tasks.first(where: { $0.isAlive }), !t.inHost else { return nil }
        return t
    }

    func matches(_ id: GdbThreadID, _ tid: Int32) -> Bool {
        if let pid = id.pid, pid != -1, pid != 0, pid != Int64(target.pid) { return false }
        return id.tid == -1 || id.tid == 0 || id.tid == Int64(tid)
    }

    func threadText(_ tid: Int32) -> String {
        multiprocess ? "p\(GdbHex.text(UInt64(target.pid))).\(GdbHex.text(UInt64(tid)))" : GdbHex.text(UInt64(tid))
    }

    func hex2(_ v: UInt64) -> String { (v < 16 ? "0" : "") + GdbHex.text(v) }
}
