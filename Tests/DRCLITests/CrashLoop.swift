import DRCore
import DRTestSupport
import Foundation

/// Runs `dr run` and SIGKILLs it at every step boundary: after a step starts and after it ends,
/// in turn (a resume first journals `resumed` and, for a step in flight, its re-entry), and in
/// the middle of the steps named in `midStep` (after that many seconds); each time it resumes
/// the run with `dr run --resume`, until the run finishes by itself.
struct CrashLoop {
    var journalDir: String
    var environment: [String: String]
    var midStep: [String: Double] = [:]

    struct Outcome {
        var status: Int32?
        var kills: Int
        var killedMidStep: Set<String>
        var journal: String
    }

    func run(_ firstArguments: [String]) throws -> Outcome {
        let known = Set(files())
        var arguments = firstArguments
        var kills = 0, killedMidStep = Set<String>(), status: Int32?
        func journal() -> String? { files().first { !known.contains($0) }.map { journalDir + "/" + $0 } }
        for iteration in 0..<60 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: DRBinary.path)
            process.arguments = arguments
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let linesAtStart = journal().map { lines($0).count } ?? 0
            let needed = iteration % 2 == 0 && iteration > 0 ? 2 : 3
            try process.run()
            var killed = false
            while process.isRunning {
                guard let path = journal() else { usleep(10_000); continue }
                let current = lines(path)
                if current.last?.contains("\"type\":\"finished\"") == true { usleep(10_000); continue }
                if current.count >= linesAtStart + needed {
                    if let last = current.last, last.contains("\"type\":\"step_started\""),
                       let (step, pause) = midStep.first(where: { last.contains("\"step\":\"\($0.key)\"") }), !killedMidStep.contains(step) {
                        killedMidStep.insert(step)
                        usleep(UInt32(pause * 1_000_000))
                    }
                    kill(process.processIdentifier, SIGKILL)
                    killed = true
                    break
                }
                usleep(10_000)
            }
            process.waitUntilExit()
            if !killed || process.terminationReason == .exit {
                status = process.terminationStatus
                break
            }
            kills += 1
            guard let path = journal() else { break }
            arguments = ["run", "--resume", String(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)]
        }
        let text = journal().flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        return Outcome(status: status, kills: kills, killedMidStep: killedMidStep, journal: text)
    }

    private func files() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: journalDir)) ?? []).filter { $0.hasSuffix(".jsonl") } }

    private func lines(_ path: String) -> [Substring] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
    }
}
