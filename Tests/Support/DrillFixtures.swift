import Foundation

/// Fixed drill records for the page, metrics and dashboard tests: a failed drill with failing
/// findings, an accepted difference and text that must be escaped, and a short history.
public enum DrillFixtures {
    public static let failedReportJSON = #"""
    {
      "drill_id": "20261126T031500Z-3fa2",
      "target": "prod-db",
      "provider": "postgres",
      "instance": "drill-prod-db-20261126t031500z-3fa2",
      "tags": { "dr:drill": "20261126T031500Z-3fa2", "dr:drill-started": "2026-11-26T03:15:00Z" },
      "run_id": "20261126T031500Z-restore-drill-0001",
      "runbook": "/var/lib/dr/runbooks/restore-drill.yml",
      "started_at": "2026-11-26T03:15:00Z",
      "ended_at": "2026-11-26T03:21:40Z",
      "point": { "spec": "pitr:-5m", "recovery_point": "2026-11-26T03:10:00.000Z" },
      "phases": [
        { "name": "restore", "started_at": "2026-11-26T03:15:02.000Z", "ended_at": "2026-11-26T03:19:02.000Z", "seconds": 240, "completed": true },
        { "name": "connect", "started_at": "2026-11-26T03:19:02.000Z", "ended_at": "2026-11-26T03:19:12.000Z", "seconds": 10, "completed": true },
        { "name": "verify", "started_at": "2026-11-26T03:19:12.000Z", "ended_at": "2026-11-26T03:21:12.000Z", "seconds": 120, "completed": true }
      ],
      "recovery_seconds": 370,
      "verification": {
        "passed": false, "reference": "manifest captured 2026-11-26T00:00:00Z", "rows": "exact",
        "objects_checked": 42, "tables_counted": 7, "failures": 2, "injected_failure": false,
        "findings": [
          { "kind": "table", "name": "public.orders", "difference": "row count", "expected": "1200", "found": "1187" },
          { "kind": "index", "name": "public.\"<script>alert(1)</script>\"", "difference": "missing" },
          { "kind": "table", "name": "public.sessions", "difference": "expected empty", "expected": "52", "accepted": "unlogged tables are empty after a physical restore" }
        ]
      },
      "freshness": { "seconds": 42.5, "data_ends_at": "2026-11-26T03:09:17.500Z", "source": "freshness_query" },
      "teardown": { "instance": "drill-prod-db-20261126t031500z-3fa2", "removed": true, "seconds": 3.2 },
      "steps": [
        { "id": "restore", "uses": "restore", "outcome": "succeeded", "seconds": 240 },
        { "id": "verify", "uses": "verify", "outcome": "failed", "seconds": 130, "error": "Verification found 2 differences" },
        { "id": "teardown", "uses": "teardown", "outcome": "succeeded", "seconds": 3.2 }
      ],
      "verdict": "failed",
      "failure": "Verification found 2 differences",
      "versions": { "dr": "0.1.0", "postgres": "15.10", "runbook": "restore-drill (/var/lib/dr/runbooks/restore-drill.yml)" }
    }
    """#

    /// One history line per drill, oldest first: passes and a failure, the last with its page.
    public static let historyLines: [String] = (0..<6).map { i in
        let day = String(format: "%02d", 20 + i)
        let passed = i != 3
        return """
        {"drill_id":"202611\(day)T031500Z-000\(i)","target":"prod-db","started_at":"2026-11-\(day)T03:15:00Z","ended_at":"2026-11-\(day)T03:2\(i):00Z",\
        "verdict":"\(passed ? "passed" : "failed")","point":"2026-11-\(day)T03:10:00.000Z","recovery_seconds":\(300 + 10 * i),\
        "phases":{"restore":\(200 + 10 * i),"connect":10,"verify":90},"freshness_seconds":\(passed ? "\(30 + i)" : "null"),"findings":\(passed ? 0 : 2),\
        \(passed ? "" : "\"failure\":\"Verification found 2 differences\",")"page":"/var/lib/dr/reports/drill-prod-db-202611\(day)T031500Z-000\(i).html"}
        """
    }
}
