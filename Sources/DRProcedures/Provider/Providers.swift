import DRCore
import Foundation
import Logging

/// Chooses the backend for a target. The one place that switches on the provider.
public enum Providers {
    /// `session`: the AWS session for `rds` targets (default: the standard one from the environment).
    public static func make(for target: Target, logger: Logger = Logger(label: "dr"),
                            drExecutable: String = DRExecutable.path, session: RDSSession? = nil) throws -> RecoveryProvider {
        switch target.provider {
        case .postgres(let settings):
            return SelfHostedProvider(target: target, settings: settings, logger: logger, drExecutable: drExecutable)
        case .rds(let settings):
            return try RDSProvider(target: target, settings: settings, session: session ?? RDSSession.standard(logger: logger), logger: logger)
        }
    }
}
