/// The sequence property that is compared as "not behind" rather than "equal".
enum SequenceRule {
    static let lastValue = "lastValue"
}

/// Compares a database's manifest with the reference's. Pure: no I/O, so every rule is unit-testable.
///
/// Objects are matched by exact name within their kind; properties are compared as text.
/// A table's row count passes by the tolerance; an unlogged table found empty is accepted
/// (a physical restore empties it); a sequence passes when it is not behind the reference.
public struct Comparison: Sendable {
    public var findings: [Finding] = []
    public var checked: [CheckedObject] = []

    public init(expected: Manifest, found: Manifest, rows: RowTolerance) {
        var vanishedTables = Set<String>()
        for kind in ObjectKind.allCases {
            let e = expected.objects(kind), f = found.objects(kind)
            for name in Set(e.keys).union(f.keys).sorted() {
                checked.append(CheckedObject(kind: kind, name: name))
                switch (e[name], f[name]) {
                case let (want?, have?):
                    compareProperties(kind: kind, name: name, expected: want, found: have)
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
        compareRowCounts(expected: expected, found: found, rows: rows)
    }

    public var passed: Bool { findings.allSatisfy(\.isAccepted) }

    private mutating func compareProperties(kind: ObjectKind, name: String, expected: ObjectProperties, found: ObjectProperties) {
        // Equal properties (almost every object) yield no finding, whatever the rules below.
        if expected == found { return }
        for property in Set(expected.keys).union(found.keys).sorted() {
            let want = expected[property], have = found[property]
            if kind == .sequence, property == SequenceRule.lastValue {
                // Never used (nil) is the lowest value; ahead is harmless, behind breaks inserts.
                let w = want.flatMap { Int64($0) }, h = have.flatMap { Int64($0) }
                if let w, (h ?? Int64.min) < w {
                    findings.append(Finding(kind: kind, name: name, difference: .sequenceBehind,
                                            property: property, expected: want, found: have ?? "never used"))
                }
                continue
            }
            if want != have {
                findings.append(Finding(kind: kind, name: name, difference: .changed, property: property,
                                        expected: want, found: have))
            }
        }
    }

    private mutating func compareRowCounts(expected: Manifest, found: Manifest, rows: RowTolerance) {
        let unlogged = expected.unloggedTables.union(found.unloggedTables)
        for table in expected.rowCounts.keys.sorted() {
            guard let want = expected.rowCounts[table], let have = found.rowCounts[table] else { continue }
            if have == 0, want > 0, unlogged.contains(table) {
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
    }
}
