import DRCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program in its own process group and, when the calling task is cancelled (Ctrl-C, a
/// step timeout), terminates the whole group: SIGTERM, then SIGKILL after `graceSeconds`.
/// DRCore's `SystemProcessRunner` waits for a child whatever happens, which a runbook cannot afford.
public struct InterruptibleProcessRunner: ProcessRunning {
    public var graceSeconds: Double

    public init(graceSeconds: Double = 3) { self.graceSeconds = graceSeconds }

    public func run(_ executable: String, _ arguments: [String], environment: [String: String]?,
                    workingDirectory: String?, input: Data?) async throws -> ProcessResult {
        let child = try ChildProcess.spawn(executable, arguments, environment: environment,
                                           workingDirectory: workingDirectory, input: input)
        return try await withTaskCancellationHandler {
            try await offloadBlocking { child.collect() }
        } onCancel: {
            child.terminate(grace: graceSeconds)
        }
    }
}

/// A spawned child: its pid (also its process group) and the read ends of its output pipes.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private let stdout: Int32, stderr: Int32
    private let lock = NSLock()
    private var reaped = false

    private init(pid: pid_t, stdout: Int32, stderr: Int32) {
        self.pid = pid
        self.stdout = stdout
        self.stderr = stderr
    }

    static func spawn(_ executable: String, _ arguments: [String], environment: [String: String]?,
                      workingDirectory: String?, input: Data?) throws -> ChildProcess {
        var path = executable.contains("/") ? executable : (SystemProcessRunner.which(executable) ?? executable)
        var arguments = arguments
        if let workingDirectory {
            // posix_spawn has no portable chdir action: let a shell change directory, then exec.
            arguments = ["-c", "cd -- \"$0\" && exec \"$@\"", workingDirectory, path] + arguments
            path = "/bin/sh"
        }
        let out = try pipe(), err = try pipe(), inp = try pipe()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inp.read, 0)
        posix_spawn_file_actions_adddup2(&actions, out.write, 1)
        posix_spawn_file_actions_adddup2(&actions, err.write, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let argv = [path] + arguments
        var pid: pid_t = 0
        let status = withCStrings(argv) { cArgv in
            withCStrings(env) { cEnv in posix_spawn(&pid, path, &actions, &attributes, cArgv, cEnv) }
        }
        for fd in [out.write, err.write, inp.read] { close(fd) }
        guard status == 0 else {
            for fd in [out.read, err.read, inp.write] { close(fd) }
            throw DRError.badInput("Could not start \(executable): \(String(cString: strerror(status))). Check that it is installed and on PATH.")
        }
        let inputData = input ?? Data()
        let writer = inp.write
        Thread.detachNewThread {
            inputData.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = write(writer, buffer.baseAddress! + offset, buffer.count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
            close(writer)
        }
        return ChildProcess(pid: pid, stdout: out.read, stderr: err.read)
    }

    /// Reads both outputs to their end and reaps the child. Blocking.
    func collect() -> ProcessResult {
        let errorReader = Self.readInBackground(stderr)
        let outData = Self.readAll(stdout)
        let errData = errorReader()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        lock.withLock { reaped = true }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out (they are macros in C).
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return ProcessResult(status: code, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Stops the child's whole process group: SIGTERM now, SIGKILL if it is still there after `grace`.
    func terminate(grace: Double) {
        guard !lock.withLock({ reaped }) else { return }
        kill(-pid, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + grace) { [self] in
            if !lock.withLock({ reaped }) { kill(-pid, SIGKILL) }
        }
    }

    private static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw DRError.badInput("Could not create a pipe: \(String(cString: strerror(errno))).") }
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

/// Calls `body` with a NULL-terminated C array of C strings.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}
