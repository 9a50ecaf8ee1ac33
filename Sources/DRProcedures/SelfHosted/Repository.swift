import DRCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A repository on disk: base backups and the WAL archive (the layout pgBackRest calls a repo).
///
/// ```
/// <root>/dr-repository.json           the key id, once a file was encrypted into it
/// <root>/wal/<walfile>[.zst][.enc]    archived WAL, written atomically
/// <root>/wal/<walfile>.json           its checksums, sizes and times (written before the rename)
/// <root>/backups/<id>/backup.json     the backup's metadata; present only once the backup is complete
/// <root>/backups/<id>/data/...        the data directory's files, each [.zst][.enc]
/// <root>/backups/.<id>.tmp/           a backup or copy in progress (never looks complete)
/// ```
struct Repository {
    let root: String

    var walDirectory: String { root + "/wal" }
    var backupsDirectory: String { root + "/backups" }
    var wal: WalArchive { WalArchive(directory: walDirectory) }
    var backups: BackupCatalog { BackupCatalog(directory: backupsDirectory) }
    var infoPath: String { root + "/" + Info.fileName }

    /// What the repository says about itself: the key its files are encrypted with (its id).
    struct Info: Codable, Equatable {
        static let fileName = "dr-repository.json"
        var format = 1
        var cipher: String?
        var keyId: String?
    }

    var info: Info? {
        FileManager.default.contents(atPath: infoPath).flatMap { try? DRJSON.decode(Info.self, from: $0) }
    }

    /// Refuses a repository that does not exist or that `user` cannot write, before anything changes.
    func checkUsable(writableBy user: OSUser?, role: String = "repository", subdirectory: String? = nil) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw DRError.badInput("The \(role) \(root) does not exist or is not a folder. Create it (e.g. `mkdir -p \(root)`, owned by the user that runs PostgreSQL) and run the command again. Nothing was changed.")
        }
        guard let user else { return }
        let dir = subdirectory.map { root + "/" + $0 } ?? root
        let checked = FileManager.default.fileExists(atPath: dir) ? dir : root
        guard user.canWrite(checked) else { throw Self.notWritable(checked, role: role, user: user, root: root) }
    }

    /// Why `path` cannot be written, with the fix for that cause: a read-only mount, or its owner and mode.
    static func notWritable(_ path: String, role: String, user: OSUser, root: String) -> DRError {
        var fs = statvfs()
        if statvfs(path, &fs) == 0, fs.f_flag & UInt(ST_RDONLY) != 0 {
            return DRError.badInput("The \(role) folder \(path) is on a read-only file system. Remount it read-write, or point the target at a folder on a writable one, and run the command again. Nothing was changed.")
        }
        var st = stat()
        let owner = stat(path, &st) == 0 ? (getpwuid(st.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(st.st_uid)") : "?"
        let mode = String(st.st_mode & 0o7777, radix: 8)
        return DRError.badInput("The \(role) folder \(path) is not writable by the OS user \(user.name): it belongs to \(owner) with mode \(mode). Give it to \(user.name) (e.g. `chown -R \(user.name) \(root)`) or let that user write to it, and run the command again. Nothing was changed.")
    }

    /// Checks the key against the one the repository's files are encrypted with, before anything
    /// is written: a different key is bad input; so is writing without a key into an encrypted
    /// repository (new files would be in the clear). With `recording`, a repository that has no
    /// key yet takes this one.
    func checkKey(_ key: RepositoryKey?, recording: Bool) throws {
        let known = info?.keyId
        if let known, let key, key.id != known {
            throw DRError(RepositoryKey.wrongKey, "The encryption key (\(key.source.place), key id \(key.id)) is not the one the files in \(root) are encrypted with (key id \(known)). Configure that repository's key in `encryption:`. Nothing was changed.")
        }
        if let known, key == nil, recording {
            throw DRError(RepositoryKey.wrongKey, "\(root) is encrypted (key id \(known)) but the target has no `encryption:` key, so new files would be stored in the clear. Add the repository's key to the target in dr.yml. Nothing was changed.")
        }
        guard recording, known == nil, let key else { return }
        try recordKey(key)
    }

    /// Records the key id once; a concurrent writer that recorded another key wins and we refuse.
    private func recordKey(_ key: RepositoryKey) throws {
        let temp = FileOps.tempName(for: infoPath)
        try FileOps.writeAtomically(try DRJSON.encode(Info(cipher: "aes-256-gcm", keyId: key.id)), to: temp, mode: 0o644)
        defer { unlink(temp) }
        if link(temp, infoPath) != 0, errno != EEXIST { throw FileOps.failure("create \(infoPath)") }
        FileOps.syncDirectory(root)
        if let recorded = info?.keyId, recorded != key.id { try checkKey(key, recording: false) }
    }

    /// Creates `wal/` and `backups/` when missing, owned by `owner` (the server's user for `wal/`).
    func prepare(walOwner: OSUser?) throws {
        try FileOps.makeDirectory(backupsDirectory)
        if !FileManager.default.fileExists(atPath: walDirectory) {
            try FileOps.makeDirectory(walDirectory)
            if OSUser.isRoot, let walOwner { walOwner.give(walDirectory) }
        }
    }
}

extension PostgresTargetSettings {
    /// The form new files take in this target's repositories; loads the key (bad input when it
    /// cannot be read).
    func storageCodec() throws -> StorageCodec {
        let level: Int?
        switch compression {
        case .none: level = nil
        case .zstd(let l): level = l
        }
        return StorageCodec(compressionLevel: level, key: try encryption.map { try RepositoryKey.load($0) })
    }
}
