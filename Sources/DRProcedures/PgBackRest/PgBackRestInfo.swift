import DRCore
import Foundation

/// One stanza of `pgbackrest info --output=json` (pgBackRest 2.45), as far as dr reads it.
struct PgBackRestInfo: Decodable, Equatable {
    struct Status: Decodable, Equatable {
        var code: Int
        var message: String
    }
    struct RepoRef: Decodable, Equatable {
        var repoKey: Int
        enum CodingKeys: String, CodingKey { case repoKey = "repo-key" }
    }
    struct Archive: Decodable, Equatable {
        var database: RepoRef
        var id: String
        var min: String?
        var max: String?
    }
    struct Backup: Decodable, Equatable {
        struct Timestamp: Decodable, Equatable { var start: Int64; var stop: Int64 }
        struct Sizes: Decodable, Equatable {
            struct Repository: Decodable, Equatable { var size: Int64?; var delta: Int64? }
            var size: Int64?
            var repository: Repository?
        }
        struct WAL: Decodable, Equatable { var start: String?; var stop: String? }
        var label: String
        var type: String
        var annotation: [String: String]?
        var database: RepoRef
        var error: Bool?
        var info: Sizes?
        var archive: WAL?
        var reference: [String]?
        var timestamp: Timestamp
        var startedAt: Date { Date(timeIntervalSince1970: Double(timestamp.start)) }
        var stoppedAt: Date { Date(timeIntervalSince1970: Double(timestamp.stop)) }
    }
    struct Repo: Decodable, Equatable {
        var key: Int
        var cipher: String?
        var status: Status
    }
    struct DB: Decodable, Equatable {
        var version: String
        var repoKey: Int
        enum CodingKeys: String, CodingKey { case version, repoKey = "repo-key" }
    }

    var name: String
    var status: Status
    var backup: [Backup]
    var archive: [Archive]
    var repo: [Repo]
    var db: [DB]

    enum CodingKeys: String, CodingKey { case name, status, backup, archive, repo, db }
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        status = try c.decode(Status.self, forKey: .status)
        backup = try c.decodeIfPresent([Backup].self, forKey: .backup) ?? []
        archive = try c.decodeIfPresent([Archive].self, forKey: .archive) ?? []
        repo = try c.decodeIfPresent([Repo].self, forKey: .repo) ?? []
        db = try c.decodeIfPresent([DB].self, forKey: .db) ?? []
    }

    /// The complete backup sets in `repo`, oldest first.
    func sets(repo: Int) -> [Backup] {
        backup.filter { $0.database.repoKey == repo && $0.error != true }.sorted { $0.timestamp.stop < $1.timestamp.stop }
    }

    /// The WAL range archived in `repo` (the newest database's).
    func walRange(repo: Int) -> (min: String, max: String)? {
        guard let a = archive.last(where: { $0.database.repoKey == repo }), let lo = a.min, let hi = a.max else { return nil }
        return (lo, hi)
    }
}

/// dr's annotations on the backups it takes, and the decisions made from them (pure logic).
enum PgBackRestSets {
    static let targetKey = "dr-target"
    static let weekKey = "dr-week"
    static let kindKey = "dr-kind"

    /// `--annotation` options for a backup dr takes.
    static func annotations(target: String, week: String?) -> [String] {
        var out = ["--annotation=\(targetKey)=\(target)", "--annotation=\(kindKey)=\(week == nil ? "adhoc" : "weekly")"]
        if let week { out.append("--annotation=\(weekKey)=\(week)") }
        return out
    }

    static func isWeekly(_ b: PgBackRestInfo.Backup, target: String) -> Bool {
        b.annotation?[targetKey] == target && b.annotation?[weekKey] != nil
    }

    /// This target's weekly set of `week`, if dr took it already.
    static func weekly(_ sets: [PgBackRestInfo.Backup], target: String, week: String) -> PgBackRestInfo.Backup? {
        sets.last { isWeekly($0, target: target) && $0.annotation?[weekKey] == week && $0.type == "full" }
    }

    /// The weekly sets retention expires: dr's weekly sets beyond the `keep` newest (counting
    /// `adding`, a weekly set about to be taken), never the newest set of the repository nor a
    /// set the newest depends on, never a set dr did not annotate as weekly.
    static func doomed(_ sets: [PgBackRestInfo.Backup], target: String, keep: Int?, adding: Bool) -> [String] {
        guard let keep else { return [] }
        let weekly = sets.filter { isWeekly($0, target: target) }
        let keepOld = max(0, keep - (adding ? 1 : 0))
        let excess = weekly.dropLast(keepOld)
        guard let newest = sets.last else { return [] }
        let protected = Set([newest.label] + (newest.reference ?? []))
        return excess.map(\.label).filter { !protected.contains($0) }
    }

    /// The set a restore to `time` starts from: the newest that ended before it.
    static func set(for time: Date, in sets: [PgBackRestInfo.Backup]) -> PgBackRestInfo.Backup? {
        sets.last { $0.stoppedAt < time }
    }
}
