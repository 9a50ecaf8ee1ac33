import Foundation

/// A file PostgreSQL archives: a WAL segment (`000000010000000000000003`), a timeline history
/// file (`00000002.history`), a backup history file (`...03.00000028.backup`) or a partial segment.
struct WalFileName: Hashable, Comparable, CustomStringConvertible {
    enum Kind: Hashable { case segment, history, backupLabel, partial }
    var kind: Kind
    var timeline: UInt32
    /// Segment number (0 for history files).
    var segment: UInt64
    var text: String

    var description: String { text }

    init?(_ name: String) {
        func hex(_ s: Substring) -> UInt64? { s.count > 0 && s.allSatisfy(\.isHexDigit) ? UInt64(s, radix: 16) : nil }
        text = name
        if name.count == 16, name.hasSuffix(".history"), let tli = hex(name.prefix(8)) {
            kind = .history; timeline = UInt32(tli); segment = 0; return
        }
        guard name.count >= 24, let tli = hex(name.prefix(8)), let hi = hex(name.dropFirst(8).prefix(8)),
              let lo = hex(name.dropFirst(16).prefix(8)) else { return nil }
        timeline = UInt32(tli)
        // The segment number across log files; assumes the default 16 MiB segments for naming
        // only when the caller does not say otherwise (see `segmentsPerLogFile`).
        segment = hi << 32 | lo
        let rest = name.dropFirst(24)
        switch rest {
        case "": kind = .segment
        case ".partial": kind = .partial
        default:
            guard rest.hasSuffix(".backup"), rest.count == 16 else { return nil }
            kind = .backupLabel
        }
    }

    /// The name of the segment holding `lsn`, for a server with `segmentSize`-byte segments.
    static func segment(containing lsn: UInt64, timeline: UInt32, segmentSize: UInt64) -> WalFileName {
        make(number: lsn / segmentSize, timeline: timeline, segmentSize: segmentSize)
    }

    /// The segment number → name mapping PostgreSQL uses (`XLogFileName`).
    static func make(number: UInt64, timeline: UInt32, segmentSize: UInt64) -> WalFileName {
        let perLogFile = 0x1_0000_0000 / segmentSize
        let text = String(format: "%08X%08X%08X", timeline, UInt32(number / perLogFile), UInt32(number % perLogFile))
        return WalFileName(text)!
    }

    /// The ordinal of a segment (log file and segment combined), for a given segment size.
    func ordinal(segmentSize: UInt64) -> UInt64 {
        let perLogFile = 0x1_0000_0000 / segmentSize
        return (segment >> 32) * perLogFile + (segment & 0xFFFF_FFFF)
    }

    static func < (a: WalFileName, b: WalFileName) -> Bool { a.text < b.text }
}

/// A log sequence number, `16/B374D848`.
enum LSN {
    static func parse(_ text: String) -> UInt64? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let hi = UInt64(parts[0], radix: 16), let lo = UInt64(parts[1], radix: 16) else { return nil }
        return hi << 32 | lo
    }
    static func format(_ lsn: UInt64) -> String { String(format: "%X/%X", UInt32(lsn >> 32), UInt32(lsn & 0xFFFF_FFFF)) }
}
