import DRCore
import DRTestSupport
import Foundation
import XCTest

/// The scheduler recipes in deploy/, checked as far as this machine allows: every file parses,
/// every `dr` invocation in them is accepted by the built binary's argument parser, the systemd
/// units pass `systemd-analyze verify`, the crontab lines are well-formed, and the IAM policies
/// are least-privilege documents (no `*` actions, deletes only of what dr tagged).
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
        for file in ["ecs/iam-policy-drill.json", "ecs/iam-policy-scheduler.json"] {
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
                XCTAssertTrue(Int(field).map(range.contains) == true, "\(field) in \(line)")
            }
            let command = fields[5].components(separatedBy: " >>").first!.split(separator: " ").map(String.init)
            XCTAssertEqual(command.first, "dr")
            try assertParses(Array(command.dropFirst()), "crontab")
            jobs += 1
        }
        XCTAssertEqual(jobs, 2)
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
