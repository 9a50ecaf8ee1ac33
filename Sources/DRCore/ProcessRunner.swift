import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The result of running an external program.
public struct ProcessResult: Sendable {
    /// The exit status, or 128 + the signal number when a signal ended it (as a shell reports it).
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// True when the runner stopped it at its deadline.
    public var timedOut: Bool
    public var succeeded: Bool { status == 0 && !timedOut }

    public init(status: Int32, stdout: String, stderr: String, timedOut: Bool = false) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
    }
}

/// One program to run, and how.
public struct Command: Sendable {
    public enum Output: Sendable {
        /// Collect stdout and stderr (the default).
        case capture
        /// Append both to a file, stdin from /dev/null, every other descriptor closed: for programs
        /// that leave a daemon behind (`pg_ctl start`), which would otherwise hold our pipes open.
        case appendToFile(String)
    }

    public var executable: String
    public var arguments: [String]
    /// The child's environment; nil inherits ours.
    public var environment: [String: String]?
    public var workingDirectory: String?
    public var input: Data?
    public var output: Output
    /// Seconds after which the child's process group is stopped (SIGTERM, then SIGKILL after `grace`).
    public var timeout: Double?
    /// Seconds between SIGTERM and SIGKILL when the child is stopped (deadline or cancellation).
    public var grace: Double

    public init(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
                workingDirectory: String? = nil, input: Data? = nil, output: Output = .capture,
                timeout: Double? = nil, grace: Double = 3) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.input = input
        self.output = output
        self.timeout = timeout
        self.grace = grace
    }
}

/// External programs as a dependency (pg_ctl, initdb, credential_process, `exec` runbook steps),
/// so tests can stand in for them.
public protocol ProcessRunning: Sendable {
    func run(_ command: Command) async throws -> ProcessResult
}

extension ProcessRunning {
    public func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    workingDirectory: String? = nil, input: Data? = nil) async throws -> ProcessResult {
        try await run(Command(executable, arguments, environment: environment, workingDirectory: workingDirectory, input: input))
    }
}

/// The project's one process runner: posix_spawn into a process group of its own, both outputs
/// read concurrently, the child reaped with `waitpid` by the thread that spawned it (no
/// Foundation `Process`, whose own SIGCHLD handling races a second reaper). Cancelling the calling
/// task, or passing the deadline, stops the whole group: SIGTERM, then SIGKILL after the grace.
public struct SystemProcessRunner: ProcessRunning {
    public init() {}

    public func run(_ command: Command) async throws -> ProcessResult {
        let child = try Child.spawn(command)
        return try await withTaskCancellationHandler {
            try await offloadBlocking { child.collect(timeout: command.timeout, grace: command.grace) }
        } onCancel: {
            child.terminate(grace: command.grace)
        }
    }

    /// The same, blocking the calling thread (for callers that are not async).
    public static func runBlocking(_ command: Command) throws -> ProcessResult {
        try Child.spawn(command).collect(timeout: command.timeout, grace: command.grace)
    }

    public static func runBlocking(_ executable: String, _ arguments: [String], _ environment: [String: String]? = nil,
                                   _ workingDirectory: String? = nil, _ input: Data? = nil) throws -> ProcessResult {
        try runBlocking(Command(executable, arguments, environment: environment, workingDirectory: workingDirectory, input: input))
    }

    /// Finds a program on PATH.
    public static func which(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        for dir in (path ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// A spawned child: its pid (also its process group) and the read ends of its output pipes.
/// Shared between the thread that collects it and a cancellation handler, under a lock.
private final class Child: @unchecked Sendable {
    let pid: pid_t
    let name: String
    private let stdout: Int32?, stderr: Int32?
    private let lock = NSLock()
    private var reaped = false

    private init(pid: pid_t, name: String, stdout: Int32?, stderr: Int32?) {
        self.pid = pid
        self.name = name
        self.stdout = stdout
        self.stderr = stderr
    }

    static func spawn(_ command: Command) throws -> Child {
        var path = command.executable.contains("/") ? command.executable
                                                    : (SystemProcessRunner.which(command.executable) ?? command.executable)
        var arguments = command.arguments
        if let workingDirectory = command.workingDirectory {
            // posix_spawn's chdir action is not exposed to Swift: let a shell change directory, then exec.
            arguments = ["-c", "cd -- \"$0\" && exec \"$@\"", workingDirectory, path] + arguments
            path = "/bin/sh"
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnds: (stdout: Int32?, stderr: Int32?, stdin: Int32?) = (nil, nil, nil)
        var childEnds: [Int32] = []
        switch command.output {
        case .capture:
            let out = try pipe(), err = try pipe(), inp = try pipe()
            posix_spawn_file_actions_adddup2(&actions, inp.read, 0)
            posix_spawn_file_actions_adddup2(&actions, out.write, 1)
            posix_spawn_file_actions_adddup2(&actions, err.write, 2)
            parentEnds = (out.read, err.read, inp.write)
            childEnds = [out.write, err.write, inp.read]
        case .appendToFile(let file):
            if !FileManager.default.fileExists(atPath: file) { _ = FileManager.default.createFile(atPath: file, contents: nil) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, file, O_WRONLY | O_APPEND, 0)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            // A daemon must not inherit anything of ours (glibc ignores closing one closed meanwhile).
            for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
                if let fd = Int32(name), fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let env = (command.environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let status = withCStrings([path] + arguments) { argv in
            withCStrings(env) { envp in posix_spawn(&pid, path, &actions, &attributes, argv, envp) }
        }
        for fd in childEnds { close(fd) }
        guard status == 0 else {
            for fd in [parentEnds.stdout, parentEnds.stderr, parentEnds.stdin].compactMap({ $0 }) { close(fd) }
            throw DRError(.spawnFailed, "Could not start \(command.executable): \(String(cString: strerror(status))). Check that it is installed and on PATH.")
        }
        if let writer = parentEnds.stdin {
            let input = command.input ?? Data()
            Thread.detachNewThread {
                input.withUnsafeBytes { buffer in
                    var offset = 0
                    while offset < buffer.count {
                        let n = write(writer, buffer.baseAddress! + offset, buffer.count - offset)
                        if n < 0 && errno == EINTR { continue }
                        if n <= 0 { break }
                        offset += n
                    }
                }
                close(writer)
            }
        }
        return Child(pid: pid, name: command.executable, stdout: parentEnds.stdout, stderr: parentEnds.stderr)
    }

    /// Reads both outputs to their end and reaps the child, stopping it at `timeout`. Blocking.
    func collect(timeout: Double?, grace: Double) -> ProcessResult {
        let timedOut = LockedBool()
        if let timeout {
            DispatchQueue.global().asyncAfter(deadline: .now() + max(0, timeout)) { [self] in
                if !isReaped { timedOut.set(); terminate(grace: grace) }
            }
        }
        let errorReader = stderr.map(Self.readInBackground)
        let outData = stdout.map(Self.readAll) ?? Data()
        let errData = errorReader?() ?? Data()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        lock.withLock { reaped = true }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out (they are C macros).
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return ProcessResult(status: code, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self), timedOut: timedOut.value)
    }

    private var isReaped: Bool { lock.withLock { reaped } }

    /// Stops the child's whole process group: SIGTERM now, SIGKILL if it is still there after `grace`.
    func terminate(grace: Double) {
        guard !isReaped else { return }
        kill(-pid, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + grace) { [self] in
            if !isReaped { kill(-pid, SIGKILL) }
        }
    }

    private static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else {
            throw DRError(.spawnFailed, "Could not create a pipe for a child process: \(String(cString: strerror(errno))).")
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    private static func readAll(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n > 0 { data.append(buffer, count: n); continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        close(fd)
        return data
    }

    private static func readInBackground(_ fd: Int32) -> () -> Data {
        // Written by the reader thread before it signals, read after the wait: the semaphore orders them.
        final class Box: @unchecked Sendable { var data = Data() }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            box.data = readAll(fd)
            done.signal()
        }
        return { done.wait(); return box.data }
    }
}

/// A flag set once from another thread.
private final class LockedBool: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var flag = false
    func set() { lock.withLock { flag = true } }
    var value: Bool { lock.withLock { flag } }
}

/// Calls `body` with a NULL-terminated C array of C strings.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}
