import DRCore
import Foundation
import Logging

/// What every backend is given once, by the command or the run that makes it: how to wait and
/// report progress, where to log, the clock, where dr keeps its machine-wide state, the one AWS
/// session of the process, and the loaded targets (so a guard can tell a target's database or a
/// failover's destination from a leftover restore).
public struct ProviderContext: Sendable {
    public var wait: WaitSettings
    public var logger: Logger
    public var clock: DRClock
    /// Machine-wide state (failover history, target locks): `$DR_STATE_DIR`, else
    /// `$XDG_STATE_HOME/dr`, else `~/.local/state/dr`.
    public var stateDirectory: String
    /// The `dr` executable a server runs for archive_command and restore_command.
    public var drExecutable: String
    /// Where machine-wide target locks live when they have no better place: `$DR_LOCK_DIR`, else `/tmp/dr-locks`.
    public var lockDirectory: String
    /// Every target of the loaded config (nil when none was loaded).
    public var config: TargetsConfig?
    /// The AWS session, made on first use and shared by every backend and step of the process.
    public var aws: SharedAWSSession

    public init(wait: WaitSettings = WaitSettings(), logger: Logger = Logger(label: "dr"), clock: DRClock = SystemClock(),
                stateDirectory: String = ProviderContext.defaultStateDirectory(), drExecutable: String = DRExecutable.path,
                lockDirectory: String = ProviderContext.defaultLockDirectory(),
                config: TargetsConfig? = nil, aws: SharedAWSSession? = nil) {
        self.wait = wait
        self.logger = logger
        self.clock = clock
        self.stateDirectory = stateDirectory
        self.drExecutable = drExecutable
        self.lockDirectory = lockDirectory
        self.config = config
        self.aws = aws ?? SharedAWSSession(logger: logger)
    }

    /// `$DR_LOCK_DIR`, else `/tmp/dr-locks`: one folder for the whole machine, whatever state directory a command uses.
    public static func defaultLockDirectory(_ env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = env["DR_LOCK_DIR"], !dir.isEmpty { return dir }
        return "/tmp/dr-locks"
    }

    /// `$DR_STATE_DIR`, else `$XDG_STATE_HOME/dr`, else `~/.local/state/dr`.
    public static func defaultStateDirectory(_ env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = env["DR_STATE_DIR"], !dir.isEmpty { return dir }
        if let xdg = env["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/dr" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.local/state/dr"
    }
}

/// The process's AWS session: built on first use from the environment (or given), then the same
/// one for every caller — one credential chain, one connection pool.
public final class SharedAWSSession: Sendable {
    private let make: @Sendable () throws -> RDSSession
    // Guarded by `lock`: the session once made, or nil before the first call.
    private let lock = NSLock()
    nonisolated(unsafe) private var made: RDSSession?

    public init(logger: Logger = Logger(label: "dr.aws")) {
        make = { try RDSSession.standard(logger: logger) }
    }

    /// A fixed session (tests; a caller that built its own).
    public init(_ session: RDSSession) {
        make = { session }
    }

    public func session() throws -> RDSSession {
        try lock.withLock {
            if let made { return made }
            let session = try make()
            made = session
            return session
        }
    }
}
