import DRCore
import DRPostgres
import Foundation

/// How fresh a restored database's data is: the newest time its data holds, read from a declared
/// query (`verify.freshness_query`, e.g. `SELECT max(created_at) FROM events`), else from
/// PostgreSQL's last replayed commit (what a restore that replayed WAL knows). Read-only.
public enum Freshness {
    public struct Measurement: Sendable, Codable, Equatable {
        /// The newest data found in the restored database.
        public var dataEndsAt: Date?
        /// `freshness_query` (the target's declared query) or `replay` (PostgreSQL's last replayed commit).
        public var source: String
        /// Why there is no time, when there is none.
        public var note: String?
    }

    static let asUTC = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'"

    /// PostgreSQL's last replayed commit on a restored server, in UTC; nil when it replayed none.
    public static func lastReplayedCommit(_ connection: PGConnection) throws -> Date? {
        try connection.query("SELECT to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', \(asUTC))", timeout: 30)
            .scalar.flatMap(RFC3339.parse)
    }

    /// The newest time the data holds: `query`'s one timestamp when given, else the last replayed commit.
    public static func measure(_ connection: PGConnection, query: String?) -> Measurement {
        guard let query else {
            let at = (try? lastReplayedCommit(connection)) ?? nil
            return Measurement(dataEndsAt: at, source: "replay", note: at == nil
                ? "the restored server reports no replayed commit (it was restored without replaying WAL, or the WAL it replayed held no commit); declare verify.freshness_query for this target"
                : nil)
        }
        do {
            // The declared query returns one timestamp; wrapped so it comes back as RFC 3339 UTC.
            _ = try connection.query("SET TimeZone = 'UTC'")
            let wrapped = "SELECT to_char((q.v)::timestamptz AT TIME ZONE 'UTC', \(asUTC)) FROM (\(query)) AS q(v)"
            let at = try connection.query(wrapped, timeout: 60).scalar.flatMap(RFC3339.parse)
            return Measurement(dataEndsAt: at, source: "freshness_query", note: at == nil ? "the freshness query returned no time" : nil)
        } catch {
            return Measurement(dataEndsAt: nil, source: "freshness_query", note: "the freshness query failed: \(Redact.conninfo("\(error)"))")
        }
    }
}
