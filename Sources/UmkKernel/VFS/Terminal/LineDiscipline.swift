// LineDiscipline.swift: N_TTY (drivers/tty/n_tty.c), the terminal's own processing between what is typed
// and what a reader gets: input modes (ISTRIP, ICRNL, INLCR, IGNCR, IXON), canonical lines with erase,
// word-erase, kill, reprint, literal-next, EOF and EOL, echo (ECHOCTL's ^X, ECHOE/ECHOK/ECHOKE erasing), the
// signal characters, and output post-processing (OPOST: ONLCR, OCRNL, ONOCR, ONLRET, OLCUC, XTABS) with the
// column it tracks. It is the same code for every terminal; the driver (a pseudo-terminal's master side)
// carries what it sends out and raises the signals.
//
// Not done, as a pty never needs it: parity and break handling (PARMRK, INPCK), ECHOPRT's printing erase,
// and the inter-byte timer of VMIN > 0 with VTIME > 0 runs from the first wait, not from each byte.
protocol TerminalDriver: AnyObject {
    /// How many bytes of output the other side takes now.
    var transmitRoom: Int { get }
    /// Processed output (writes and echoes) for the other side.
    func transmit(_ bytes: [UInt8])
    /// A signal character was typed: `sig` for the terminal's foreground process group.
    func raise(_ sig: Int32)
    /// IXON's stop and start characters stopped or restarted output.
    func flowChanged(stopped: Bool)
}

final class LineDiscipline {
    static let bufferSize = 4096  // N_TTY_BUF_SIZE

    weak var driver: TerminalDriver?
    private(set) var termios = Termios.standard
    /// Input a reader may have: in canonical mode only completed lines (they end at `lineEnds`).
    private var ready: [UInt8] = []
    private var lineEnds: [Int] = []
    /// The canonical line being typed.
    private var line: [UInt8] = []
    private var literalNext = false
    /// Echoes of the input being taken, sent when the batch is done (a signal character drops them).
    private var pendingEcho: [UInt8] = []
    /// Output stopped by the stop character (^S).
    private(set) var stopped = false
    /// The output column, and where the line being typed began (for erasing tabs).
    private var column = 0
    private var canonColumn = 0

    var isCanonical: Bool { termios.has(lflag: Termios.ICANON) }
    /// Bytes a read could take now (FIONREAD), a canonical line counting only once completed.
    var readableCount: Int { isCanonical ? (lineEnds.last ?? 0) : ready.count }

    /// Whether a read finds input: a completed line, or in non-canonical mode at least `minimum` bytes.
    func hasInput(minimum: Int = 1) -> Bool {
        isCanonical ? !lineEnds.isEmpty : ready.count >= max(minimum, 1)
    }

    /// Whether another input byte can be processed now: while the buffer has room, and in canonical mode
    /// also when it is full of one unfinished line (then bytes are processed and not stored, so that a
    /// newline can always end it). Input beyond waits with the driver, as in n_tty_receive_buf_common.
    var hasRoom: Bool {
        ready.count + line.count < LineDiscipline.bufferSize - 1 || (isCanonical && lineEnds.isEmpty)
    }

    // MARK: Modes

    /// TCSETS: a change of ICANON moves what was typed (n_tty_set_termios): leaving canonical mode makes the
    /// unfinished line readable; entering it makes input already there readable at once, as if pushed.
    func setTermios(_ new: Termios) {
        let wasCanonical = isCanonical
        let hadIXON = termios.has(iflag: Termios.IXON)
        termios = new
        if wasCanonical != isCanonical {
            if !isCanonical {
                ready += line
                line = []
                lineEnds = []
            } else {
                lineEnds = ready.isEmpty ? [] : [ready.count]
            }
            literalNext = false
        }
        if hadIXON && !termios.has(iflag: Termios.IXON) && stopped { start() }
    }

    /// TCFLSH's input half, and ISIG's flush.
    func flushInput() {
        ready = []
        lineEnds = []
        line = []
        literalNext = false
    }

    // MARK: Input

    /// Processes one input byte (n_tty_receive_buf_standard).
    func receive(_ byte: UInt8) {
        var c = byte
        let t = termios
        if t.has(iflag: Termios.ISTRIP) { c &= 0x7f }
        if t.has(iflag: Termios.IUCLC) && t.has(lflag: Termios.IEXTEN) && c >= 65 && c <= 90 { c += 32 }
        if literalNext {
            literalNext = false
            receiveOrdinary(c)
        } else if t.has(lflag: Termios.EXTPROC) {
            store(c)
        } else if isSpecial(c) {
            receiveSpecial(c)
        } else {
            receiveOrdinary(c)
        }
    }

    /// n_tty's char_map: the bytes that mean something in the current modes.
    private func isSpecial(_ c: UInt8) -> Bool {
        let t = termios
        if c == 0 { return false }
        if c == 13 && (t.has(iflag: Termios.IGNCR) || t.has(iflag: Termios.ICRNL)) { return true }
        if c == 10 && t.has(iflag: Termios.INLCR) { return true }
        if isCanonical {
            if c == 10 || t.isChar(c, Termios.VERASE) || t.isChar(c, Termios.VKILL) || t.isChar(c, Termios.VEOF)
                || t.isChar(c, Termios.VEOL) { return true }
            if t.has(lflag: Termios.IEXTEN) && (t.isChar(c, Termios.VWERASE) || t.isChar(c, Termios.VLNEXT)
                || t.isChar(c, Termios.VEOL2) || (t.has(lflag: Termios.ECHO) && t.isChar(c, Termios.VREPRINT))) {
                return true
            }
        }
        if t.has(iflag: Termios.IXON) && (t.isChar(c, Termios.VSTART) || t.isChar(c, Termios.VSTOP)) { return true }
        if t.has(lflag: Termios.ISIG) && (t.isChar(c, Termios.VINTR) || t.isChar(c, Termios.VQUIT)
            || t.isChar(c, Termios.VSUSP)) { return true }
        return false
    }

    private func receiveSpecial(_ byte: UInt8) {
        var c = byte
        let t = termios
        if t.has(iflag: Termios.IXON) {
            if t.isChar(c, Termios.VSTART) { start(); return }
            if t.isChar(c, Termios.VSTOP) {
                if !stopped { stopped = true; driver?.flowChanged(stopped: true) }
                return
            }
        }
        if t.has(lflag: Termios.ISIG) {
            for (index, sig) in [(Termios.VINTR, Signal.INT), (Termios.VQUIT, Signal.QUIT), (Termios.VSUSP, Signal.TSTP)]
            where t.isChar(c, index) {
                if !t.has(lflag: Termios.NOFLSH) {
                    flushInput()
                    pendingEcho = []
                }
                driver?.raise(sig)
                if t.has(iflag: Termios.IXON) { start() }
                if t.has(lflag: Termios.ECHO) { echo(c) }
                return
            }
        }
        if stopped && t.has(iflag: Termios.IXON) && t.has(iflag: Termios.IXANY) { start() }
        if c == 13 {
            if t.has(iflag: Termios.IGNCR) { return }
            if t.has(iflag: Termios.ICRNL) { c = 10 }
        } else if c == 10 && t.has(iflag: Termios.INLCR) {
            c = 13
        }
        if isCanonical && receiveCanonical(c) { return }
        if t.has(lflag: Termios.ECHO) {
            if c == 10 {
                echoRaw(10)
            } else {
                if line.isEmpty { canonColumn = column }
                echo(c)
            }
        }
        store(c)
    }

    private func receiveOrdinary(_ c: UInt8) {
        if stopped && termios.has(iflag: Termios.IXON) && termios.has(iflag: Termios.IXANY) { start() }
        if termios.has(lflag: Termios.ECHO) {
            if line.isEmpty { canonColumn = column }
            echo(c)
        }
        store(c)
    }

    /// The canonical mode's characters (n_tty_receive_char_canon); false for a byte to store as it is.
    private func receiveCanonical(_ c: UInt8) -> Bool {
        let t = termios
        let echoing = t.has(lflag: Termios.ECHO)
        let extended = t.has(lflag: Termios.IEXTEN)
        if t.isChar(c, Termios.VERASE) { erase(.character); return true }
        if t.isChar(c, Termios.VKILL) { erase(.line); return true }
        if extended && t.isChar(c, Termios.VWERASE) { erase(.word); return true }
        if extended && t.isChar(c, Termios.VLNEXT) {
            literalNext = true
            if echoing && t.has(lflag: Termios.ECHOCTL) { emit([UInt8(ascii: "^"), 8]) }
            return true
        }
        if extended && echoing && t.isChar(c, Termios.VREPRINT) {
            echo(c)
            echoRaw(10)
            for b in line { echo(b) }
            return true
        }
        if c == 10 {
            if echoing || t.has(lflag: Termios.ECHONL) { echoRaw(10) }
            endLine(with: c)
            return true
        }
        if t.isChar(c, Termios.VEOF) {
            endLine(with: nil)  // EOF ends the line and is not part of it: alone, it reads as end of file
            return true
        }
        if t.isChar(c, Termios.VEOL) || (extended && t.isChar(c, Termios.VEOL2)) {
            if echoing {
                if line.isEmpty { canonColumn = column }
                echo(c)
            }
            endLine(with: c)
            return true
        }
        return false
    }

    private func store(_ c: UInt8) {
        if isCanonical {
            if ready.count + line.count < LineDiscipline.bufferSize - 1 { line.append(c) }
        } else if ready.count < LineDiscipline.bufferSize - 1 {
            ready.append(c)
        }
    }

    private func endLine(with terminator: UInt8?) {
        ready += line
        if let terminator { ready.append(terminator) }
        line = []
        lineEnds.append(ready.count)
    }

    private enum EraseKind { case character, word, line }

    /// Erases the last character, word or the whole line being typed, and shows it (n_tty's eraser).
    private func erase(_ kind: EraseKind) {
        guard !line.isEmpty else { return }
        let t = termios
        let echoing = t.has(lflag: Termios.ECHO)
        if kind == .line {
            if !echoing {
                line = []
                return
            }
            if !t.has(lflag: Termios.ECHOK) || !t.has(lflag: Termios.ECHOKE) || !t.has(lflag: Termios.ECHOE) {
                line = []
                echo(t.cc[Termios.VKILL])
                if t.has(lflag: Termios.ECHOK) { echoRaw(10) }
                return
            }
        }
        var seenWord = false
        while let c = line.last {
            if kind == .word {
                let isWord = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
                if isWord { seenWord = true } else if seenWord { break }
            }
            line.removeLast()
            // A UTF-8 character goes whole, with its continuation bytes.
            if t.has(iflag: Termios.IUTF8) && c & 0xc0 == 0x80 {
                while let lead = line.last, lead & 0xc0 == 0x80 { line.removeLast() }
                if !line.isEmpty { line.removeLast() }
            }
            if echoing {
                if kind == .character && !t.has(lflag: Termios.ECHOE) {
                    echo(t.cc[Termios.VERASE])
                } else if c == 9 {
                    let before = columns(of: line, from: canonColumn)
                    let after = (before | 7) + 1
                    emit([UInt8](repeating: 8, count: after - before))
                } else {
                    let control = c < 32 || c == 127
                    let ctl = t.has(lflag: Termios.ECHOCTL)
                    if control && ctl { emit([8, 32, 8]) }
                    if !control || ctl { emit([8, 32, 8]) }
                }
            }
            if kind == .character { break }
        }
    }

    /// The column after echoing `bytes` from column `start`.
    private func columns(of bytes: [UInt8], from start: Int) -> Int {
        var col = start
        let ctl = termios.has(lflag: Termios.ECHOCTL)
        let utf8 = termios.has(iflag: Termios.IUTF8)
        for c in bytes {
            if c == 9 { col = (col | 7) + 1 } else if c < 32 || c == 127 { col += ctl ? 2 : 0 } else if !(utf8 && c & 0xc0 == 0x80) { col += 1 }
        }
        return col
    }

    /// TCXONC's TCOOFF and TCOON.
    func receiveFlow(stop: Bool) {
        if stop {
            if !stopped { stopped = true; driver?.flowChanged(stopped: true) }
        } else {
            start()
        }
    }

    private func start() {
        guard stopped else { return }
        stopped = false
        driver?.flowChanged(stopped: false)
    }

    // MARK: Reading

    /// Takes up to `count` bytes of input: at most one line in canonical mode (an EOF line gives none).
    func take(_ count: Int) -> [UInt8] {
        if isCanonical {
            guard let end = lineEnds.first else { return [] }
            let n = min(count, end)
            let out = Array(ready[0..<n])
            ready.removeFirst(n)
            lineEnds = lineEnds.map { $0 - n }
            if lineEnds.first == 0 { lineEnds.removeFirst() }
            return out
        }
        let n = min(count, ready.count)
        let out = Array(ready[0..<n])
        ready.removeFirst(n)
        return out
    }

    // MARK: Output

    /// Echoes a typed byte: a control character as ^X under ECHOCTL (tab excepted), else as output.
    private func echo(_ c: UInt8) {
        if termios.has(lflag: Termios.ECHOCTL) && (c < 32 || c == 127) && c != 9 {
            column += 2
            driverSend([UInt8(ascii: "^"), c ^ 0o100])
        } else {
            echoRaw(c)
        }
    }

    private func echoRaw(_ c: UInt8) {
        var out: [UInt8] = []
        process(c, into: &out)
        driverSend(out)
    }

    /// Echo bytes that move the cursor back (erase), with the column kept.
    private func emit(_ bytes: [UInt8]) {
        var out: [UInt8] = []
        for b in bytes { process(b, into: &out) }
        driverSend(out)
    }

    private func driverSend(_ bytes: [UInt8]) {
        pendingEcho += bytes
        if pendingEcho.count >= 256 { flushEchoes() }  // ECHO_COMMIT_WATERMARK
    }

    /// Sends the echoes of a batch of input; what the other side has no room for is dropped, as in n_tty.
    func flushEchoes() {
        guard let driver, !pendingEcho.isEmpty else { return }
        let n = min(pendingEcho.count, driver.transmitRoom)
        if n > 0 { driver.transmit(Array(pendingEcho[0..<n])) }
        pendingEcho = []
    }

    /// A write to the terminal: post-processes as many bytes of `bytes` as the other side has room for,
    /// sends them, and returns how many were taken (0 while output is stopped).
    func write(_ bytes: [UInt8]) -> Int {
        guard let driver, !stopped else { return 0 }
        flushEchoes()
        var room = driver.transmitRoom
        var out: [UInt8] = []
        var taken = 0
        if !termios.has(oflag: Termios.OPOST) {
            taken = min(room, bytes.count)
            out = Array(bytes[0..<taken])
        } else {
            var piece: [UInt8] = []
            for c in bytes {
                piece.removeAll(keepingCapacity: true)
                let saved = (column, canonColumn)
                process(c, into: &piece)
                if piece.count > room {
                    (column, canonColumn) = saved
                    break
                }
                room -= piece.count
                out += piece
                taken += 1
            }
        }
        if !out.isEmpty { driver.transmit(out) }
        return taken
    }

    /// do_output_char: one byte of output under OPOST, keeping the column.
    private func process(_ byte: UInt8, into out: inout [UInt8]) {
        let t = termios
        var c = byte
        guard t.has(oflag: Termios.OPOST) else {
            out.append(c)
            return
        }
        switch c {
        case 10:
            if t.has(oflag: Termios.ONLRET) { column = 0 }
            if t.has(oflag: Termios.ONLCR) {
                column = 0
                canonColumn = 0
                out += [13, 10]
                return
            }
            canonColumn = column
        case 13:
            if t.has(oflag: Termios.ONOCR) && column == 0 { return }
            if t.has(oflag: Termios.OCRNL) {
                c = 10
                if t.has(oflag: Termios.ONLRET) { (column, canonColumn) = (0, 0) }
            } else {
                (column, canonColumn) = (0, 0)
            }
        case 9:
            let spaces = 8 - (column & 7)
            column += spaces
            if t.oflag & Termios.TABDLY == Termios.XTABS {
                out += [UInt8](repeating: 32, count: spaces)
                return
            }
        case 8:
            if column > 0 { column -= 1 }
        default:
            if c >= 32 && c != 127 {
                if t.has(oflag: Termios.OLCUC) && c >= 97 && c <= 122 { c -= 32 }
                if !(t.has(iflag: Termios.IUTF8) && c & 0xc0 == 0x80) { column += 1 }
            }
        }
        out.append(c)
    }
}
