// swift-tools-version:6.0
import PackageDescription

// Layers, arrows pointing down (see ../shared/DESIGN.md):
//   dr -> DRCLI -> DRDrill -> DRRunbook -> { DRRunbookEngine, DRProcedures -> { DRAWS -> DRSigV4, DRVerify -> DRPostgres } } -> DRCore
// C libraries come in as system-library targets, imported only where they are wrapped.
let package = Package(
    name: "dr",
    products: [
        .executable(name: "dr", targets: ["dr"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C libraries.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        // Shared vocabulary: errors and exit codes, clock, process runner, time formats.
        .target(name: "DRCore", dependencies: [.product(name: "Logging", package: "swift-log")]),

        // PostgreSQL through libpq, and the verifier above it.
        .target(name: "DRPostgres", dependencies: ["CLibPQ", "DRCore"]),
        .target(name: "DRVerify", dependencies: ["DRPostgres", "DRCore"]),

        // AWS: the signer depends only on hashing; the client adds transport, credentials, protocols.
        .target(name: "DRSigV4", dependencies: ["CCrypto"]),
        .target(name: "DRAWS", dependencies: ["DRSigV4", "CCurl", "CCrypto", "DRCore",
                                              .product(name: "Logging", package: "swift-log")]),

        // Recovery procedures (RDS/ElastiCache/Route 53 backend and self-hosted PostgreSQL backend).
        .target(name: "DRProcedures", dependencies: ["DRAWS", "DRVerify", "DRPostgres", "DRCore", "CCrypto", "CZstd", "Yams",
                                                     .product(name: "Logging", package: "swift-log")]),
        // Runbooks: the pure engine (model, expressions, validation, state machine, journal) knows
        // no backend; DRRunbook binds the standard procedures to the providers; drills sit on top.
        .target(name: "DRRunbookEngine", dependencies: ["DRCore", "Yams"]),
        .target(name: "DRRunbook", dependencies: ["DRRunbookEngine", "DRProcedures", "DRAWS", "DRVerify", "DRPostgres", "DRCore",
                                                  .product(name: "Logging", package: "swift-log")]),
        .target(name: "DRDrill", dependencies: ["DRRunbook", "DRRunbookEngine", "DRProcedures", "DRVerify", "DRCore",
                                                .product(name: "Logging", package: "swift-log")]),
        .target(name: "DRCLI", dependencies: ["DRDrill", "DRRunbook", "DRRunbookEngine", "DRProcedures", "DRVerify", "DRAWS", "DRCore",
                                              .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                              .product(name: "Logging", package: "swift-log")]),
        .executableTarget(name: "dr", dependencies: ["DRCLI"]),

        // Test harness: real PostgreSQL servers, the AWS emulator, the built binary.
        .target(name: "DRTestSupport", dependencies: ["DRCore", "DRPostgres"], path: "Tests/Support"),

        .testTarget(name: "DRCoreTests", dependencies: ["DRCore"]),
        .testTarget(name: "DRPostgresTests", dependencies: ["DRPostgres", "DRTestSupport"]),
        .testTarget(name: "DRVerifyTests", dependencies: ["DRVerify", "DRTestSupport"]),
        .testTarget(name: "DRSigV4Tests", dependencies: ["DRSigV4"]),
        .testTarget(name: "DRAWSTests", dependencies: ["DRAWS", "DRTestSupport"]),
        .testTarget(name: "DRProceduresTests", dependencies: ["DRProcedures", "DRAWS", "DRCore", "DRTestSupport"]),
        .testTarget(name: "DRRunbookEngineTests", dependencies: ["DRRunbookEngine", "DRRunbook", "DRTestSupport"]),
        .testTarget(name: "DRRunbookTests", dependencies: ["DRRunbook", "DRRunbookEngine", "DRAWS", "DRTestSupport"]),
        .testTarget(name: "DRDrillTests", dependencies: ["DRDrill", "DRRunbook", "DRRunbookEngine", "DRTestSupport"]),
        .testTarget(name: "DRCLITests", dependencies: ["DRCLI", "DRTestSupport"]),
    ],
    // Linux only (libpq, libcurl, /proc, posix_spawn): no Apple platform is declared.
    swiftLanguageModes: [.v6]
)
