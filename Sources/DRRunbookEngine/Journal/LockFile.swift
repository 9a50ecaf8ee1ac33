import DRCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a file, held for as long as the process keeps it (`flock`), with the
/// holder's pid, start time and run id written inside for messages. The kernel drops the lock
/// when its process dies, so a crashed run never leaves a target stuck: the file it leaves
/// behind names a pid that is gone, and the next run takes it over.
public final class LockFile: @unchecked Sendable {
    public struct Owner: Codable, Equatable, Sendable {
        public var pid: Int32
        public var startedAt: String
        public var runID: String

        enum CodingKeys: String, CodingKey { case pid, startedAt = "started_at", runID = "run_id" }

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

    /// Takes the lock or throws `badInput` naming who holds it. `what` names the thing locked in that message.
    public static func acquire(_ path: String, owner: Owner, what: String) throws -> LockFile {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DRError.badInput("Cannot open the lock file \(path): \(String(cString: strerror(errno))). Check --state-dir.") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = readOwner(fd: fd)
            close(fd)
            let who = holder.map { "run \($0.runID) (pid \($0.pid), since \($0.startedAt))" } ?? "another run"
            throw DRError.badInput("\(what) is in use by \(who). Wait for it to finish, or stop it; two runs may not act on the same target at once.")
        }
        let data = (try? JSONEncoder().encode(owner)) ?? Data()
        _ = ftruncate(fd, 0)
        _ = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        fsync(fd)
        return LockFile(path: path, fd: fd)
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

    public func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    private static func readOwner(fd: Int32) -> Owner? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = pread(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return try? JSONDecoder().decode(Owner.self, from: Data(buffer[0..<n]))
    }
}
