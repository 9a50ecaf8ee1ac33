import DRCore
import Foundation

/// A pgbackrest target, like a native one, has no Secrets Manager secret, no cache and no application tier.
extension PgBackRestProvider {
    func noStack() -> DRError {
        DRError(.invalidParameter, "\(target.name) is a provider pgbackrest (self-hosted) target: it has no Secrets Manager secret and no cache to repoint, restore or remove; clients find a restore through its service-file entry (`dr failover`). Nothing was changed.")
    }

    public func repointSecret(_ request: SecretRepointRequest) async throws -> SecretRepointResult { throw noStack() }
    public func restoreCache(_ request: CacheRestoreRequest) async throws -> CacheRestoreResult { throw noStack() }
    public func teardownSecretCopy(_ request: StackTeardownRequest) async throws -> TeardownResult { throw noStack() }
    public func teardownCache(_ request: StackTeardownRequest) async throws -> TeardownResult { throw noStack() }
    public func appScale(_ request: AppScaleRequest) async throws -> AppScaleResult { throw AppTier.noApplication(target) }
    public func appRollback(_ request: AppRollbackRequest) async throws -> AppRollbackResult { throw AppTier.noApplication(target) }
}
