import DRAWS
import DRCore
import Foundation

/// `dr copy TARGET [--snapshot ID|latest] [--to-region R]`: copies a DB snapshot to the DR
/// region under the same name, re-encrypting with the DR key (and presigning the request for
/// the source region) when the snapshot is encrypted, carrying its tags, waiting for it, and
/// applying DR-region retention.
struct RDSCopyProcedure {
    let provider: RDSProvider
    static let kind = "dr-copy"

    struct Decision {
        var destination: String
        var source: RDSSnapshotInfo
        var kmsKey: String?
        var copyId: String
        var tags: [AWSTag]
        var exists: Bool
        var retention: [RDSSnapshotInfo]
        var startedAt: Date

        func plan(_ provider: RDSProvider) -> [PlannedAction] {
            let noun = provider.isCluster ? "DBCluster" : "DB"
            var out: [PlannedAction] = [
                .read("read \(provider.target.name)'s snapshots in \(provider.settings.region) and \(destination)", call: "rds:Describe\(noun)Snapshots"),
            ]
            if kmsKey != nil { out.append(.read("check the DR key \(provider.settings.drKMSKeyID ?? "") in \(destination)", call: "kms:DescribeKey")) }
            if exists {
                out.append(.read("reuse the copy \(copyId) already in \(destination)"))
            } else {
                out.append(.change("copy \(source.id) to \(destination) as \(copyId)\(kmsKey.map { ", re-encrypted with \($0)" } ?? "")",
                                   call: "rds:Copy\(noun)Snapshot"))
            }
            out.append(.read("wait until \(copyId) is available in \(destination)", call: "rds:Describe\(noun)Snapshots"))
            out.append(.change("tag \(copyId) with dr's tags", call: "rds:AddTagsToResource", when: "only if a tag is missing"))
            for doomed in retention {
                out.append(.change("DR retention (keep \(provider.settings.retentionDRRegion ?? 0)): delete \(doomed.id) in \(destination)",
                                   call: "rds:Delete\(noun)Snapshot"))
            }
            return out
        }
    }

    func decide(_ request: CopyRequest) async throws -> Decision {
        let settings = provider.settings, name = provider.target.name
        let started = provider.context.clock.now()
        let destination = try provider.drRegion(request.toRegion, parameter: .toRegion)
        guard destination != settings.region else {
            throw DRError(.invalidParameter, "\(param: .toRegion) \(destination) is the target's own region; a DR copy must go to another region (dr_region of \(name) is \(settings.drRegion ?? "unset")). Nothing was changed.")
        }
        if let id = request.snapshot, id != "latest" {
            try RDSNames.checkSnapshotIdentifier(id.hasPrefix("rds:") ? String(id.dropFirst(4)) : id, parameter: .snapshot, cluster: provider.isCluster)
        }
        let identity = try await provider.identity(try provider.session.rds(settings.region))
        let source = try await chooseSource(request, in: try provider.store(settings.region), identity: identity)
        let kmsKey = source.encrypted ? try await drKey(in: destination) : nil
        let destinationStore = try provider.store(destination)
        let copyId = RDSNames.copyName(of: source.id, cluster: provider.isCluster)
        let tags = DRTags.make(kind: Self.kind, target: name, extra: DRTags.carried(source.tags),
                               more: [DRTags.copiedFrom: source.arn ?? source.id, "dr:source-kind": source.tag(DRTags.kind) ?? "automated",
                                      DRTags.sourceID: source.tag(DRTags.sourceID) ?? identity?.tag ?? "?"])
        let existing = try await destinationStore.find(copyId)
        if let existing, !DRTags.isManaged(existing.tags, target: name, kind: Self.kind) {
            throw DRError(.protected, "A \(destinationStore.noun) named \(copyId) already exists in \(destination) but dr did not copy it there for \(name). dr will not adopt it; rename or delete it. Nothing was changed.")
        }
        var retention: [RDSSnapshotInfo] = []
        if let keep = settings.retentionDRRegion {
            let listed = try await destinationStore.list(of: nil).filter { provider.belongs($0, to: identity) }
            let withNew = existing == nil ? listed + [RDSSnapshotProcedure.pending(copyId, tags: tags)] : listed
            retention = RDSRetention.toDelete(withNew, target: name, kind: Self.kind, keep: keep, justMade: copyId)
        }
        return Decision(destination: destination, source: source, kmsKey: kmsKey, copyId: copyId, tags: tags,
                        exists: existing != nil, retention: retention, startedAt: started)
    }

    func execute(_ d: Decision) async throws -> CopyResult {
        let settings = provider.settings
        let destinationStore = try provider.store(d.destination)
        var created = false
        if !d.exists {
            provider.logger.info("copying snapshot", metadata: ["snapshot": "\(d.source.id)", "to_region": "\(d.destination)",
                                                                "encrypted": "\(d.source.encrypted)"])
            let sourceEndpoint = try provider.session.clientConfig(.rds, region: settings.region).endpoint
            let copy = RDSCopySnapshot(source: d.source.arn ?? d.source.id, target: d.copyId, kmsKeyId: d.kmsKey, copyTags: false, tags: d.tags,
                                       sourceRegion: d.source.encrypted ? settings.region : nil, sourceEndpoint: sourceEndpoint)
            do {
                try await destinationStore.copy(copy)
                created = true
            } catch let e as AWSError where e.code.contains("AlreadyExists") {
                created = true // an earlier attempt of this call went through before its answer was lost
            }
        }
        try await destinationStore.waitAvailable(d.copyId, provider.wait)
        if let copied = try await destinationStore.find(d.copyId) { try await destinationStore.ensureTags(copied, d.tags) }
        for s in d.retention {
            provider.logger.info("retention: deleting DR copy", metadata: ["snapshot": "\(s.id)", "region": "\(d.destination)"])
            try await destinationStore.delete(s.id)
        }
        var display = ["source": d.source.id, "source_region": settings.region, "encrypted": String(d.source.encrypted)]
        display["kms_key_id"] = d.kmsKey
        return CopyResult(target: provider.target.name, destination: d.destination, copy: d.copyId, copied: created ? [d.copyId] : [],
                          alreadyPresent: created ? 0 : 1, bytesCopied: 0,
                          seconds: provider.context.clock.now().timeIntervalSince(d.startedAt), deleted: d.retention.map(\.id), display: display)
    }

    /// The named snapshot, or for `latest`/nil the newest finished one by creation time (never by name).
    func chooseSource(_ request: CopyRequest, in store: SnapshotStore, identity: RDSIdentity?) async throws -> RDSSnapshotInfo {
        if let id = request.snapshot, id != "latest" {
            if request.upcoming, try await store.find(id) == nil { return try await upcoming(id, in: store, identity: identity) }
            guard let found = try await store.find(id) else {
                throw DRError(.notFound, "There is no \(store.noun) \(id) in \(store.region). `dr status \(provider.target.name)` lists the snapshots; or give \(param: .snapshot) latest. Nothing was changed.")
            }
            try provider.checkBelongs(found, to: identity, region: store.region)
            guard found.isAvailable else {
                throw DRError(.invalidParameter, "\(store.noun) \(id) in \(store.region) is \(found.status ?? "not finished"), not available; copy it once it has finished. Nothing was changed.")
            }
            return found
        }
        let finished = try await store.list(of: provider.resource).filter { $0.isAvailable && provider.belongs($0, to: identity) }
        guard let newest = finished.max(by: { ($0.createdAt ?? .distantPast) < ($1.createdAt ?? .distantPast) }) else {
            throw DRError.badInput("\(provider.resourceNoun) \(provider.resource) has no finished snapshot in \(store.region) to copy. Take one with `dr snapshot \(provider.target.name)`. Nothing was changed.")
        }
        return newest
    }

    /// The snapshot an earlier step will make of the source: encrypted as the source is.
    func upcoming(_ id: String, in store: SnapshotStore, identity: RDSIdentity?) async throws -> RDSSnapshotInfo {
        let rds = store.rds
        let encrypted: Bool
        if provider.isCluster {
            encrypted = try await rds.dbCluster(provider.resource)?.storageEncrypted ?? false
        } else {
            encrypted = try await rds.dbInstance(provider.resource)?.storageEncrypted ?? false
        }
        return RDSSnapshotInfo(id: id, arn: nil, status: "creating", createdAt: nil, encrypted: encrypted, kmsKeyId: nil,
                               source: provider.resource, tags: identity.map { [AWSTag(DRTags.sourceID, $0.tag)] } ?? [])
    }

    /// The target's DR key, which must exist in the DR region (checked with DescribeKey).
    func drKey(in region: String) async throws -> String {
        guard let key = provider.settings.drKMSKeyID else {
            throw DRError.badInput("The snapshot is encrypted, so its copy in \(region) must be re-encrypted with a key of that region, but target \(provider.target.name) has no `dr_kms_key_id:`. Add e.g. `dr_kms_key_id: alias/dr-backups` to it in dr.yml. Nothing was changed.")
        }
        do {
            let meta = try await provider.session.kms(region).describeKey(key)
            if meta.enabled == false || (meta.keyState.map { $0 != "Enabled" } ?? false) {
                throw DRError.badInput("The DR key \(key) in \(region) is \(meta.keyState ?? "disabled"); enable it or set another `dr_kms_key_id:`. Nothing was changed.")
            }
            return meta.arn ?? key
        } catch let e as AWSError where e.isNotFound {
            throw DRError.badInput("The DR key \(key) (dr_kms_key_id of \(provider.target.name)) does not exist in \(region) (\(e.code)). Create it there or fix `dr_kms_key_id:`. Nothing was changed.")
        }
    }
}
