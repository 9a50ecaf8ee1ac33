import DRCore
import DRPostgres
import Foundation
import XCTest

/// A throwaway PostgreSQL 15 cluster for one test: its own temp folder (owned by `postgres`
/// when we are root), a free port on 127.0.0.1, password auth over TCP, `fsync=off`.
/// Always `stop()` it in tearDown.
public final class TestCluster {
    public let folder: String
    public let port: Int
    public let password: String
    public let bindir: String
    public var dataDirectory: String { folder + "/data" }
    /// Superuser conninfo with the password (tests only; dr must never print it).
    public var conninfo: String { "host=127.0.0.1 port=\(port) dbname=postgres user=postgres password=\(password)" }

    public init(name: String = "src") throws {
        bindir = try TestEnvironment.postgresBindir()
        let work = try TestEnvironment.require("DR_TEST_WORK")
        folder = try TestCluster.makeFolder(in: work, prefix: name)
        port = try TestCluster.freePort()
        password = "pw-" + UUID().uuidString.prefix(8).lowercased()
        let pwfile = folder + "/pwfile"
        try Data((password + "\n").utf8).write(to: URL(fileURLWithPath: pwfile))
        TestCluster.giveToPostgres(pwfile)
        try runAsPostgres(bindir + "/initdb", ["-D", dataDirectory, "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8",
                                                "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=" + pwfile, "-N"])
        try? FileManager.default.removeItem(atPath: pwfile)
        let conf = """

        listen_addresses = '127.0.0.1'
        port = \(port)
        unix_socket_directories = '\(folder)'
        fsync = off
        synchronous_commit = off
        full_page_writes = on
        max_connections = 30
        shared_buffers = 16MB
        """
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDirectory + "/postgresql.conf"))
        handle.seekToEndOfFile()
        handle.write(Data(conf.utf8))
        try handle.close()
        try start()
    }

    public func start() throws {
        try runAsPostgres(bindir + "/pg_ctl", ["-D", dataDirectory, "-l", folder + "/server.log", "-w", "-t", "60", "start"], detached: true)
    }

    public func restart() throws {
        try runAsPostgres(bindir + "/pg_ctl", ["-D", dataDirectory, "-l", folder + "/server.log", "-w", "-t", "60", "-m", "fast", "restart"], detached: true)
    }

    /// Stops the server at once; safe to call twice.
    public func stop() {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid") else { return }
        _ = try? runAsPostgres(bindir + "/pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "stop"])
    }

    public func connect(port: Int? = nil) throws -> PGConnection {
        try PGConnection(conninfo: "host=127.0.0.1 port=\(port ?? self.port) dbname=postgres user=postgres password=\(password)")
    }

    /// Runs statements, each in its own transaction.
    public func execute(_ statements: String...) throws {
        let c = try connect()
        defer { c.close() }
        for s in statements { try c.query(s) }
    }

    public func scalar(_ sql: String, port: Int? = nil) throws -> String? {
        let c = try connect(port: port)
        defer { c.close() }
        return try c.query(sql).scalar
    }

    /// The server's clock now, as the moment a restore should reach.
    public func now() throws -> Date {
        let text = try scalar("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')") ?? ""
        return RFC3339.parse(text)!
    }

    /// Ends the current WAL segment and waits until the repository has it.
    public func switchWal(waitingFor repository: String, timeout: Double = 30) throws {
        let name = try scalar("SELECT pg_walfile_name(pg_switch_wal())") ?? ""
        let deadline = Date().addingTimeInterval(timeout)
        // Stored as it is, compressed (.zst) or encrypted (.enc).
        while !["", ".zst", ".zst.enc", ".enc"].contains(where: { FileManager.default.fileExists(atPath: repository + "/wal/" + name + $0) }) {
            guard Date() < deadline else { throw TestClusterError("WAL \(name) was not archived into \(repository)") }
            usleep(20_000)
        }
    }

    // MARK: helpers

    /// A folder under the test work dir that the postgres user owns.
    public static func makeFolder(in parent: String, prefix: String) throws -> String {
        let path = parent + "/" + prefix + "-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        giveToPostgres(path)
        return path
    }

    public static func giveToPostgres(_ path: String) {
        guard geteuid() == 0, let pw = getpwnam("postgres") else { return }
        chown(path, pw.pointee.pw_uid, pw.pointee.pw_gid)
    }

    public static func freePort() throws -> Int {
        let out = try SystemProcessRunner.runBlocking("python3", ["-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"])
        guard let port = Int(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw TestClusterError("no free port") }
        return port
    }

    @discardableResult
    func runAsPostgres(_ exe: String, _ args: [String], detached: Bool = false) throws -> String {
        let argv = geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", exe] + args : [exe] + args
        if detached {
            // pg_ctl start leaves a daemon behind: output to a file, never a pipe (Command.Output.appendToFile).
            let log = folder + "/pg_ctl.out"
            let status = try SystemProcessRunner.runBlocking(Command(argv[0], Array(argv.dropFirst()), output: .appendToFile(log))).status
            guard status == 0 else {
                throw TestClusterError("\(exe) failed: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
            return ""
        }
        let result = try SystemProcessRunner.runBlocking(argv[0], Array(argv.dropFirst()))
        guard result.succeeded else { throw TestClusterError("\(exe) failed: \(result.stderr)\(result.stdout)") }
        return result.stdout
    }

}

public struct TestClusterError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// A source cluster with archiving set up through `dr`, a repository, a DR repository and a dr.yml.
public final class ArchivedSource {
    public let cluster: TestCluster
    public let folder: String
    public var repository: String { folder + "/repo" }
    public var drRepository: String { folder + "/dr-repo" }
    public var restoreRoot: String { folder + "/restores" }
    public var serviceFile: String { folder + "/pg_service.conf" }
    public var config: String { folder + "/dr.yml" }
    public let target = "local-db"

    /// `extra`: more keys for the target in dr.yml (e.g. compression, encryption), four spaces in.
    public init(weekly: Int? = nil, extra: String = "") throws {
        cluster = try TestCluster()
        folder = try TestCluster.makeFolder(in: try TestEnvironment.require("DR_TEST_WORK"), prefix: "dr")
        for dir in [repository, drRepository] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            TestCluster.giveToPostgres(dir)
        }
        try writeConfig(weekly: weekly, extra: extra)
        let setup = try dr(["archive", "setup", target, "--apply"])
        guard setup.status == 0 else { throw TestClusterError("dr archive setup failed: \(setup.stderr)") }
        try cluster.restart()
    }

    public func writeConfig(weekly: Int?, extra: String = "") throws {
        let yaml = """
        targets:
          \(target):
            provider: postgres
            conninfo: "\(cluster.conninfo)"
            repository: \(repository)
            dr_repository: \(drRepository)
            restore_root: \(restoreRoot)
            service_file: \(serviceFile)
            bindir: \(cluster.bindir)
        \(weekly.map { "    retention: { weekly: \($0) }" } ?? "")
        \(extra)
        """
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: config))
    }

    /// Runs the built `dr` with this source's dr.yml.
    public func dr(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        var env = environment
        env["DR_CONFIG"] = config
        return try DRBinary.run(arguments, environment: env)
    }

    /// Stops the source and every server restored from it.
    public func stop() {
        let restored = (try? FileManager.default.contentsOfDirectory(atPath: restoreRoot)) ?? []
        for name in restored where FileManager.default.fileExists(atPath: restoreRoot + "/" + name + "/data/postmaster.pid") {
            let argv = ["-D", restoreRoot + "/" + name + "/data", "-m", "immediate", "-w", "stop"]
            _ = try? SystemProcessRunner.runBlocking(geteuid() == 0 ? "/usr/sbin/runuser" : cluster.bindir + "/pg_ctl",
                                                     geteuid() == 0 ? ["-u", "postgres", "--", cluster.bindir + "/pg_ctl"] + argv : argv)
        }
        cluster.stop()
    }
}
