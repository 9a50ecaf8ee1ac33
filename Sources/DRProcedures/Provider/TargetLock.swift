import DRCore
import Foundation

/// Takes a target's machine-wide lock for one command: held until released (or the process dies).
public enum TargetLock {
    public static func take(_ provider: RecoveryProvider, by holder: String, clock: DRClock = SystemClock()) throws -> LockFile {
        try LockFile.acquire(provider.lockPath, owner: LockFile.Owner(pid: getpid(), startedAt: RFC3339.format(clock.now()), runID: holder),
                             what: "Target '\(provider.target.name)'")
    }
}
