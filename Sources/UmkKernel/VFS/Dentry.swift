// Dentry.swift: a name in the guest's tree (Linux's struct dentry): the inode it names and its parent. The
// root's parent is itself, which is what keeps `..` inside the root. A process's root and cwd are dentries,
// so getcwd walks parents rather than asking the host.
final class Dentry {
    let name: String
    private let parentLink: Dentry?
    let inode: Inode
    /// The mount whose tree this name is in (nil for detached names).
    let mount: Mount?
    /// The path walk's memo of whether mount points lie at or below this name: its path if so, else nil,
    /// as of a generation of the mount table (PathWalk.mountAncestorPath).
    var mountMemo: (generation: Int, path: String?)?

    init(root inode: Inode, mount: Mount? = nil) {
        name = "/"
        parentLink = nil
        self.inode = inode
        self.mount = mount
    }

    /// `name` in `parent`; `mount` when this is the root of a mount at that name, else the parent's.
    init(name: String, parent: Dentry, inode: Inode, mount: Mount? = nil) {
        self.name = name
        parentLink = parent
        self.inode = inode
        self.mount = mount ?? parent.mount
    }

    /// A name outside the tree, for objects reached through /proc magic links (a pipe, the console).
    init(detached name: String, inode: Inode) {
        self.name = name
        parentLink = nil
        self.inode = inode
        mount = nil
        isDetached = true
    }

    private var isDetached = false
    var isRoot: Bool { parentLink == nil && !isDetached }
    /// The parent, or nil at the root of the tree.
    var parent: Dentry? { parentLink }

    /// The path as a process whose root is `root` names it (d_path): from `root` down, or, for a name outside
    /// that root (a cwd left outside a chroot), "(unreachable)" and the path from the tree root.
    func path(from root: Dentry) -> String {
        if root.isRoot || isDetached { return path }
        var parts: [String] = []
        var d = self
        while d !== root {
            guard let p = d.parentLink else { return "(unreachable)" + path }
            parts.append(d.name)
            d = p
        }
        return "/" + parts.reversed().joined(separator: "/")
    }

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
