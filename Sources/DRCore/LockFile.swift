import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a file, held for as long as the process keeps it (`flock`), with the
/// holder's pid, start time and what it is doing written inside for messages. The kernel drops
/// the lock when its process dies, so a crashed command never leaves a target stuck. Released,
/// the file is removed; a file left by a killed process names a pid that is gone, and the next
/// taker takes it over.
public final class LockFile: @unchecked Sendable {
    // `fd` is only touched by the owning code path (acquire, release, deinit), never concurrently.
    public struct Owner: Codable, Equatable, Sendable {
        public var pid: Int32
        public var startedAt: String
        /// What holds it: a run id, or a command (`dr restore local-db`).
        public var runID: String

        // Written and read with DRJSON's snake_case strategies: `run_id` reads back as `runId`.
        enum CodingKeys: String, CodingKey { case pid, startedAt, runID = "runId" }

        public init(pid: Int32, startedAt: String, runID: String) {
            self.pid = pid
            self.startedAt = startedAt
            self.runID = runID
        }
    }

    public let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { release() }

    /// Takes the lock or throws (`lockHeld`, bad input) naming who holds it. `what` names the
    /// thing locked in that message.
    public static func acquire(_ path: String, owner: Owner, what: String) throws -> LockFile {
        let dir = (path as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: dir) {
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o1777])
        }
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw DRError(.storage, "Cannot open the lock file \(path): \(String(cString: strerror(errno))). Check that its folder is writable (DR_LOCK_DIR, --state-dir).")
            }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                let holder = readOwner(fd: fd)
                close(fd)
                let who = holder.map { "\($0.runID) (pid \($0.pid), since \($0.startedAt))" } ?? "another dr process"
                throw DRError(.lockHeld, "\(what) is in use by \(who). Wait for it to finish, or stop it; two dr commands may not change the same target at once. Nothing was changed.")
            }
            // A holder that released (and removed the file) between our open and our lock: the
            // lock we hold is on a file nobody else will open. Start again on the path's file.
            var opened = stat(), named = stat()
            guard fstat(fd, &opened) == 0, stat(path, &named) == 0, opened.st_ino == named.st_ino, opened.st_dev == named.st_dev else {
                close(fd)
                continue
            }
            let data = (try? DRJSON.encode(owner, .line)) ?? Data()
            _ = ftruncate(fd, 0)
            _ = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            return LockFile(path: path, fd: fd)
        }
    }

    /// Who holds the lock now, or nil when nobody does (no file, or a holder that is gone).
    public static func holder(_ path: String) -> Owner? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        return readOwner(fd: fd)
    }

    /// Removes the file (while still holding it, so nobody takes a lock on a file about to go), then unlocks.
    public func release() {
        guard fd >= 0 else { return }
        unlink(path)
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    private static func readOwner(fd: Int32) -> Owner? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = pread(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return try? DRJSON.decode(Owner.self, from: Data(buffer[0..<n]))
    }
}
