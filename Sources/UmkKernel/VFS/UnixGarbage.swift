// UnixGarbage.swift: the garbage collector of AF_UNIX sockets in flight (net/unix/garbage.c). A socket sent
// with SCM_RIGHTS is held by the message until a recvmsg takes it; a socket whose messages carry itself, or
// a ring of sockets carrying each other, is then held only by those messages once its fds are closed, and
// reference counting alone never frees it. After a system call closes a socket's last fd while files are in
// flight, the collector runs Linux's algorithm (unix_gc before 6.10): the candidates are the sockets in flight
// that no fd refers to; the references candidates' queues hold to each other are internal; a candidate with
// any other reference is alive, and so is everything its queue carries, transitively (an explicit worklist,
// no recursion); the rest are garbage, and their queues are purged, which frees them. A collection runs after
// a number of releases proportional to the last one's size, so a guest's closes cost bounded work each.
// What differs from Linux: Linux counts every reference to a file (a call in progress, say); umk counts the
// fds and the messages, and runs the collector between system calls, when no call holds a file. A listener's
// connections not yet accepted count as its queue, as Linux's embryos do.
extension Kernel {
    /// A socket's last fd went: collect when in-flight sockets exist, once every so many releases as the
    /// last collection walked sockets (divided by 64), as Linux's collector runs from a work queue.
    func socketReleased() {
        guard !socketCarriers.isEmpty else { return }
        socketReleasesSinceCollection += 1
        if socketReleasesSinceCollection * 64 >= lastSocketCollectionWork { socketCollectionPending = true }
    }

    /// Drops `filesToRelease` one at a time: a chain of sockets each carrying the next would otherwise free
    /// itself by one nested deinit per socket, as deep as the guest likes (Linux defers each fput the same
    /// way). A deinit that runs here adds its own files and returns.
    func releaseFiles() {
        guard !releasingFiles else { return }
        releasingFiles = true
        while !filesToRelease.isEmpty { _ = filesToRelease.removeLast() }
        releasingFiles = false
    }

    func collectSockets() {
        socketCollectionPending = false
        socketReleasesSinceCollection = 0
        // The sockets whose queues carry files, and how many messages carry each socket in flight.
        var carriers: [UnixSocket] = []
        for (key, entry) in socketCarriers {
            if let s = entry.socket, s.carriesFiles {
                carriers.append(s)
            } else {
                socketCarriers[key] = nil
            }
        }
        var inFlight: [ObjectIdentifier: (socket: UnixSocket, count: Int)] = [:]
        for c in carriers {
            c.forEachSocketInFlight { s in inFlight[ObjectIdentifier(s), default: (s, 0)].count += 1 }
        }
        lastSocketCollectionWork = carriers.count + inFlight.count
        var candidates = inFlight.filter { $0.value.socket.descriptorCount == 0 }
        guard !candidates.isEmpty else { return }
        // What a candidate holds: its queue, and its not yet accepted connections' queues.
        func children(_ s: UnixSocket, _ body: (UnixSocket) -> Void) {
            s.forEachSocketInFlight(body)
            for p in s.pending { p.forEachSocketInFlight(body) }
        }
        for c in candidates.values {
            children(c.socket) { s in candidates[ObjectIdentifier(s)]?.count -= 1 }
        }
        var work = candidates.filter { $0.value.count > 0 }.map { $0.value.socket }
        var alive = Set(work.map { ObjectIdentifier($0) })
        while let s = work.popLast() {
            children(s) { child in
                let id = ObjectIdentifier(child)
                if candidates[id] != nil, alive.insert(id).inserted { work.append(child) }
            }
        }
        let garbage = candidates.filter { !alive.contains($0.key) }.map { $0.value.socket }
        candidates.removeAll()
        inFlight.removeAll()
        carriers.removeAll()
        // Purging drops the messages' references; the sockets go when `garbage` does, their peers see the end.
        for s in garbage {
            s.purge()
            for p in s.pending { p.purge() }
        }
    }
}
