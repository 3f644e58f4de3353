// InotifyTests.swift: inotify compared with native runs (inotify.c): the events of making, writing, reading,
// renaming and removing names, the add_watch mask rules and errors, IN_IGNORED, the record layout, EINVAL,
// EAGAIN, FIONREAD, poll, IN_Q_OVERFLOW and a blocking read woken by a child.

import XCTest

final class InotifyTests: SystemTestCase {
    func testInotifyEvents() throws { try same("inotify", .glibc) }
    func testInotifyEventsMusl() throws { try same("inotify", .musl) }
}
