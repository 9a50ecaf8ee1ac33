import DRCore
import Foundation

/// What the credential providers talk to: HTTP (container and instance metadata), child
/// processes (`credential_process`), STS (role assumption) and the clock. Tests pass a local
/// HTTP transport, a fake `RoleAssuming` and a `ManualClock`.
public struct CredentialServices: Sendable {
    public var transport: any HTTPTransport
    public var processRunner: any ProcessRunning
    /// nil until an STS client is available: role profiles and web identity then fail clearly.
    public var roleAssumer: (any RoleAssuming)?
    public var clock: any DRClock

    public init(transport: any HTTPTransport, processRunner: any ProcessRunning = SystemProcessRunner(),
                roleAssumer: (any RoleAssuming)?, clock: any DRClock = SystemClock()) {
        self.transport = transport
        self.processRunner = processRunner
        self.roleAssumer = roleAssumer
        self.clock = clock
    }
}
