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

    func run(_ request: CopyRequest) async throws -> CopyResult {
        let settings = provider.settings, name = provider.target.name
        let started = provider.session.clock.now()
        let destination = try provider.drRegion(request.toRegion, option: "--to-region")
        guard destination != settings.region else {
            throw DRError.badInput("--to-region \(destination) is the target's own region; a DR copy must go to another region (dr_region of \(name) is \(settings.drRegion ?? "unset")). Nothing was changed.")
        }
        if let id = request.snapshot, id != "latest" {
            try RDSNames.checkSnapshotIdentifier(id.hasPrefix("rds:") ? String(id.dropFirst(4)) : id, option: "--snapshot", cluster: provider.isCluster)
        }
        let sourceStore = try provider.store(settings.region)
        let source = try await chooseSource(request.snapshot, in: sourceStore)
        let kmsKey = source.encrypted ? try await drKey(in: destination) : nil

        let destinationStore = try provider.store(destination)
        let copyId = RDSNames.copyName(of: source.id, cluster: provider.isCluster)
        let tags = DRTags.make(kind: Self.kind, target: name, extra: DRTags.carried(source.tags),
                               more: [DRTags.copiedFrom: source.arn ?? source.id, "dr:source-kind": source.tag(DRTags.kind) ?? "automated"])
        var created = false
        if let existing = try await destinationStore.find(copyId) {
            guard DRTags.isManaged(existing.tags, target: name, kind: Self.kind) else {
                throw DRError.badInput("A \(destinationStore.noun) named \(copyId) already exists in \(destination) but dr did not copy it there for \(name). dr will not adopt it; rename or delete it. Nothing was changed.")
            }
        } else {
            provider.logger.info("copying snapshot", metadata: ["snapshot": "\(source.id)", "to_region": "\(destination)",
                                                                "encrypted": "\(source.encrypted)"])
            let sourceEndpoint = try provider.session.clientConfig(.rds, region: settings.region).endpoint
            let copy = RDSCopySnapshot(source: source.arn ?? source.id, target: copyId, kmsKeyId: kmsKey, copyTags: false, tags: tags,
                                       sourceRegion: source.encrypted ? settings.region : nil, sourceEndpoint: sourceEndpoint)
            do {
                try await destinationStore.copy(copy)
                created = true
            } catch let e as AWSError where e.code.contains("AlreadyExists") {
                created = true // an earlier attempt of this call went through before its answer was lost
            }
        }
        try await destinationStore.waitAvailable(copyId, provider.wait)
        if let copied = try await destinationStore.find(copyId) { try await destinationStore.ensureTags(copied, tags) }

        var deleted: [String] = []
        if let keep = settings.retentionDRRegion {
            let doomed = RDSRetention.toDelete(try await destinationStore.list(of: nil), target: name, kind: Self.kind, keep: keep, justMade: copyId)
            for s in doomed {
                provider.logger.info("retention: deleting DR copy", metadata: ["snapshot": "\(s.id)", "region": "\(destination)"])
                try await destinationStore.delete(s.id)
            }
            deleted = doomed.map(\.id)
        }
        var details = ["source": source.id, "source_region": settings.region, "copy": copyId, "encrypted": String(source.encrypted)]
        details["kms_key_id"] = kmsKey
        return CopyResult(target: name, destination: destination, copied: created ? [copyId] : [], alreadyPresent: created ? 0 : 1,
                          bytesCopied: 0, seconds: provider.session.clock.now().timeIntervalSince(started), deleted: deleted, details: details)
    }

    /// The named snapshot, or for `latest`/nil the newest finished one by creation time (never by name).
    func chooseSource(_ requested: String?, in store: SnapshotStore) async throws -> RDSSnapshotInfo {
        if let id = requested, id != "latest" {
            guard let found = try await store.find(id) else {
                throw DRError.badInput("There is no \(store.noun) \(id) in \(store.region). `dr status \(provider.target.name)` lists the snapshots; or use --snapshot latest. Nothing was changed.")
            }
            guard found.isAvailable else {
                throw DRError.badInput("\(store.noun) \(id) in \(store.region) is \(found.status ?? "not finished"), not available; copy it once it has finished. Nothing was changed.")
            }
            return found
        }
        let finished = try await store.list(of: provider.resource).filter(\.isAvailable)
        guard let newest = finished.max(by: { ($0.createdAt ?? .distantPast) < ($1.createdAt ?? .distantPast) }) else {
            throw DRError.badInput("\(provider.resourceNoun) \(provider.resource) has no finished snapshot in \(store.region) to copy. Take one with `dr snapshot \(provider.target.name)`. Nothing was changed.")
        }
        return newest
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
