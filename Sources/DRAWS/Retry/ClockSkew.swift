import Foundation

/// The offset between our clock and the services', learnt from a skew error's `Date` header.
/// Shared by the calls of one client; requests are signed with `now + offset`.
final class ClockSkew: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: Double = 0
    /// Differences below this are noise, not skew (the services allow 5 minutes; the SDKs react from 4).
    static let threshold: Double = 240

    var current: Double { lock.withLock { offset } }

    /// Learns the skew from a response's `Date` header. True when it changed enough to re-sign.
    func learn(serverDate header: String?, localNow: Date) -> Bool {
        guard let header, let server = Self.parseHTTPDate(header) else { return false }
        let skew = server.timeIntervalSince(localNow)
        return lock.withLock {
            guard abs(skew - offset) >= Self.threshold else { return false }
            offset = skew
            return true
        }
    }

    /// RFC 7231 `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func parseHTTPDate(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: text)
    }
}
