import Foundation

/// Runs a program that leaves a daemon behind (`pg_ctl start`): stdin from /dev/null, stdout and
/// stderr appended to a file, every other descriptor closed in the child.
///
/// Foundation's `Process` hands the child the pipes it reads; a daemon that inherits them keeps
/// them open, so reading to end-of-file (or waiting) never finishes. posix_spawn with explicit
/// file actions and `waitpid` avoids both.
public enum Spawn {
    /// Returns the exit status (128 + signal when killed by one).
    public static func run(_ argv: [String], outputFile: String) throws -> Int32 {
        if !FileManager.default.fileExists(atPath: outputFile) {
            FileManager.default.createFile(atPath: outputFile, contents: nil)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_APPEND, 0)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Close everything else we have open (glibc ignores a close of a descriptor closed meanwhile).
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        }
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        guard rc == 0 else { throw DRError.problem("Could not start \(argv[0]): \(String(cString: strerror(rc))).") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw DRError.problem("Could not wait for \(argv[0]): \(String(cString: strerror(errno))).") }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out (they are C macros).
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
