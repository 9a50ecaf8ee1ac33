import DRCore
import DRDrill
import DRTestSupport
import Foundation
import XCTest

/// The scheduler recipes in deploy/, checked as far as this machine allows: every file parses,
/// every `dr` invocation in them is accepted by the built binary's argument parser, the systemd
/// units pass `systemd-analyze verify`, the crontab lines are well-formed, and the IAM policies
/// are least-privilege documents (no `*` actions, deletes only of what dr tagged). The alert
/// rules pass `promtool check rules` and their unit tests (`promtool test rules`), and every
/// metric the rules and the Grafana dashboard name is one dr writes.
final class DeployRecipesTests: XCTestCase {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy").path

    func read(_ path: String) throws -> String { try String(contentsOfFile: Self.deploy + "/" + path, encoding: .utf8) }

    /// The arguments parse: with no config the binary gets as far as reading it (exit 2 naming the config, not the flags).
    func assertParses(_ args: [String], _ origin: String, line: UInt = #line) throws {
        let r = try DRBinary.run(args, environment: ["DR_CONFIG": "/nonexistent/dr.yml", "DR_NOTIFY_URL": "https://hooks.example/x"])
        XCTAssertEqual(r.status, 2, "\(origin): \(args)", line: line)
        XCTAssertTrue(r.stderr.contains("/nonexistent/dr.yml"), "\(origin): \(args) was refused as usage: \(r.stderr)", line: line)
    }

    func python(_ script: String, _ file: String) throws -> String {
        let r = try SystemProcessRunner.runBlocking("python3", ["-c", script, Self.deploy + "/" + file])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout
    }

    func testKubernetesCronJob() throws {
        let out = try python("""
        import sys, yaml, json
        docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
        job = next(d for d in docs if d['kind'] == 'CronJob')
        spec = job['spec']; pod = spec['jobTemplate']['spec']['template']['spec']
        print(json.dumps({'kinds': [d['kind'] for d in docs], 'schedule': spec['schedule'], 'policy': spec['concurrencyPolicy'],
                          'restart': pod['restartPolicy'], 'args': [c['args'] for c in pod.get('initContainers', []) + pod['containers']],
                          'volumes': [v['name'] for v in pod['volumes']]}))
        """, "kubernetes/dr-drill-cronjob.yaml")
        let job = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        XCTAssertEqual(job["kinds"] as? [String], ["ConfigMap", "PersistentVolumeClaim", "CronJob"])
        XCTAssertEqual((job["schedule"] as? String)?.split(separator: " ").count, 5)
        XCTAssertEqual(job["policy"] as? String, "Forbid")
        XCTAssertEqual(job["restart"] as? String, "Never")
        for args in job["args"] as? [[String]] ?? [] {
            try assertParses(args.map { $0.replacingOccurrences(of: "$(DR_NOTIFY_URL)", with: "https://hooks.example/x") }, "CronJob")
        }
    }

    func testECSTaskScheduleAndPolicies() throws {
        let task = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try read("ecs/task-definition.json").utf8)) as? [String: Any])
        let container = try XCTUnwrap((task["containerDefinitions"] as? [[String: Any]])?.first)
        try assertParses((container["command"] as? [String] ?? []) + ["--notify", "https://hooks.example/x"], "ECS task")
        let schedule = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try read("ecs/schedule.json").utf8)) as? [String: Any])
        XCTAssertTrue((schedule["ScheduleExpression"] as? String ?? "").hasPrefix("cron("))
        XCTAssertNotNil((schedule["Target"] as? [String: Any])?["EcsParameters"])
        for file in ["ecs/iam-policy-drill.json", "ecs/iam-policy-scheduler.json", "ecs/iam-policy-app.json"] {
            let policy = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try read(file).utf8)) as? [String: Any], file)
            XCTAssertEqual(policy["Version"] as? String, "2012-10-17")
            for statement in policy["Statement"] as? [[String: Any]] ?? [] {
                XCTAssertNotNil(statement["Sid"], file)
                let actions = (statement["Action"] as? [String]) ?? [statement["Action"] as? String ?? ""]
                XCTAssertFalse(actions.contains { $0.contains("*") }, "\(file): no wildcard actions")
                if actions.contains(where: { $0.hasPrefix("rds:Delete") }) {
                    XCTAssertNotNil(statement["Condition"], "\(file): deletes only what dr tagged")
                }
            }
        }
        _ = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try read("ecs/iam-actions-by-procedure.json").utf8)) as? [String: Any])
    }

    func testSystemdUnitsAndCrontab() throws {
        let service = try read("systemd/dr-drill.service")
        let exec = try XCTUnwrap(service.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        let args = exec.dropFirst("ExecStart=".count).split(separator: " ").map(String.init).dropFirst().filter { $0 != "$DR_DRILL_ARGS" }
        try assertParses(Array(args), "systemd")
        // systemd-analyze comes with the systemd package, which scripts/setup.sh installs.
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "systemd-analyze is missing: run make test (scripts/setup.sh installs systemd)")
        let dir = NSTemporaryDirectory() + "dr-units-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The unit names the installed binary; point it at the built one so verify can check it.
        try service.replacingOccurrences(of: "/usr/local/bin/dr", with: DRBinary.path).write(toFile: dir + "/dr-drill.service", atomically: true, encoding: .utf8)
        try read("systemd/dr-drill.timer").write(toFile: dir + "/dr-drill.timer", atomically: true, encoding: .utf8)
        let r = try SystemProcessRunner.runBlocking("/usr/bin/systemd-analyze", ["verify", dir + "/dr-drill.service", dir + "/dr-drill.timer"])
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        var jobs = 0
        for line in try read("cron/dr-drill.crontab").split(separator: "\n") where !line.hasPrefix("#") && !line.contains("=") {
            let fields = line.split(separator: " ", maxSplits: 5).map(String.init)
            XCTAssertEqual(fields.count, 6, String(line))
            for (field, range) in zip(fields.prefix(5), [0...59, 0...23, 1...31, 1...12, 0...7]) where field != "*" {
                let value = field.hasPrefix("*/") ? field.dropFirst(2) : Substring(field)
                XCTAssertTrue(Int(value).map(range.contains) == true, "\(field) in \(line)")
            }
            let command = fields[5].components(separatedBy: " >>").first!.split(separator: " ").map(String.init)
            XCTAssertEqual(command.first, "dr")
            try assertParses(Array(command.dropFirst()), "crontab")
            jobs += 1
        }
        XCTAssertEqual(jobs, 3, "cleanup, drills, status metrics")
    }

    /// `systemd-analyze verify` of a unit pair, with the installed binary's path pointed at the built one.
    func verifyUnits(_ service: String, _ timer: String) throws {
        let dir = NSTemporaryDirectory() + "dr-units-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try read(service).replacingOccurrences(of: "/usr/local/bin/dr", with: DRBinary.path)
            .write(toFile: dir + "/" + URL(fileURLWithPath: service).lastPathComponent, atomically: true, encoding: .utf8)
        try read(timer).write(toFile: dir + "/" + URL(fileURLWithPath: timer).lastPathComponent, atomically: true, encoding: .utf8)
        let r = try SystemProcessRunner.runBlocking("/usr/bin/systemd-analyze", ["verify"] + [service, timer].map { dir + "/" + URL(fileURLWithPath: $0).lastPathComponent })
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
    }

    /// dr status for the alerts runs on the same schedulers as the drills, every 15 minutes.
    func testStatusMetricsRecipes() throws {
        let service = try read("systemd/dr-status.service")
        let exec = try XCTUnwrap(service.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        let args = exec.dropFirst("ExecStart=".count).split(separator: " ").map(String.init).dropFirst()
        XCTAssertEqual(Array(args.prefix(4)), ["status", "--all", "--output", "prometheus"])
        try assertParses(Array(args), "systemd status")
        XCTAssertTrue(try read("systemd/dr-status.timer").contains("OnCalendar=*:0/15"))
        try verifyUnits("systemd/dr-status.service", "systemd/dr-status.timer")

        let out = try python("""
        import sys, yaml, json
        docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
        job = next(d for d in docs if d['kind'] == 'CronJob')
        pod = job['spec']['jobTemplate']['spec']['template']['spec']
        print(json.dumps({'kinds': [d['kind'] for d in docs], 'schedule': job['spec']['schedule'], 'args': [c['args'] for c in pod['containers']]}))
        """, "kubernetes/dr-status-cronjob.yaml")
        let job = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        XCTAssertEqual(job["kinds"] as? [String], ["PersistentVolumeClaim", "CronJob"])
        XCTAssertEqual(job["schedule"] as? String, "*/15 * * * *")
        for args in job["args"] as? [[String]] ?? [] { try assertParses(args, "status CronJob") }

        let task = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try read("ecs/task-definition-status.json").utf8)) as? [String: Any])
        let container = try XCTUnwrap((task["containerDefinitions"] as? [[String: Any]])?.first)
        XCTAssertNil(container["entryPoint"], "the image's entry point, dr, with the command as its arguments")
        try assertParses(container["command"] as? [String] ?? [], "ECS status task")
        let schedule = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try read("ecs/schedule-status.json").utf8)) as? [String: Any])
        XCTAssertEqual(schedule["ScheduleExpression"] as? String, "rate(15 minutes)")
        XCTAssertTrue(((schedule["Target"] as? [String: Any])?["EcsParameters"] as? [String: Any])?["TaskDefinitionArn"].map { "\($0)".hasSuffix("task-definition/dr-status") } == true)
        let policy = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try read("ecs/iam-policy-status.json").utf8)) as? [String: Any])
        for statement in policy["Statement"] as? [[String: Any]] ?? [] {
            for action in statement["Action"] as? [String] ?? [] {
                XCTAssertTrue(action.contains(":Describe") || action.contains(":List"), "status only reads: \(action)")
            }
        }
    }

    static let promtool = "/usr/bin/promtool"

    func testAlertRulesPassPromtoolCheckAndTheirUnitTests() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: Self.promtool), "promtool is missing: run make test (scripts/setup.sh installs prometheus)")
        let check = try SystemProcessRunner.runBlocking(Self.promtool, ["check", "rules", Self.deploy + "/prometheus/dr-alerts.yml"])
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertTrue(check.stdout.contains("SUCCESS: 10 rules found"), check.stdout)
        let unit = try SystemProcessRunner.runBlocking(Self.promtool, ["test", "rules", "dr-alerts.test.yml"], nil, Self.deploy + "/prometheus")
        XCTAssertEqual(unit.status, 0, unit.stdout + unit.stderr)
        XCTAssertTrue(unit.stdout.contains("SUCCESS"), unit.stdout)
        // Every alert has a unit test that expects it to fire.
        let rules = try read("prometheus/dr-alerts.yml"), tests = try read("prometheus/dr-alerts.test.yml")
        for line in rules.split(separator: "\n") where line.contains("- alert: ") {
            let name = line.components(separatedBy: "- alert: ")[1]
            XCTAssertTrue(tests.contains("alertname: \(name)\n        exp_alerts:\n          - exp_labels"), "no firing test for \(name)")
        }
    }

    /// The metric names dr writes: the status file's families and the drill file's, from the renderers themselves.
    func metricsDrWrites() throws -> Set<String> {
        let report = try JSONDecoder().decode(DrillReport.self, from: Data(DrillFixtures.failedReportJSON.utf8))
        let drill = DrillEvidence.metrics(report, lastSuccess: Date())
        let names = drill.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) }
        XCTAssertEqual(names.count, 6)
        return Set(names + StatusMetrics.families.map(\.name))
    }

    func metricNames(in expr: String) -> Set<String> {
        let regex = try! NSRegularExpression(pattern: #"\bdr_[a-z_]+\b"#)
        return Set(regex.matches(in: expr, range: NSRange(expr.startIndex..., in: expr)).map { String(expr[Range($0.range, in: expr)!]) })
    }

    func testDashboardAndRulesNameOnlyMetricsDrWrites() throws {
        let known = try metricsDrWrites()
        let dashboard = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try read("grafana/dr.json").utf8)) as? [String: Any])
        let panels = try XCTUnwrap(dashboard["panels"] as? [[String: Any]])
        XCTAssertGreaterThan(panels.count, 5)
        var used = Set<String>()
        for panel in panels {
            let targets = try XCTUnwrap(panel["targets"] as? [[String: Any]], "\(panel["title"] ?? "")")
            for target in targets {
                let expr = try XCTUnwrap(target["expr"] as? String)
                let names = metricNames(in: expr)
                XCTAssertFalse(names.isEmpty, "\(expr) names no dr metric")
                XCTAssertTrue(names.isSubset(of: known), "\(expr): \(names.subtracting(known)) is not a metric dr writes")
                used.formUnion(names)
            }
        }
        let variable = (((dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]]) ?? []).compactMap { $0["definition"] as? String }
        for v in variable { XCTAssertTrue(metricNames(in: v).isSubset(of: known), v) }
        let rules = try read("prometheus/dr-alerts.yml")
        let exprs = rules.split(separator: "\n").filter { $0.contains("expr: ") }.map { String($0) }
        XCTAssertEqual(exprs.count, 10)
        for expr in exprs { XCTAssertTrue(metricNames(in: expr).isSubset(of: known), expr) }
        // The figures the alerts are about are on the dashboard too.
        for name in ["dr_snapshot_newest_age_seconds", "dr_data_loss_exposure_seconds", "dr_wal_archive_lag_seconds", "dr_drill_success"] {
            XCTAssertTrue(used.contains(name), name)
        }
    }

    /// Both textfiles pass promtool's metric lint (names, units, HELP/TYPE).
    func testTextfilesPassPromtoolCheckMetrics() throws {
        let report = try JSONDecoder().decode(DrillReport.self, from: Data(DrillFixtures.failedReportJSON.utf8))
        let status = StatusMetrics.text([.failed(target: "prod-db", provider: "rds")])
        for text in [DrillEvidence.metrics(report, lastSuccess: Date()), status] {
            let r = try SystemProcessRunner.runBlocking(Self.promtool, ["check", "metrics"], nil, nil, Data(text.utf8))
            XCTAssertEqual(r.status, 0, r.stdout + r.stderr + "\n" + text)
        }
    }

    func testDockerfileIsMultiStageWithTheRuntimeLibraries() throws {
        let dockerfile = try read("Dockerfile")
        let stages = dockerfile.split(separator: "\n").filter { $0.hasPrefix("FROM ") }
        XCTAssertEqual(stages.count, 2)
        XCTAssertTrue(stages[0].contains("swift:") && stages[0].contains(" AS build"))
        XCTAssertTrue(dockerfile.contains("libpq5") && dockerfile.contains("libcurl4") && dockerfile.contains("COPY --from=build"))
        let cmd = try XCTUnwrap(dockerfile.split(separator: "\n").first { $0.hasPrefix("CMD ") })
        let args = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(cmd.dropFirst(4).utf8)) as? [String])
        try assertParses(args, "Dockerfile CMD")
    }
}
