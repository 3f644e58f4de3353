import Foundation
import XCTest
@testable import UmkKernel

/// Path walks over a real host directory: `..` and symlinks, absolute or relative, never leave the root.
final class PathWalkTests: XCTestCase {
    var dir: URL!
    var walk: PathWalk!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("umk-walk-\(getpid())-\(UUID().uuidString)")
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("etc"), withIntermediateDirectories: true)
        try fm.createDirectory(at: dir.appendingPathComponent("a/b"), withIntermediateDirectories: true)
        try "inside\n".write(to: dir.appendingPathComponent("etc/hostname"), atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("abs").path, withDestinationPath: "/etc")
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("a/b/up").path, withDestinationPath: "../../../../../..")
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("loop").path, withDestinationPath: "loop")
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("dangling").path, withDestinationPath: "nowhere")
        let root = Dentry(root: try HostInode.root(path: dir.path))
        walk = PathWalk(root: root, credentials: Credentials(uid: 0, gid: 0))
    }

    override func tearDownWithError() throws { try FileManager.default.removeItem(at: dir) }

    func resolve(_ p: String, follow: Bool = true) throws(LinuxErrno) -> Dentry {
        try walk.resolve(Array(p.utf8), from: walk.root, followFinal: follow)
    }

    func testDotDotStopsAtTheRoot() throws {
        XCTAssertEqual(try resolve("/../../..").path, "/")
        XCTAssertEqual(try resolve("/../../etc/hostname").path, "/etc/hostname")
        XCTAssertEqual(try resolve("a/b/../../etc/./hostname").path, "/etc/hostname")
    }

    func testSymlinksResolveInsideTheRoot() throws {
        XCTAssertEqual(try resolve("/abs/hostname").path, "/etc/hostname")  // absolute link: the guest's /etc
        XCTAssertEqual(try resolve("/a/b/up").path, "/")  // climbing link stops at the root
        XCTAssertEqual(try resolve("/a/b/up/etc/hostname").path, "/etc/hostname")
        XCTAssertFalse(try resolve("/abs", follow: false).inode.isDirectory)
    }

    func testErrors() {
        XCTAssertThrowsError(try resolve("/nope")) { XCTAssertEqual($0 as? LinuxErrno, .ENOENT) }
        XCTAssertThrowsError(try resolve("/etc/hostname/x")) { XCTAssertEqual($0 as? LinuxErrno, .ENOTDIR) }
        XCTAssertThrowsError(try resolve("/etc/hostname/")) { XCTAssertEqual($0 as? LinuxErrno, .ENOTDIR) }
        XCTAssertThrowsError(try resolve("/loop")) { XCTAssertEqual($0 as? LinuxErrno, .ELOOP) }
        XCTAssertThrowsError(try resolve("/dangling")) { XCTAssertEqual($0 as? LinuxErrno, .ENOENT) }
        XCTAssertThrowsError(try resolve("")) { XCTAssertEqual($0 as? LinuxErrno, .ENOENT) }
        XCTAssertThrowsError(try resolve("/" + String(repeating: "x", count: 256))) {
            XCTAssertEqual($0 as? LinuxErrno, .ENAMETOOLONG)
        }
        XCTAssertThrowsError(try resolve(String(repeating: "a/", count: 2100))) {
            XCTAssertEqual($0 as? LinuxErrno, .ENAMETOOLONG)
        }
    }

    func testParentResolution() throws {
        let (parent, name) = try walk.resolveParent(Array("/abs/newfile".utf8), from: walk.root)
        XCTAssertEqual(parent.path, "/etc")
        XCTAssertEqual(name, "newfile")
    }
}
