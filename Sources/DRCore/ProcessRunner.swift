import Foundation

/// The result of running an external program.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var succeeded: Bool { status == 0 }

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// External programs as a dependency (pg_ctl, initdb, psql in tests, `exec` runbook steps).
public protocol ProcessRunning: Sendable {
    func run(_ executable: String, _ arguments: [String], environment: [String: String]?,
             workingDirectory: String?, input: Data?) async throws -> ProcessResult
}

extension ProcessRunning {
    public func run(_ executable: String, _ arguments: [String],
                    environment: [String: String]? = nil, workingDirectory: String? = nil) async throws -> ProcessResult {
        try await run(executable, arguments, environment: environment, workingDirectory: workingDirectory, input: nil)
    }
}

/// Runs programs with Foundation's `Process`; output is collected fully (callers run short commands).
public struct SystemProcessRunner: ProcessRunning {
    public init() {}

    public func run(_ executable: String, _ arguments: [String], environment: [String: String]?,
                    workingDirectory: String?, input: Data?) async throws -> ProcessResult {
        try await withCheckedThrowingContinuation { continuation in
            // A dedicated thread: waiting on a child must not hold a cooperative-pool thread.
            Thread.detachNewThread {
                do {
                    continuation.resume(returning: try Self.runBlocking(executable, arguments, environment, workingDirectory, input))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    public static func runBlocking(_ executable: String, _ arguments: [String], _ environment: [String: String]? = nil,
                                   _ workingDirectory: String? = nil, _ input: Data? = nil) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.contains("/") ? executable : Self.which(executable) ?? executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inPipe
        do {
            try process.run()
        } catch {
            throw DRError.badInput("Could not start \(executable): \(error.localizedDescription). Check that it is installed and on PATH.")
        }
        if let input {
            inPipe.fileHandleForWriting.write(input)
            try? inPipe.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        let errReader = Thread.detachedRead(err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = errReader()
        return ProcessResult(status: reap(process),
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Waits for the child and returns its exit status (the signal number when a signal ended it,
    /// as `Process.terminationStatus` does). Foundation's `waitUntilExit` on Linux can miss a
    /// child's exit under load (its SIGCHLD is lost: the child stays a zombie and the wait never
    /// returns), so the child is reaped here with `waitpid`; when Foundation reaped it first, its
    /// own status is used.
    static func reap(_ process: Process) -> Int32 {
        var status: Int32 = 0
        while true {
            let result = waitpid(process.processIdentifier, &status, 0)
            if result == process.processIdentifier {
                let signal = status & 0x7f
                return signal == 0 ? (status >> 8) & 0xff : signal
            }
            if result == -1 && errno == EINTR { continue }
            process.waitUntilExit()
            return process.terminationStatus
        }
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

extension Thread {
    /// Reads `handle` to its end on a new thread; the returned function waits for and returns the data.
    static func detachedRead(_ handle: FileHandle) -> () -> Data {
        final class Box: @unchecked Sendable { var data = Data() }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            box.data = handle.readDataToEndOfFile()
            done.signal()
        }
        return {
            done.wait()
            return box.data
        }
    }
}
