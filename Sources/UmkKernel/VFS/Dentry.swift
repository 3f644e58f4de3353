// Dentry.swift: a name in the guest's tree (Linux's struct dentry): the inode it names and its parent. The
// root's parent is itself, which is what keeps `..` inside the root. A process's root and cwd are dentries,
// so getcwd walks parents rather than asking the host.
final class Dentry {
    let name: String
    private let parentLink: Dentry?
    let inode: Inode

    init(root inode: Inode) {
        name = "/"
        parentLink = nil
        self.inode = inode
    }

    init(name: String, parent: Dentry, inode: Inode) {
        self.name = name
        parentLink = parent
        self.inode = inode
    }

    /// A name outside the tree, for objects reached through /proc magic links (a pipe, the console).
    init(detached name: String, inode: Inode) {
        self.name = name
        parentLink = nil
        self.inode = inode
        isDetached = true
    }

    private var isDetached = false
    var isRoot: Bool { parentLink == nil && !isDetached }
    /// The parent, or nil at the root of the tree.
    var parent: Dentry? { parentLink }

    /// The path from the tree root, as getcwd(2) reports it.
    var path: String {
        if isDetached { return name }
        var parts: [String] = []
        var d = self
        while let p = d.parentLink {
            parts.append(d.name)
            d = p
        }
        return "/" + parts.reversed().joined(separator: "/")
    }
}
