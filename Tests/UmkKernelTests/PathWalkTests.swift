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

    /// A mount over /a/b (another host tree) is crossed going down and left by `..` at its root, and a
    /// symlink through it resolves in the namespace, not in the mounted tree.
    func testMountsAreCrossed() throws {
        let other = dir.appendingPathComponent("etc")  // any directory will do as the mounted tree
        let mounts = MountNamespace()
        let rootInode = walk.root.inode
        let top = mounts.add(at: "/", type: "hostfs", source: "root", device: (0, 1)) { _ in rootInode }
        let mounted = try HostInode.root(path: other.path)
        let m = mounts.add(at: "/a/b", type: "hostfs", source: "other", device: (0, 2)) { _ in mounted }
        walk = PathWalk(root: Dentry(root: rootInode, mount: top), credentials: Credentials(uid: 0, gid: 0))
        walk.mounts = mounts
        let inside = try resolve("/a/b/hostname")
        XCTAssertEqual(inside.path, "/a/b/hostname")
        XCTAssertTrue(inside.mount === m)
        XCTAssertTrue(try resolve("/a/b/..").mount === top)
        XCTAssertEqual(try resolve("/a/b/..").path, "/a")
        XCTAssertEqual(try resolve("/a/b/../b/hostname").path, "/a/b/hostname")
        XCTAssertThrowsError(try resolve("/a/b/up")) { XCTAssertEqual($0 as? LinuxErrno, .ENOENT) }  // hidden by the mount
        XCTAssertThrowsError(try mounts.remove(at: "/a")) { XCTAssertEqual($0 as? LinuxErrno, .EINVAL) }
        // A later mount over /a hides /a/b until it goes.
        let over = mounts.add(at: "/a", type: "hostfs", source: "over", device: (0, 3)) { _ in mounted }
        XCTAssertNil(mounts.mount(at: "/a/b"))
        XCTAssertTrue(try resolve("/a/hostname").mount === over)
        XCTAssertTrue(try mounts.remove(at: "/a") === over)  // /a/b is not on it: no EBUSY
        XCTAssertTrue(mounts.mount(at: "/a/b") === m)
        XCTAssertTrue(try mounts.remove(at: "/a/b") === m)
        XCTAssertEqual(try resolve("/a/b/up").path, "/")
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
