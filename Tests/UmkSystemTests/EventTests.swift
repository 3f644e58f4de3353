// EventTests.swift: readiness compared with native runs: eventfd.c (the counter, EFD_SEMAPHORE, EAGAIN, poll,
// blocking reads and writes, fdinfo), timerfd.c (one-shot, periodic and absolute timers read as counts,
// gettime's bounds, the errors), epoll.c (level and edge triggering on pipes, EPOLLONESHOT, hang-ups, entries
// leaving with their file, nesting and ELOOP, the errors, timeouts, EINTR, a child's wake-up, eventfd and
// timerfd in a set); and python3's selectors.DefaultSelector and asyncio (a reader woken by call_later,
// subprocesses with pipes, sleeps and wait_for) on epoll.

import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class EventTests: SystemTestCase {
    func testEventfd() throws { try same("eventfd", .glibc) }
    func testEventfdMusl() throws { try same("eventfd", .musl) }
    func testTimerfd() throws { try same("timerfd", .glibc) }
    func testTimerfdMusl() throws { try same("timerfd", .musl) }
    func testEpoll() throws { try same("epoll", .glibc) }
    func testEpollMusl() throws { try same("epoll", .musl) }

    /// An event loop of a real program: asyncio's self-pipe is a socketpair. umk has no threads yet, so the
    /// script watches children with SIGCHLD (SafeChildWatcher); natively the same script takes the usual paths.
    func testPythonAsyncio() throws {
        guard access("/usr/bin/python3", X_OK) == 0 else { throw XCTSkip("python3 is not installed") }
        try assertSameAsNative("/usr/bin/python3", ["-c", EventTests.asyncioScript], compareStderr: true)
    }

    static let asyncioScript = """
        import asyncio, os, selectors, socket, sys, warnings

        # selectors.DefaultSelector: epoll on Linux
        sel = selectors.DefaultSelector()
        print(type(sel).__name__)
        r, w = os.pipe()
        sel.register(r, selectors.EVENT_READ, "reader")
        sel.register(w, selectors.EVENT_WRITE, "writer")
        print(sorted((k.data, ev) for k, ev in sel.select(0)))
        os.write(w, b"hello")
        print(sorted((k.data, ev) for k, ev in sel.select(0)))
        print(os.read(r, 5))
        sel.unregister(w)
        print(sel.select(0.05))
        sel.close()

        async def pipe_reader():
            loop = asyncio.get_running_loop()
            r, w = os.pipe()
            got = loop.create_future()
            def readable():
                data = os.read(r, 100)
                if data:
                    got.set_result(data)
                loop.remove_reader(r)
            loop.add_reader(r, readable)
            loop.call_later(0.05, os.write, w, b"from call_later")
            print((await got).decode())
            os.close(r); os.close(w)

        async def subprocess():
            p = await asyncio.create_subprocess_exec("/bin/sh", "-c", "echo out; echo err >&2; exit 3",
                                                     stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await p.communicate()
            print(out.decode().strip(), err.decode().strip(), p.returncode)
            p = await asyncio.create_subprocess_exec("/bin/cat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            out, _ = await p.communicate(b"x" * 200000)
            print(len(out), p.returncode)

        async def sleeps():
            async def tick(n, d):
                await asyncio.sleep(d)
                return n
            print(await asyncio.gather(tick(1, 0.03), tick(2, 0.01), tick(3, 0.02)))
            try:
                await asyncio.wait_for(asyncio.sleep(10), 0.05)
            except asyncio.TimeoutError:
                print("timeout")

        async def main():
            await pipe_reader()
            # umk has no threads yet: children are watched with SIGCHLD (through the loop's self-pipe) instead of
            # the default ThreadedChildWatcher.
            warnings.simplefilter("ignore", DeprecationWarning)
            watcher = asyncio.SafeChildWatcher()
            watcher.attach_loop(asyncio.get_running_loop())
            asyncio.get_event_loop_policy().set_child_watcher(watcher)
            await subprocess()
            await sleeps()

        asyncio.run(main())
        """
}
