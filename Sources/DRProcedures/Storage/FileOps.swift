import DRCore
import Foundation

/// The file operations the repository is built on: copies that hash as they go, and writes that
/// become visible only when complete (temp file, fsync, rename, fsync of the folder), so a
/// crash never leaves a half-written file under its final name.
public enum FileOps {
    static let chunkSize = 1 << 20

    struct Copied: Equatable {
        var size: Int64
        var sha256: String
    }

    enum CopyError: Error { case sourceVanished }

    /// Copies `source` to `destination` (created or truncated), hashing the bytes copied.
    /// A source that disappears before it is opened throws `sourceVanished` (a dropped relation).
    @discardableResult
    static func copy(from source: String, to destination: String, sync: FileSync = .now, mode: mode_t = 0o600) throws -> Copied {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        if input < 0 {
            if errno == ENOENT { throw CopyError.sourceVanished }
            throw failure("open \(source)")
        }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard output >= 0 else { throw failure("create \(destination)") }
        defer { close(output) }
        var flusher = Flusher(sync: sync, fd: output, path: destination)
        let copied = try readChunks(of: input, path: source) { chunk in
            try writeAll(output, chunk, path: destination)
            flusher.wrote(chunk.count)
        }
        try flusher.finish()
        return copied
    }

    /// SHA-256 and size of a file.
    static func checksum(_ path: String) throws -> Copied {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw failure("open \(path)") }
        defer { close(input) }
        return try readChunks(of: input, path: path) { _ in }
    }

    /// Reads `fd` to its end in large chunks, hashing each and handing it to `body`.
    static func readChunks(of fd: Int32, path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Copied {
        let hasher = SHA256Hasher()
        var total: Int64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, chunkSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("read \(path)")
            }
            if n == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
            hasher.update(chunk)
            try body(chunk)
            total += Int64(n)
        }
        return Copied(size: total, sha256: hasher.finalize())
    }

    /// Writes `data` atomically to `path`.
    public static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
        let temp = tempName(for: path)
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("create \(temp)") }
        do {
            try data.withUnsafeBytes { try writeAll(fd, $0, path: temp) }
            guard fsync(fd) == 0 else { throw failure("fsync \(temp)") }
            close(fd)
            try rename(temp, path)
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
    }

    /// Renames and makes the rename durable.
    static func rename(_ from: String, _ to: String) throws {
        guard Foundation.rename(from, to) == 0 else { throw failure("rename \(from) to \(to)") }
        syncDirectory(URL(fileURLWithPath: to).deletingLastPathComponent().path)
    }

    /// Applies a `FileSync` to one file being written: in the background every 64 MiB and at its
    /// end, or with one fsync at the end.
    struct Flusher {
        let sync: FileSync
        let fd: Int32
        let path: String
        private var unflushed = 0

        init(sync: FileSync, fd: Int32, path: String) {
            self.sync = sync
            self.fd = fd
            self.path = path
        }

        mutating func wrote(_ count: Int) {
            guard case .background(let writeback) = sync else { return }
            unflushed += count
            if unflushed >= 64 << 20 {
                writeback.flush(fd, path: path)
                unflushed = 0
            }
        }

        func finish() throws {
            switch sync {
            case .none: return
            case .now: if fsync(fd) != 0 { throw failure("fsync \(path)") }
            case .background(let writeback): writeback.flush(fd, path: path)
            }
        }
    }

    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// Temp names start with a dot and end in `.tmp`, so listings skip them as incomplete.
    static func tempName(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
    }

    static func isTemp(_ name: String) -> Bool { name.hasPrefix(".") && name.hasSuffix(".tmp") }

    static func makeDirectory(_ path: String, mode: Int = 0o755) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: mode])
        } catch {
            throw DRError(.storage, "Could not create the folder \(path): \(error.localizedDescription).")
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 { if errno == EINTR { continue }; throw failure("write \(path)") }
            offset += n
        }
    }

    static func failure(_ what: String) -> DRError {
        DRError(.storage, "Could not \(what): \(String(cString: strerror(errno))). Check the disk and the folder's permissions, then run the command again.")
    }
}

/// When a written file must reach the disk.
enum FileSync {
    /// Not needed (a restored data directory, which PostgreSQL syncs before recovery).
    case none
    /// Before the write returns.
    case now
    /// On the writeback thread, while the copy threads go on; `Writeback.wait()` before relying on it.
    case background(Writeback)
}

/// Flushes files to disk on a thread of its own while the copy threads compress, decompress and
/// write: the disk works during the CPU-bound copy instead of after it. Each flush syncs a
/// duplicate of the file's descriptor, so the writer may close its own at once.
final class Writeback: @unchecked Sendable {  // `lock` guards `failure`; the queue is serial
    private let queue = DispatchQueue(label: "dr.writeback")
    private let group = DispatchGroup()
    /// At most this many flushes wait (each holds a descriptor): a writer ahead of the disk waits.
    private let slots = DispatchSemaphore(value: 32)
    private let lock = NSLock()
    private var failure: DRError?

    func flush(_ fd: Int32, path: String) {
        slots.wait()
        let copy = dup(fd)
        guard copy >= 0 else {
            slots.signal()
            return record(FileOps.failure("duplicate a descriptor of \(path)"))
        }
        group.enter()
        queue.async { [self] in
            defer { group.leave(); slots.signal() }
            if fdatasync(copy) != 0 { record(FileOps.failure("fsync \(path)")) }
            close(copy)
        }
    }

    private func record(_ error: DRError) { lock.withLock { if failure == nil { failure = error } } }

    /// Waits until everything handed over is on disk; throws the first failure.
    func wait() throws {
        group.wait()
        if let failure = lock.withLock({ failure }) { throw failure }
    }
}
