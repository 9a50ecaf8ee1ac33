import Foundation

/// The OS user that owns a PostgreSQL data directory. PostgreSQL refuses to run as root, so
/// when `dr` runs as root it starts servers and lays down their files as this user.
struct OSUser: Equatable {
    var name: String
    var uid: uid_t
    var gid: gid_t

    static var isRoot: Bool { geteuid() == 0 }

    static func named(_ name: String) -> OSUser? {
        guard let pw = getpwnam(name) else { return nil }
        return OSUser(name: name, uid: pw.pointee.pw_uid, gid: pw.pointee.pw_gid)
    }

    static func owner(of path: String) -> OSUser? {
        var st = stat()
        guard stat(path, &st) == 0, let pw = getpwuid(st.st_uid) else { return nil }
        return OSUser(name: String(cString: pw.pointee.pw_name), uid: st.st_uid, gid: pw.pointee.pw_gid)
    }

    static var current: OSUser? {
        guard let pw = getpwuid(geteuid()) else { return nil }
        return OSUser(name: String(cString: pw.pointee.pw_name), uid: pw.pointee.pw_uid, gid: pw.pointee.pw_gid)
    }

    /// The user a server we start runs as: ourselves, or `postgres` when we are root.
    static var serverUser: OSUser? { isRoot ? named("postgres") : current }

    func give(_ path: String) {
        _ = chown(path, uid, gid)
    }

    /// Whether this user may create files in `directory`, judged from its owner, group and mode
    /// (root can write anywhere, but the server's archive_command runs as this user).
    func canWrite(_ directory: String) -> Bool {
        if uid == 0 { return access(directory, W_OK) == 0 }
        var st = stat()
        guard stat(directory, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return false }
        if st.st_uid == uid { return st.st_mode & S_IWUSR != 0 && st.st_mode & S_IXUSR != 0 }
        if st.st_gid == gid { return st.st_mode & S_IWGRP != 0 && st.st_mode & S_IXGRP != 0 }
        return st.st_mode & S_IWOTH != 0 && st.st_mode & S_IXOTH != 0
    }

    func canRead(_ path: String) -> Bool {
        if uid == 0 { return access(path, R_OK) == 0 }
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        if st.st_uid == uid { return st.st_mode & S_IRUSR != 0 }
        if st.st_gid == gid { return st.st_mode & S_IRGRP != 0 }
        return st.st_mode & S_IROTH != 0
    }
}
