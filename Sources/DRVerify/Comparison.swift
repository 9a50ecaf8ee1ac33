/// The sequence properties the comparison reads.
enum SequenceRule {
    static let lastValue = "last_value"
    /// The values PostgreSQL logs ahead of use (`SEQ_LOG_VALS` in sequence.c): WAL records a
    /// sequence this many increments past the last value handed out, so a restore that replays
    /// WAL (physical restore, crash recovery) can leave it up to this many increments ahead.
    static let preLogged: Int64 = 32

    /// The table of an `owned_by` column (`schema.table.column`, each part quoted as needed):
    /// everything before the last dot outside double quotes.
    static func ownerTable(_ ownedBy: String) -> String? {
        var quoted = false, lastDot: String.Index?
        for i in ownedBy.indices {
            switch ownedBy[i] {
            case "\"": quoted.toggle()
            case "." where !quoted: lastDot = i
            default: break
            }
        }
        return lastDot.map { String(ownedBy[..<$0]) }
    }
}

/// Compares a database's manifest with the reference's. Pure: no I/O, so every rule is unit-testable.
///
/// Objects are matched by exact name within their kind (roles renamed by `roles` first; only
/// the roles the reference names are looked for);
/// properties are compared as text. A table's row count passes by the tolerance; an unlogged
/// table found empty is accepted (a physical restore empties it); a sequence passes when it is
/// not behind the reference and, with `rows: exact`, not ahead by more than the 32 values
/// PostgreSQL logs ahead (within them it is accepted); an unlogged sequence (PostgreSQL 15 makes
/// those of unlogged tables unlogged) found reset to its start is accepted, as its table's
/// emptying is, unless it belongs to a permanent table (whose rows its next values would collide
/// with); with `contents`, every table's content checksum must match but for the tables left out.
public struct Comparison: Sendable {
    public var findings: [Finding] = []
    public var checked: [CheckedObject] = []

    public init(expected: Manifest, found: Manifest, rows: RowTolerance, roles: RoleMap = RoleMap(), contents: Bool = false) {
        // A format-1 reference holds no owners or privileges: compare what it holds.
        let comparable = expected.version < 2 ? found.limitedToFormatOne() : found
        let (expected, found) = roles.isEmpty ? (expected, comparable)
                                              : (RoleMapping.apply(roles, to: expected), RoleMapping.apply(RoleMap(), to: comparable))
        var vanishedTables = Set<String>()
        let unloggedTables = expected.unloggedTables.union(found.unloggedTables)
        for kind in ObjectKind.allCases {
            let e = expected.objects(kind), f = found.objects(kind)
            // Roles: those the reference names, each of which the database checked must have
            // with the same memberships; the other roles of its cluster are none of its business.
            let names = kind == .role ? Set(e.keys) : Set(e.keys).union(f.keys)
            for name in names.sorted() {
                checked.append(CheckedObject(kind: kind, name: name))
                switch (e[name], f[name]) {
                case let (want?, have?):
                    compareProperties(kind: kind, name: name, expected: want, found: have, rows: rows,
                                      unloggedTables: unloggedTables)
                case let (want?, nil):
                    if kind == .table { vanishedTables.insert(name) }
                    if kind.belongsToTable, let table = want["table"], vanishedTables.contains(table) { continue }
                    findings.append(Finding(kind: kind, name: name, difference: .missing, expected: "present", found: "absent"))
                case let (nil, have?):
                    if kind == .table { vanishedTables.insert(name) }
                    if kind.belongsToTable, let table = have["table"], vanishedTables.contains(table) { continue }
                    findings.append(Finding(kind: kind, name: name, difference: .unexpected, expected: "absent", found: "present"))
                case (nil, nil):
                    break
                }
            }
        }
        let emptied = compareRowCounts(expected: expected, found: found, rows: rows)
        if contents { compareContents(expected: expected, found: found, emptied: emptied) }
    }

    public var passed: Bool { findings.allSatisfy(\.isAccepted) }
    public var failures: [Finding] { findings.filter { !$0.isAccepted } }

    private mutating func compareProperties(kind: ObjectKind, name: String, expected: ObjectProperties,
                                            found: ObjectProperties, rows: RowTolerance, unloggedTables: Set<String>) {
        // Equal properties (almost every object) yield no finding, whatever the rules below.
        if expected == found { return }
        for property in Set(expected.keys).union(found.keys).sorted() {
            let want = expected[property], have = found[property]
            if kind == .sequence, property == SequenceRule.lastValue {
                if let finding = Self.sequence(name, expected: expected, found: found, rows: rows,
                                                        unloggedTables: unloggedTables) { findings.append(finding) }
                continue
            }
            if want != have {
                findings.append(Finding(kind: kind, name: name, difference: .changed, property: property,
                                        expected: want, found: have))
            }
        }
    }

    /// A sequence's last value against the reference's: behind fails (inserts would collide)
    /// but for an unlogged one found reset (see `reset`); ahead fails with `rows: exact` beyond
    /// the pre-logged values and is accepted within them.
    static func sequence(_ name: String, expected: ObjectProperties, found: ObjectProperties, rows: RowTolerance,
                         unloggedTables: Set<String> = []) -> Finding? {
        let want = expected[SequenceRule.lastValue], have = found[SequenceRule.lastValue]
        let increment = expected["increment"].flatMap { Int64($0) } ?? 1
        // Never used (nil) is one increment before the start.
        func value(_ text: String?, _ properties: ObjectProperties) -> Int64? {
            if let text { return Int64(text) }
            guard let start = properties["start"].flatMap({ Int64($0) }) else { return nil }
            return start.subtractingReportingOverflow(increment).overflow ? nil : start - increment
        }
        guard want != have, increment != 0 else { return nil }
        let w = value(want, expected), h = value(have, found)
        // Steps from the reference's value to the one found, in the sequence's direction.
        let steps: Double
        if let w, let h { steps = (Double(h) - Double(w)) / Double(increment) } else { steps = have == nil ? -1 : 1 }
        let shownWant = want ?? "never used", shownHave = have ?? "never used"
        if steps < 0 {
            if want != nil, have == nil,
               let reset = reset(name, expected: expected, found: found, was: shownWant, unloggedTables: unloggedTables) {
                return reset
            }
            return Finding(kind: .sequence, name: name, difference: .sequenceBehind, property: SequenceRule.lastValue,
                           expected: shownWant, found: shownHave)
        }
        guard rows == .exact, steps > 0 else { return nil }
        let ahead = Finding(kind: .sequence, name: name, difference: .sequenceAhead, property: SequenceRule.lastValue,
                            expected: shownWant, found: shownHave,
                            detail: "\(steps == steps.rounded() ? String(Int64(steps)) : String(steps)) increment(s) ahead")
        guard steps <= Double(SequenceRule.preLogged) else { return ahead }
        var accepted = ahead
        accepted.accepted = "within the \(SequenceRule.preLogged) values PostgreSQL logs ahead of use: a restore that replays WAL leaves a sequence up to \(SequenceRule.preLogged) increments ahead"
        return accepted
    }

    /// A used sequence found never used, as a physical restore (or crash recovery) leaves an
    /// unlogged sequence: reset to its start. Accepted when the sequence belongs to an unlogged
    /// table (emptied with it) or to none; a finding, said why, when it is unlogged but belongs to
    /// a permanent table, which keeps the rows its restarted values will collide with. Nil for a
    /// logged sequence (a plain "behind").
    static func reset(_ name: String, expected: ObjectProperties, found: ObjectProperties, was: String,
                      unloggedTables: Set<String>) -> Finding? {
        let table = (found["owned_by"] ?? expected["owned_by"]).flatMap(SequenceRule.ownerTable)
        let tableUnlogged = table.map(unloggedTables.contains) ?? false
        let unlogged = expected["persistence"] == "unlogged" || found["persistence"] == "unlogged"
        guard unlogged || tableUnlogged else { return nil }
        var finding = Finding(kind: .sequence, name: name, difference: .sequenceReset, property: SequenceRule.lastValue,
                              expected: was, found: "never used")
        switch (table, tableUnlogged) {
        case (let table?, true):
            finding.accepted = "sequence of the unlogged table \(table): a physical restore (or crash recovery) empties the table and resets its sequence"
        case (nil, _):
            finding.accepted = "unlogged sequence: a physical restore (or crash recovery) resets it to its start"
        case (let table?, false):
            finding.detail = "an unlogged sequence of the permanent table \(table): the restore reset it while the table kept its rows, so its next values collide with them; make the sequence logged (ALTER SEQUENCE ... SET LOGGED) and set it past the table's values"
        }
        return finding
    }

    /// Returns the tables accepted as emptied (unlogged, found empty).
    private mutating func compareRowCounts(expected: Manifest, found: Manifest, rows: RowTolerance) -> Set<String> {
        let unlogged = expected.unloggedTables.union(found.unloggedTables)
        var emptied = Set<String>()
        for table in expected.rowCounts.keys.sorted() {
            guard let want = expected.rowCounts[table], let have = found.rowCounts[table] else { continue }
            if have == 0, want > 0, unlogged.contains(table) {
                emptied.insert(table)
                findings.append(Finding(kind: .table, name: table, difference: .expectedEmpty,
                                        property: "rows", expected: String(want), found: "0",
                                        accepted: "unlogged table: a physical restore (or crash recovery) empties it"))
                continue
            }
            switch rows.acceptance(expected: want, found: have) {
            case ""?:
                break
            case let reason?:
                findings.append(Finding(kind: .table, name: table, difference: .rowCount, property: "rows",
                                        expected: String(want), found: String(have), accepted: reason))
            case nil:
                findings.append(Finding(kind: .table, name: table, difference: .rowCount, property: "rows",
                                        expected: String(want), found: String(have)))
            }
        }
        return emptied
    }

    /// Every table in both manifests, by its content checksum: a difference fails; a table left
    /// out on either side is accepted and said so.
    private mutating func compareContents(expected: Manifest, found: Manifest, emptied: Set<String>) {
        guard let want = expected.contents, let have = found.contents else { return }
        let excludedThere = Set(want.excluded), excludedHere = Set(have.excluded)
        for table in expected.rowCounts.keys.sorted() where found.rowCounts[table] != nil && !emptied.contains(table) {
            if excludedThere.contains(table) || excludedHere.contains(table) {
                let why = excludedThere.contains(table) ? "left out of the content check when the reference was captured"
                                                        : "left out of the content check (exclude_content)"
                findings.append(Finding(kind: .table, name: table, difference: .contentNotCompared, property: "content",
                                        accepted: why))
                continue
            }
            guard let w = want.checksums[table], let h = have.checksums[table], w != h else { continue }
            findings.append(Finding(kind: .table, name: table, difference: .content, property: "content",
                                    expected: "checksum \(w)", found: "checksum \(h)"))
        }
    }
}
