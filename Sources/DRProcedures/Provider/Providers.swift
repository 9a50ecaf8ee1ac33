import DRCore
import Foundation
import Logging

/// Chooses the backend for a target. The one place that switches on the provider.
public enum Providers {
    public static func make(for target: Target, logger: Logger = Logger(label: "dr"),
                            drExecutable: String = DRExecutable.path) throws -> RecoveryProvider {
        switch target.provider {
        case .postgres(let settings):
            return SelfHostedProvider(target: target, settings: settings, logger: logger, drExecutable: drExecutable)
        case .rds:
            throw notAvailable(target)
        }
    }

    static func notAvailable(_ target: Target) -> DRError {
        .badInput("This command is not available yet for provider rds (target \(target.name)): the RDS backend has not landed. Nothing was changed. Use a `provider: postgres` target, or wait for the RDS procedures (issue 4).")
    }
}
