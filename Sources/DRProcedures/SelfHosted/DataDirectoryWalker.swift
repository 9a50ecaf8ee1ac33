import Foundation

/// The files of a data directory that belong in a base backup, with the same exclusions
/// PostgreSQL's own BASE_BACKUP makes (src/backend/backup/basebackup.c): runtime state and
/// WAL are left out (their folders are kept empty), everything else is copied as it is read.
struct DataDirectoryWalker {
    let root: String

    /// Folders kept but emptied.
    static let emptiedDirectories: Set<String> = ["pg_wal", "pg_stat_tmp", "pg_replslot", "pg_dynshmem", "pg_notify",
                                                 "pg_serial", "pg_snapshots", "pg_subtrans"]
    /// Files never copied.
    static let excludedFiles: Set<String> = ["postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map",
                                            "current_logfiles", "postgresql.auto.conf.tmp", "recovery.signal",
                                            "standby.signal", "backup_label.old"]

    struct Listing {
        var directories: [String] = []
        var files: [(path: String, size: Int64)] = []
    }

    func list() throws -> Listing {
        var listing = Listing()
        try walk("", into: &listing)
        return listing
    }

    private func walk(_ relative: String, into listing: inout Listing) throws {
        let absolute = relative.isEmpty ? root : root + "/" + relative
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: absolute) } catch {
            if relative.isEmpty { throw error }
            return  // a folder dropped while we walked
        }
        for name in names.sorted() {
            let rel = relative.isEmpty ? name : relative + "/" + name
            if Self.excludedFiles.contains(name) || name.hasPrefix("pg_internal.init") || name.hasPrefix("pgsql_tmp") { continue }
            var st = stat()
            // stat (not lstat): pg_wal may be a symlink to another disk; it is emptied either way.
            guard stat(root + "/" + rel, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                listing.directories.append(rel)
                if relative.isEmpty, Self.emptiedDirectories.contains(name) {
                    if name == "pg_wal" { listing.directories.append("pg_wal/archive_status") }
                    continue
                }
                try walk(rel, into: &listing)
            } else if (st.st_mode & S_IFMT) == S_IFREG {
                listing.files.append((rel, Int64(st.st_size)))
            }
        }
    }
}
