import DRAWS
import DRCore
import Foundation
import Logging

/// `dr teardown --instance ID [--region R]`: deletes a DB instance only when `dr` made it
/// (`dr:managed=true` and a `dr:restored-from` tag), without a final snapshot (a drill or
/// recovery copy has nothing worth keeping that its source does not hold); refuses anything
/// else with exit 2. A re-run after success finds nothing and says so.
public struct RDSTeardown: Sendable {
    let session: RDSSession
    let wait: WaitSettings
    let logger: Logger

    public init(session: RDSSession, wait: WaitSettings = WaitSettings(), logger: Logger = Logger(label: "dr")) {
        self.session = session
        self.wait = wait
        self.logger = logger
    }

    public func run(instance id: String, region: String) async throws -> TeardownResult {
        try await RDSProvider.translatingErrors {
            try RDSNames.checkInstanceIdentifier(id, option: "--instance")
            let rds = try session.rds(region)
            guard let instance = try await rds.dbInstance(id) else {
                return TeardownResult(name: id, removed: false, details: ["region": region, "note": "no such DB instance (already deleted)"])
            }
            let tags = try await rds.tags(described: instance.tags, arn: instance.arn)
            guard DRTags.value(DRTags.managed, in: tags) == "true", let from = DRTags.value(DRTags.restoredFrom, in: tags) else {
                throw DRError.badInput("dr will not delete DB instance \(id) in \(region): it does not carry the tags dr puts on what it restores (dr:managed=true and dr:restored-from). dr only tears down instances it made. Nothing was changed.")
            }
            if instance.status != "deleting" {
                logger.info("deleting restored instance", metadata: ["instance": "\(id)", "region": "\(region)", "restored_from": "\(from)"])
                do { _ = try await rds.deleteDBInstance(id, skipFinalSnapshot: true, deleteAutomatedBackups: true) }
                catch let e as AWSError where e.isNotFound {}
                catch let e as AWSError where e.code == "InvalidDBInstanceState" && e.message.lowercased().contains("deleting") {}
            }
            try await wait.run(.delete) { timeout, progress in try await rds.waitForDBInstanceDeleted(id, timeout: timeout, progress: progress) }
            var details = ["region": region, "restored_from": from, "final_snapshot": "none"]
            if let target = DRTags.value(DRTags.target, in: tags) { details["target"] = target }
            if wait.noWait { details["waited"] = "false" }
            return TeardownResult(name: id, removed: true, details: details)
        }
    }
}
