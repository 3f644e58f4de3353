// InotifyTests.swift: inotify compared with native runs (inotify.c): the events of making, writing, reading,
// renaming and removing names, the add_watch mask rules and errors, IN_IGNORED, the record layout, EINVAL,
// EAGAIN, FIONREAD, poll, IN_Q_OVERFLOW and a blocking read woken by a child; and inotifywait(1) from
// inotify-tools watching a directory while a shell changes it.

import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class InotifyTests: SystemTestCase {
    func testInotifyEvents() throws { try same("inotify", .glibc) }
    func testInotifyEventsMusl() throws { try same("inotify", .musl) }

    /// inotifywait -m on a fresh directory: the changes start once it says its watches are established, and
    /// it stops 2 s after the last event. No two identical events come back to back (an `ls` would send two
    /// IN_ACCESS, merged or not depending on when the reader runs).
    func testInotifywait() throws {
        guard access("/usr/bin/inotifywait", X_OK) == 0 else { throw XCTSkip("inotify-tools is not installed") }
        let script = """
            d=$(mktemp -d /tmp/umk-inotifywait-XXXXXX)
            /usr/bin/inotifywait -m -t 2 --format '%e %f' "$d" 2>&1 | while read -r line; do
              echo "$line"
              case $line in
                "Watches established.")
                  ( touch "$d/f"; echo x >> "$d/f"; chmod 600 "$d/f"; mv "$d/f" "$d/g"; mkdir "$d/s"
                    rm "$d/g"; rmdir "$d/s"; rmdir "$d" ) & ;;
              esac
            done
            echo done
            """
        try assertSameAsNative("/bin/sh", ["-c", script])
    }
}
