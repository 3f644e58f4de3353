// ConsoleWriter.swift: the guest console's output, written by a host thread of its own (drivers/tty's output
// buffer in spirit). The kernel thread only copies bytes into a bounded queue; the writer thread makes the
// blocking host writes, so a full pipe or a stopped terminal on the console's output holds up the guest
// tasks writing there, never the kernel. When the queue has room again, the writer interrupts the kernel
// thread's wait with its tick signal.
import Glibc
import CUmk

public final class ConsoleWriter: @unchecked Sendable {
    /// Bytes queued at most; a guest write beyond waits until the writer has made room.
    public static let capacity = 64 << 10

    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var chunks: [(file: HostFile, bytes: [UInt8])] = []
    private var queued = 0
    private var writing = false
    private var stopping = false
    /// The first host error of each file (EPIPE, EIO): reported to the next guest write there. Chunks hold their
    /// file, so that its fd stays open (and is not reused) until they are written.
    private var errors: [(file: Weak, error: Errno)] = []
    private struct Weak { weak var file: HostFile? }
    /// The file of the chunk being written, outside the mutex.
    private var current: HostFile?
    private var thread: HostThread?
    /// The kernel thread to wake: this instance's (several may run in one host process).
    private let kernelThread: Int32

    /// Create on the kernel thread (its tid is the one woken). The thread starts with the first write, so that
    /// it is cloned from the kernel thread under its seccomp filter.
    public init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        kernelThread = umk_console_writer_prepare()
    }

    /// Queues as much of `buffers` as fits for `file`: the byte count, 0 when the queue is full (wait and try
    /// again), or the host error an earlier write to `file` met.
    public func write(_ file: HostFile, from buffers: [HostBuffer]) throws(Errno) -> Int {
        let fd = file.fd
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        errors.removeAll { $0.file.file == nil }
        if let i = errors.firstIndex(where: { $0.file.file === file }) { throw errors.remove(at: i).error }
        // Nothing queued and a write that cannot block: made here at once, with no thread in between (the
        // common case: a small write to a pipe or a terminal with room, or to a file).
        let total = buffers.reduce(0) { $0 + $1.count }
        if chunks.isEmpty && !writing, total > 0, total <= umk_console_direct_limit(fd) {
            var done = 0
            for b in buffers {
                let r = umk_write_all(fd, b.base, b.count)
                if r < 0 {
                    if done > 0 { return done }
                    throw Errno(rawValue: Int32(-r))
                }
                done += r
            }
            return done
        }
        var room = ConsoleWriter.capacity - queued
        var bytes: [UInt8] = []
        for b in buffers where room > 0 {
            let n = min(b.count, room)
            bytes += UnsafeRawBufferPointer(start: b.base, count: n)
            room -= n
        }
        guard !bytes.isEmpty else { return 0 }
        if thread == nil { thread = HostThread(name: "umk-console") { [unowned self] in self.run() } }
        chunks.append((file, bytes))
        queued += bytes.count
        pthread_cond_signal(&condition)
        return bytes.count
    }

    /// Whether a guest write would find room now.
    public var hasRoom: Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return queued < ConsoleWriter.capacity
    }

    /// Waits until nothing queued for `file` is left to write (from another thread than the kernel's: a
    /// program's end is reported to whoever started it only after its output is out).
    public func drain(_ file: HostFile) {
        pthread_mutex_lock(&mutex)
        while current === file || chunks.contains(where: { $0.file === file }) {
            pthread_mutex_unlock(&mutex)
            usleep(1000)
            pthread_mutex_lock(&mutex)
        }
        pthread_mutex_unlock(&mutex)
    }

    /// Waits until everything queued is written (or failed), then ends the thread: the instance is over.
    public func finish() {
        pthread_mutex_lock(&mutex)
        stopping = true
        pthread_cond_signal(&condition)
        let running = thread
        pthread_mutex_unlock(&mutex)
        running?.join()
        thread = nil
    }

    private func run() {
        umk_console_writer_thread_setup()
        pthread_mutex_lock(&mutex)
        while true {
            while chunks.isEmpty && !stopping { pthread_cond_wait(&condition, &mutex) }
            if chunks.isEmpty { break }
            let (file, bytes) = chunks.removeFirst()
            let wasFull = queued >= ConsoleWriter.capacity
            writing = true  // until this chunk is out, nothing may overtake it
            current = file
            pthread_mutex_unlock(&mutex)
            let r = bytes.withUnsafeBytes { umk_write_all(file.fd, $0.baseAddress, $0.count) }
            pthread_mutex_lock(&mutex)
            writing = false
            current = nil
            queued -= bytes.count
            if r < 0 {
                if !errors.contains(where: { $0.file.file === file }) { errors.append((Weak(file: file), Errno(rawValue: Int32(-r)))) }
                let dropped = chunks.filter { $0.file === file }.reduce(0) { $0 + $1.bytes.count }
                chunks.removeAll { $0.file === file }
                queued -= dropped
            }
            if wasFull || r < 0 { umk_console_writer_notify(kernelThread) }  // writers may be waiting for room or an error
        }
        pthread_mutex_unlock(&mutex)
    }
}
