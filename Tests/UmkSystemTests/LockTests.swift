// LockTests.swift: file locks (issue 8), compared with native runs: flock(2), POSIX record locks and OFD
// locks between processes (locks.c), and the real programs that need them: flock(1) and sqlite3 with two
// writers on one database.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class LockTests: SystemTestCase {
    func testLocks() throws { try same("locks", .glibc) }
    func testLocksMusl() throws { try same("locks", .musl) }

    private func tool(_ name: String) throws -> String {
        for dir in ["/usr/bin", "/bin"] where access("\(dir)/\(name)", X_OK) == 0 { return "\(dir)/\(name)" }
        throw XCTSkip("\(name) is not installed in /usr/bin or /bin")
    }

    /// flock(1): a lock taken and run under, a second flock -n refused while the first holds it, shared
    /// locks side by side, and -u. The lock file lives in a directory of its own under /tmp.
    func testFlockCommand() throws {
        let flock = try tool("flock")
        let script = """
            d=$(mktemp -d /tmp/umk-flock-XXXXXX); f=$d/lock
            \(flock) $f -c 'echo in'
            \(flock) $f -c "\(flock) -n $f -c 'echo not here' || echo busy: \\$?"
            \(flock) -s $f -c "\(flock) -s -n $f -c 'echo shared twice'"
            \(flock) -s $f -c "\(flock) -x -n -E 7 $f -c 'echo not here' || echo exclusive refused: \\$?"
            exec 9>$f; \(flock) -x 9; \(flock) -u 9; \(flock) -n $f -c 'echo after -u'
            rm -rf $d
            """
        try assertSameAsNative("/bin/sh", ["-c", script])
    }

    /// sqlite3: two processes inserting into one database at once (its locking is F_SETLK on byte ranges,
    /// with retries on SQLITE_BUSY), then the counts and an integrity check.
    func testSqliteTwoWriters() throws {
        let sqlite = try tool("sqlite3")
        let script = """
            d=$(mktemp -d /tmp/umk-sqlite-XXXXXX)
            \(sqlite) $d/db 'create table t(x integer);'
            for w in 1 2; do
              ( i=0; while [ $i -lt 20 ]; do
                  \(sqlite) -cmd '.timeout 10000' $d/db "insert into t values($w);" || echo failed
                  i=$((i+1))
                done ) &
            done
            wait
            \(sqlite) $d/db 'select x, count(*) from t group by x; pragma integrity_check;'
            rm -rf $d
            """
        try assertSameAsNative("/bin/sh", ["-c", script])
    }
}
