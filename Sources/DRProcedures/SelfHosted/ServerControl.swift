import DRCore
import Foundation

/// Starts and stops PostgreSQL servers with pg_ctl, as the `postgres` OS user when `dr` runs as
/// root (PostgreSQL refuses to run as root).
struct ServerControl {
    let bindir: String

    static func resolveBindir(_ configured: String?) -> String {
        if let configured { return configured }
        if let env = ProcessInfo.processInfo.environment["DR_PG_BINDIR"], !env.isEmpty { return env }
        if let out = try? SystemProcessRunner.runBlocking("pg_config", ["--bindir"]), out.succeeded {
            let dir = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if FileManager.default.isExecutableFile(atPath: dir + "/pg_ctl") { return dir }
        }
        return "/usr/lib/postgresql/15/bin"
    }

    /// Runs a server program as the server's user.
    func run(_ program: String, _ arguments: [String]) throws -> ProcessResult {
        let exe = bindir + "/" + program
        guard FileManager.default.isExecutableFile(atPath: exe) else {
            throw DRError.badInput("\(exe) was not found. Install the PostgreSQL 15 server (apt install postgresql-15) or set `bindir:` on the target. Nothing was changed.")
        }
        if OSUser.isRoot {
            return try SystemProcessRunner.runBlocking("/usr/sbin/runuser", ["-u", "postgres", "--", exe] + arguments)
        }
        return try SystemProcessRunner.runBlocking(exe, arguments)
    }

    /// Starts a server without waiting for it (pg_ctl -W): the caller watches it come up.
    ///
    /// pg_ctl's output goes to a file, not a pipe: the server it leaves running inherits the
    /// descriptors pg_ctl had, and a pipe held open by a daemon would never reach end-of-file.
    func start(dataDirectory: String, logFile: String) throws -> ProcessResult {
        CallLog.record("pg_ctl start")
        let exe = bindir + "/pg_ctl"
        guard FileManager.default.isExecutableFile(atPath: exe) else { return try run("pg_ctl", []) }
        let outputFile = logFile + ".pg_ctl"
        _ = FileManager.default.createFile(atPath: outputFile, contents: nil)
        OSUser.serverUser.map { $0.give(outputFile) }
        defer { try? FileManager.default.removeItem(atPath: outputFile) }
        let arguments = ["-D", dataDirectory, "-l", logFile, "-W", "start"]
        let argv = OSUser.isRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--", exe] + arguments : [exe] + arguments
        let status = try SystemProcessRunner.runBlocking(Command(argv[0], Array(argv.dropFirst()), output: .appendToFile(outputFile))).status
        let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        return ProcessResult(status: status, stdout: text, stderr: "")
    }

    func stop(dataDirectory: String, mode: String = "fast") throws -> ProcessResult {
        CallLog.record("pg_ctl stop -m \(mode)")
        return try run("pg_ctl", ["-D", dataDirectory, "-m", mode, "-w", "-t", "60", "stop"])
    }

    /// The postmaster's pid from postmaster.pid, if the server is running.
    static func runningPID(dataDirectory: String) -> Int32? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = Int32(first) else { return nil }
        return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
    }

    /// A TCP port free on 127.0.0.1 now (the kernel picks it).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DRError.problem("Could not open a socket to find a free port.") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else { throw DRError.problem("Could not find a free port on 127.0.0.1.") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// The last lines of a server log, for error messages.
    static func logTail(_ path: String, lines: Int = 8) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(no log)" }
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

