import CLibPQ
import DRCore
import Foundation

/// An error from PostgreSQL or libpq. `description` never holds the conninfo's password:
/// libpq's own messages do not echo it, and the target is named by host/port/database only.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        case connectionFailed
        case queryFailed
        case timedOut
        case cancelled
        case badConninfo
    }
    public var code: Code
    public var message: String
    /// SQLSTATE, when the server sent one (e.g. `42P01`, `57014` query_canceled).
    public var sqlState: String?
    /// The query that failed, when there was one (queries never hold secrets: values are bound).
    public var query: String?

    public var description: String {
        var s = message.trimmingCharacters(in: .whitespacesAndNewlines)
        if let sqlState { s += " (SQLSTATE \(sqlState))" }
        return s
    }
}

/// One libpq connection. Not shared between threads: each worker opens its own.
///
/// Queries are sent asynchronously and polled, so a deadline can cancel them (`PQcancel`) and
/// every result is drained before the next query — the way pgBackRest's client does it.
public final class PGConnection: @unchecked Sendable {
    private var conn: OpaquePointer?
    /// A short description of the server, safe to print: `host:port/dbname`.
    public let target: String

    /// Opens a connection. `conninfo` is a libpq keyword/value string or a URI; PG* variables,
    /// pgpass and service files apply as libpq defines them.
    public init(conninfo: String, connectTimeout: Int = 10, applicationName: String = "dr") throws {
        Redact.registerPassword(inConninfo: conninfo) // so no output edge shows it, in any encoding
        var options: UnsafeMutablePointer<CChar>? = nil
        guard let parsed = PQconninfoParse(conninfo, &options) else {
            let detail = options.map { String(cString: $0) } ?? "it could not be parsed"
            if let options { PQfreemem(options) }
            throw PostgresError(code: .badConninfo,
                                message: "The connection string is not valid: \(detail.trimmingCharacters(in: .whitespacesAndNewlines)). Use libpq's form, e.g. \"host=127.0.0.1 port=5432 dbname=app user=app\" or \"postgresql://app@127.0.0.1:5432/app\".")
        }
        PQconninfoFree(parsed)

        // Fallbacks apply only where the caller's string and the PG* variables are silent.
        let keys = ["dbname", "connect_timeout", "fallback_application_name"]
        let values = [conninfo, String(connectTimeout), applicationName]
        let c: OpaquePointer? = keys.withCStringArray { k in
            values.withCStringArray { v in PQconnectdbParams(k, v, 1) }
        }
        guard let c else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection.")
        }
        guard PQstatus(c) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(c))
            PQfinish(c)
            throw PostgresError(code: .connectionFailed, message: message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        conn = c
        let host = String(cString: PQhost(c))
        let port = String(cString: PQport(c))
        let db = String(cString: PQdb(c))
        target = host.hasPrefix("/") ? "\(host) port \(port)/\(db)" : "\(host):\(port)/\(db)"
    }

    deinit { close() }

    public func close() {
        if let conn { PQfinish(conn) }
        conn = nil
    }

    /// The server's version number, e.g. 150018.
    public var serverVersion: Int { Int(PQserverVersion(conn)) }

    /// Runs one statement with bound text parameters, and returns its rows as text (nil for NULL).
    /// With a `timeout`, the query is cancelled once it has run that long.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = [], timeout: Double? = nil) throws -> PGResult {
        var result: PGResult?
        try run(sql, parameters, timeout: timeout) { res in result = PGResult(res) }
        return result ?? PGResult(rows: [], columns: [])
    }

    /// Runs one statement like `query`, but hands its rows to `body` one at a time, straight from
    /// libpq's buffer, instead of copying them all into a `PGResult` first: for large catalog
    /// reads that turn each row into something else at once. A `PGRow` is valid only during
    /// the call that receives it. Returns the result's column names.
    @discardableResult
    public func forEachRow(_ sql: String, _ parameters: [String?] = [], timeout: Double? = nil,
                           _ body: (PGRow) throws -> Void) throws -> [String] {
        var columns: [String] = []
        var failure: Error?
        try run(sql, parameters, timeout: timeout) { res in
            let ncols = PQnfields(res)
            columns = (0..<ncols).map { String(cString: PQfname(res, $0)) }
            do {
                for r in 0..<PQntuples(res) { try body(PGRow(res: res, row: r, columns: columns)) }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return columns
    }

    /// Runs statements without parameters through the simple query protocol, which takes
    /// several `;`-separated statements in one round trip (`COMMIT; BEGIN ...; SET ...`).
    /// Every statement's result is drained; the first error is thrown.
    public func execute(_ sql: String, timeout: Double? = nil) throws {
        try run(sql, nil, timeout: timeout) { _ in }
    }

    /// Sends one statement (or, with `parameters` nil, a simple-protocol script), waits for it
    /// (cancelling it at the deadline), passes its first tuple-bearing result to `first` before
    /// clearing it, and drains every other result.
    private func run(_ sql: String, _ parameters: [String?]?, timeout: Double?, first: (OpaquePointer) -> Void) throws {
        guard let conn else { throw PostgresError(code: .connectionFailed, message: "The connection is closed.") }
        let sent: Int32
        if let parameters {
            sent = parameters.withOptionalCStringArray { params in
                PQsendQueryParams(conn, sql, Int32(parameters.count), nil, params, nil, nil, 0)
            }
        } else {
            sent = PQsendQuery(conn, sql)
        }
        guard sent == 1 else {
            throw PostgresError(code: .queryFailed, message: String(cString: PQerrorMessage(conn)), query: sql)
        }
        try waitForResult(timeout: timeout, sql: sql)

        var seen = false
        var failure: PostgresError?
        while let res = PQgetResult(conn) {
            defer { PQclear(res) }
            switch PQresultStatus(res) {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                if !seen, failure == nil { first(res) }
                seen = true
            default:
                if failure == nil {
                    let state = PQresultErrorField(res, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
                    let message = String(cString: PQresultErrorMessage(res))
                    let code: PostgresError.Code = state == "57014" ? .cancelled : .queryFailed
                    failure = PostgresError(code: code, message: message, sqlState: state, query: sql)
                }
            }
            // A script's later results may still be on their way: wait for them within the same limit.
            if PQisBusy(conn) == 1 { try waitForResult(timeout: timeout, sql: sql) }
        }
        if let failure { throw failure }
    }

    /// How long the server gets to act on a cancel request before the connection is given up.
    static let cancelGrace: Double = 5

    /// Waits on the socket until the whole result is in, for at most the time left before the
    /// deadline (monotonic clock; no deadline: as long as it takes, woken by the server's answer,
    /// including the error a cancel from another thread produces). At the deadline the query is
    /// cancelled; when the cancel request fails, or the server does not act on it within
    /// `cancelGrace`, the connection is closed, so nothing keeps running unseen.
    private func waitForResult(timeout: Double?, sql: String) throws {
        guard let conn else { return }
        let deadline = timeout.map { Monotonic.now() + $0 }
        while true {
            guard PQconsumeInput(conn) == 1 else {
                throw PostgresError(code: .connectionFailed, message: String(cString: PQerrorMessage(conn)), query: sql)
            }
            if PQisBusy(conn) == 0 { return }
            var wait: Int32 = -1
            if let deadline {
                let left = deadline - Monotonic.now()
                if left <= 0 { try cancelAtDeadline(timeout ?? 0, sql: sql) }
                wait = Int32(min(left * 1000 + 1, Double(Int32.max)))
            }
            try waitReadable(conn, milliseconds: wait, sql: sql)
        }
    }

    /// Cancels the running query at its deadline and drains what it returns, so the connection
    /// stays usable; then throws `.timedOut`.
    private func cancelAtDeadline(_ timeout: Double, sql: String) throws -> Never {
        guard let conn else { throw PostgresError(code: .connectionFailed, message: "The connection is closed.", query: sql) }
        let timedOut = PostgresError(code: .timedOut, message: "The query did not finish within \(DurationText.format(timeout)) and was cancelled.", query: sql)
        if let failure = cancel() {
            close()
            throw PostgresError(code: .timedOut, message: "The query did not finish within \(DurationText.format(timeout)), and cancelling it failed (\(failure)); the connection was closed.", query: sql)
        }
        let grace = Monotonic.now() + Self.cancelGrace
        while PQconsumeInput(conn) == 1 {
            if PQisBusy(conn) == 0 {
                while let res = PQgetResult(conn) {
                    PQclear(res)
                    if PQisBusy(conn) == 1 { break }
                }
                if PQisBusy(conn) == 0 { throw timedOut }
                continue
            }
            let left = grace - Monotonic.now()
            guard left > 0 else { break }
            try waitReadable(conn, milliseconds: Int32(left * 1000 + 1), sql: sql)
        }
        close()
        throw PostgresError(code: .timedOut, message: "The query did not finish within \(DurationText.format(timeout)) and the server did not act on the cancel request within \(DurationText.format(Self.cancelGrace)); the connection was closed.", query: sql)
    }

    private func waitReadable(_ conn: OpaquePointer, milliseconds: Int32, sql: String) throws {
        var fds = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
        if poll(&fds, 1, milliseconds) < 0, errno != EINTR {
            throw PostgresError(code: .connectionFailed, message: "Waiting for the server failed: \(String(cString: strerror(errno))).", query: sql)
        }
    }

    /// Asks the server to cancel the query now running on this connection. Returns libpq's
    /// reason when the request could not be sent, nil when it was.
    @discardableResult
    public func cancel() -> String? {
        guard let conn, let handle = PQgetCancel(conn) else { return "the connection is closed" }
        defer { PQfreeCancel(handle) }
        var buffer = [CChar](repeating: 0, count: 256)
        guard PQcancel(handle, &buffer, Int32(buffer.count)) == 1 else { return cancelFailure(buffer) }
        return nil
    }

    /// A handle that cancels whatever query runs on this connection, usable from any thread
    /// (e.g. a Ctrl-C handler) while another thread waits on the connection. Made up front,
    /// because `PQgetCancel` itself must not race with the thread using the connection.
    public func makeCanceller() -> PGCanceller? {
        guard let conn, let handle = PQgetCancel(conn) else { return nil }
        return PGCanceller(handle)
    }

    /// Quotes a string literal with libpq's own rules (`'it''s'`), for the few statements that
    /// take no bound parameters (`SET TRANSACTION SNAPSHOT`).
    public func quoteLiteral(_ value: String) throws -> String {
        guard let conn else { throw PostgresError(code: .connectionFailed, message: "The connection is closed.") }
        guard let q = PQescapeLiteral(conn, value, value.utf8.count) else {
            throw PostgresError(code: .queryFailed, message: String(cString: PQerrorMessage(conn)))
        }
        defer { PQfreemem(q) }
        return String(cString: q)
    }

    /// Quotes an identifier with libpq's own rules (`"My Table"`).
    public func quoteIdentifier(_ name: String) throws -> String {
        guard let conn else { throw PostgresError(code: .connectionFailed, message: "The connection is closed.") }
        guard let q = PQescapeIdentifier(conn, name, name.utf8.count) else {
            throw PostgresError(code: .queryFailed, message: String(cString: PQerrorMessage(conn)))
        }
        defer { PQfreemem(q) }
        return String(cString: q)
    }
}

/// Cancels the query running on one connection; safe to call from any thread, any number of times.
public final class PGCanceller: @unchecked Sendable {
    private let handle: OpaquePointer
    private let lock = NSLock()

    init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { PQfreeCancel(handle) }

    /// Sends the cancel request. Returns libpq's reason when it could not be sent, nil when it was.
    @discardableResult
    public func cancel() -> String? {
        lock.withLock {
            var buffer = [CChar](repeating: 0, count: 256)
            guard PQcancel(handle, &buffer, Int32(buffer.count)) == 1 else { return cancelFailure(buffer) }
            return nil
        }
    }
}

/// libpq's reason a cancel request failed, from its error buffer.
func cancelFailure(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A monotonic clock for deadlines: wall-clock jumps neither shorten nor stretch a wait.
enum Monotonic {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// A query result, copied out of libpq as text.
public struct PGResult: Sendable {
    public var columns: [String]
    public var rows: [[String?]]

    init(rows: [[String?]], columns: [String]) {
        self.rows = rows
        self.columns = columns
    }

    init(_ res: OpaquePointer) {
        let nrows = PQntuples(res), ncols = PQnfields(res)
        let columns: [String] = (0..<ncols).map { String(cString: PQfname(res, $0)) }
        var rows: [[String?]] = []
        rows.reserveCapacity(Int(nrows))
        for r in 0..<nrows {
            let row = PGRow(res: res, row: r, columns: columns)
            rows.append((0..<row.count).map { row[$0] })
        }
        self.columns = columns
        self.rows = rows
    }

    /// The first column of the first row, if any.
    public var scalar: String? { rows.first?.first ?? nil }
}

/// One row of a result, read in place from libpq's buffer (see `PGConnection.forEachRow`).
public struct PGRow {
    private let res: OpaquePointer
    private let row: Int32
    /// The result's column names.
    public let columns: [String]
    /// The number of columns.
    public var count: Int { columns.count }

    init(res: OpaquePointer, row: Int32, columns: [String]) {
        self.res = res
        self.row = row
        self.columns = columns
    }

    /// Column `column` as text, nil for NULL.
    public subscript(column: Int) -> String? {
        let c = Int32(column)
        if PQgetisnull(res, row, c) == 1 { return nil }
        let len = Int(PQgetlength(res, row, c))
        let ptr = PQgetvalue(res, row, c)!
        return ptr.withMemoryRebound(to: UInt8.self, capacity: len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
        }
    }

    /// True when column `column` is NULL or the empty string (without copying the text out).
    public func isNullOrEmpty(_ column: Int) -> Bool {
        let c = Int32(column)
        return PQgetisnull(res, row, c) == 1 || PQgetlength(res, row, c) == 0
    }
}

extension Array where Element == String {
    /// Calls `body` with a NULL-terminated C array of the strings.
    func withCStringArray<R>(_ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
}

extension Array where Element == String? {
    func withOptionalCStringArray<R>(_ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let copies = map { $0.map { strdup($0) } }
        defer { copies.forEach { if let p = $0 { free(p) } } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0!) } ?? nil }
        if pointers.isEmpty { return body(nil) }
        return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
}
