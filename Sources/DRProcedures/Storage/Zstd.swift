import CZstd
import Foundation

/// zstd streaming compression through libzstd: one frame per stored file, so `zstd -d` reads
/// a repository file as it is. Contexts are expensive to set up and cheap to reset, so the copy
/// threads take them from a pool instead of making one per file.
final class ZstdCompressor {
    private let context: OpaquePointer
    private let output: UnsafeMutableRawBufferPointer
    let level: Int32

    init(level: Int32) {
        context = ZSTD_createCCtx()
        self.level = level
        output = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
        reset()
    }

    deinit {
        ZSTD_freeCCtx(context)
        output.deallocate()
    }

    /// Starts a new frame (after an error too).
    func reset() {
        ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
    }

    /// Compresses `input`, ending the frame when `end` is set, and hands each filled piece of
    /// output to `sink`.
    func compress(_ input: UnsafeRawBufferPointer, end: Bool, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var target = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let remaining = ZSTD_compressStream2(context, &target, &source, end ? ZSTD_e_end : ZSTD_e_continue)
            if ZSTD_isError(remaining) != 0 { throw ZstdError(String(cString: ZSTD_getErrorName(remaining))) }
            if target.pos > 0 { try sink(UnsafeRawBufferPointer(start: output.baseAddress, count: target.pos)) }
            if end ? remaining == 0 : source.pos == source.size { return }
        }
    }

    /// The size `bytes` take compressed at `level` (for estimates such as an empty WAL segment's cost).
    static func compressedSize(of bytes: Data, level: Int32) -> Int {
        let compressor = ZstdCompressor(level: level)
        var size = 0
        bytes.withUnsafeBytes { raw in try? compressor.compress(raw, end: true) { size += $0.count } }
        return size
    }
}

final class ZstdDecompressor {
    private let context: OpaquePointer
    private let output: UnsafeMutableRawBufferPointer
    /// True when the last frame fed in was complete: a file that ends before is truncated.
    private(set) var frameComplete = true

    init() {
        context = ZSTD_createDCtx()
        output = .allocate(byteCount: ZSTD_DStreamOutSize(), alignment: 16)
    }

    deinit {
        ZSTD_freeDCtx(context)
        output.deallocate()
    }

    func reset() {
        ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
        frameComplete = true
    }

    /// Decompresses `input`, handing each piece of output to `sink`.
    func decompress(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var target = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let consumed = source.pos
            let hint = ZSTD_decompressStream(context, &target, &source)
            if ZSTD_isError(hint) != 0 { throw ZstdError(String(cString: ZSTD_getErrorName(hint))) }
            // 0: a frame ended and is flushed. A call that moved nothing (after output that filled
            // the buffer exactly) says it awaits a next frame, which does not undo the end.
            if hint == 0 { frameComplete = true } else if source.pos > consumed || target.pos > 0 { frameComplete = false }
            if target.pos > 0 { try sink(UnsafeRawBufferPointer(start: output.baseAddress, count: target.pos)) }
            // Done with this input once it is consumed and the output was not filled (nothing held back).
            if source.pos == source.size && target.pos < target.size { return }
        }
    }
}

struct ZstdError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Reusable objects shared by the copy threads (zstd contexts): take one, give it back.
final class ObjectPool<T: AnyObject>: @unchecked Sendable {  // the lock guards `items`
    private let lock = NSLock()
    private var items: [T] = []
    private let make: () -> T

    init(make: @escaping () -> T) { self.make = make }

    func with<R>(_ body: (T) throws -> R) rethrows -> R {
        let item = lock.withLock { items.popLast() } ?? make()
        defer { lock.withLock { items.append(item) } }
        return try body(item)
    }
}
