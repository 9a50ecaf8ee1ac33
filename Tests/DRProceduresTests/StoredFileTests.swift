@testable import DRProcedures
import DRCore
import XCTest

/// Files in and out of the repository: zstd frames, AES-256-GCM with the file's identity bound,
/// both checksums, and every kind of damage told apart. Fixed vectors, no server.
final class StoredFileTests: XCTestCase {
    var dir: String!
    let key = RepositoryKey(bytes: Array(0..<32), source: .environment("DR_TEST_KEY"))

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "dr-stored-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// 3 MiB: text, then zeros (as a relation's free space), then pseudo-random bytes; spans chunks.
    func sample() throws -> (path: String, data: Data) {
        var data = Data(String(repeating: "row 42, payload 'hello', ", count: 40_000).utf8)
        data.append(Data(count: 1 << 20))
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        data.append(contentsOf: (0..<(1 << 20)).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        })
        let path = dir + "/original"
        try data.write(to: URL(fileURLWithPath: path))
        return (path, data)
    }

    func testAESGCMMatchesTheGCMSpecificationVector() throws {
        // The GCM specification's test case 16 (AES-256, 96-bit IV, associated data).
        func bytes(_ hex: String) -> [UInt8] { StoredFile.hexBytes(hex) }
        let cipher = try AESGCM(encrypting: true, key: bytes("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"),
                                nonce: bytes("cafebabefacedbaddecaf888"), associatedData: bytes("feedfacedeadbeeffeedfacedeadbeefabaddad2"))
        var out: [UInt8] = []
        try bytes("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
            .withUnsafeBytes { try cipher.update($0) { out += $0 } }
        XCTAssertEqual(StoredFile.hexString(out), "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662")
        XCTAssertEqual(StoredFile.hexString(try cipher.sealTag()), "76fc6ece0f4e1768cddf8853bb2d551b")
    }

    func testKeysAreReadAsHexOrBase64AndIdentifiedWithoutShowingThem() throws {
        let hex = String(repeating: "ab", count: 32)
        try Data((hex + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/key"))
        let fromFile = try RepositoryKey.load(.file(dir + "/key"))
        XCTAssertEqual(fromFile.bytes, [UInt8](repeating: 0xAB, count: 32))
        let fromEnv = try RepositoryKey.load(.environment("K"), environment: ["K": Data(repeating: 0xAB, count: 32).base64EncodedString()])
        XCTAssertEqual(fromEnv.id, fromFile.id, "the id depends on the key only")
        XCTAssertEqual(fromFile.id.count, 16)
        XCTAssertFalse("\(fromFile)".contains(hex) || "\(fromFile)".lowercased().contains("abababab"), "\(fromFile)")
        XCTAssertNotEqual(key.id, fromFile.id)
        for (source, env, mentions) in [(KeySource.file(dir + "/none"), [String: String](), "does not exist"),
                                        (.environment("K"), [:], "is not set"),
                                        (.environment("K"), ["K": "hunter2"], "64 hexadecimal")] {
            XCTAssertThrowsError(try RepositoryKey.load(source, environment: env)) { error in
                let e = error as? DRError
                XCTAssertEqual(e?.category, .badInput)
                XCTAssertTrue(e?.message.contains(mentions) == true, e?.message ?? "\(error)")
                XCTAssertFalse(e?.message.contains("hunter2") == true, "a wrong key is never echoed")
            }
        }
    }

    func testEveryFormRoundTripsWithOneReadAndBothChecksums() throws {
        let (path, data) = try sample()
        let sum = FileOps.Copied(size: Int64(data.count), sha256: SHA256Hasher.hex(of: data))
        for (level, key) in [(nil, nil), (3, nil), (3, key), (nil, key), (19, key)] as [(Int?, RepositoryKey?)] {
            let codec = StorageCodec(compressionLevel: level, key: key)
            let stored = dir + "/stored" + codec.suffix
            let written = try StoredFile.write(from: path, to: stored, codec: codec, identity: "backups/b1/base/1/1259")
            XCTAssertEqual(written.original, sum)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: stored))
            if codec.isPlain {
                XCTAssertNil(written.form)
                XCTAssertEqual(bytes, data)
            } else {
                let form = try XCTUnwrap(written.form)
                XCTAssertEqual(form.size, Int64(bytes.count))
                XCTAssertEqual(form.sha256, SHA256Hasher.hex(of: bytes))
                XCTAssertEqual(form.keyId, key?.id)
                XCTAssertEqual(form.suffix, codec.suffix)
                if key == nil { XCTAssertEqual(Array(bytes.prefix(4)), [0x28, 0xB5, 0x2F, 0xFD], "a plain zstd frame") }
                if key != nil { XCTAssertEqual(Array(bytes.prefix(4)), Array("DRE1".utf8)) }
                if level != nil { XCTAssertLessThan(bytes.count, data.count * 2 / 3, "text and zeros compress") }
            }
            let out = dir + "/out"
            try StoredFile.read(from: stored, form: written.form, original: sum, key: key, identity: "backups/b1/base/1/1259", to: out)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), data)
        }
        // Sizes that are exact multiples of zstd's output block (128 KiB), as relation files are.
        for size in [128 << 10, 786_432] {
            let exact = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 / 97) })
            try exact.write(to: URL(fileURLWithPath: dir + "/exact"))
            let codec = StorageCodec(compressionLevel: 3, key: nil)
            let written = try StoredFile.write(from: dir + "/exact", to: dir + "/exact.zst", codec: codec, identity: "wal/x")
            try StoredFile.read(from: dir + "/exact.zst", form: written.form, original: written.original, key: nil, identity: "wal/x", to: dir + "/exact.out")
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/exact.out")), exact)
        }
        // An empty file too.
        _ = FileManager.default.createFile(atPath: dir + "/empty", contents: Data())
        let codec = StorageCodec(compressionLevel: 3, key: key)
        let written = try StoredFile.write(from: dir + "/empty", to: dir + "/empty.zst.enc", codec: codec, identity: "wal/x")
        try StoredFile.read(from: dir + "/empty.zst.enc", form: written.form, original: written.original, key: key, identity: "wal/x", to: dir + "/empty.out")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/empty.out")), Data())
    }

    func testFlippedTruncatedMovedAndWrongKeyAreEachCaught() throws {
        let (path, data) = try sample()
        let sum = FileOps.Copied(size: Int64(data.count), sha256: SHA256Hasher.hex(of: data))
        for key in [nil, key] as [RepositoryKey?] {
            let codec = StorageCodec(compressionLevel: 3, key: key)
            let stored = dir + "/s" + codec.suffix
            let written = try StoredFile.write(from: path, to: stored, codec: codec, identity: "backups/b1/base/1/1259")
            let good = try Data(contentsOf: URL(fileURLWithPath: stored))
            func readBack(_ bytes: Data, form: StoredForm? = written.form, identity: String = "backups/b1/base/1/1259",
                          with k: RepositoryKey? = key) throws {
                try bytes.write(to: URL(fileURLWithPath: stored))
                try StoredFile.read(from: stored, form: form, original: sum, key: k, identity: identity, to: dir + "/out")
            }
            var flipped = good
            flipped[flipped.count / 2] ^= 0x01
            XCTAssertThrowsError(try readBack(flipped)) { guard case .stored = $0 as? StoredFile.Damage else { return XCTFail("\($0)") } }
            XCTAssertThrowsError(try readBack(good.prefix(good.count - 100))) {
                guard case .stored = $0 as? StoredFile.Damage else { return XCTFail("\($0)") }
            }
            // Even with a record rewritten to match the altered bytes, decoding still catches them.
            let truncated = good.prefix(good.count - 100)
            let forged = StoredForm(compression: "zstd", keyId: key?.id, size: Int64(truncated.count), sha256: SHA256Hasher.hex(of: truncated))
            XCTAssertThrowsError(try readBack(truncated, form: forged)) { error in
                let damage = error as? StoredFile.Damage
                XCTAssertTrue(damage == .truncated || damage == .authentication, "\(error)")
            }
            guard let key else { continue }
            // The same bytes under another file's identity (swapped between backups) fail the tag.
            XCTAssertThrowsError(try readBack(good, identity: "backups/b2/base/1/1259")) {
                XCTAssertEqual($0 as? StoredFile.Damage, .authentication)
            }
            let other = RepositoryKey(bytes: [UInt8](repeating: 7, count: 32), source: .file("/k2"))
            XCTAssertThrowsError(try readBack(good, with: other)) { error in
                let problem = error as? StoredFile.KeyProblem
                XCTAssertEqual(problem?.fileKeyId, key.id)
                XCTAssertFalse("\(error)".contains(StoredFile.hexString(other.bytes)))
            }
            XCTAssertThrowsError(try readBack(good, with: nil)) { XCTAssertTrue($0 is StoredFile.KeyProblem) }
        }
    }

    func testOriginalNamesOfStoredFiles() {
        XCTAssertEqual(StoredForm.originalName(of: "000000010000000000000003.zst.enc"), "000000010000000000000003")
        XCTAssertEqual(StoredForm.originalName(of: "000000010000000000000003.zst"), "000000010000000000000003")
        XCTAssertEqual(StoredForm.originalName(of: "00000002.history.enc"), "00000002.history")
        XCTAssertEqual(StoredForm.originalName(of: "000000010000000000000003"), "000000010000000000000003")
    }
}
