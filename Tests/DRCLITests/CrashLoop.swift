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
        var kills = 0, boundaryKills = 0, killedMidStep = Set<String>(), status: Int32?
        func journal() -> String? { files().first { !known.contains($0) }.map { journalDir + "/" + $0 } }
        for _ in 0..<80 {
            let linesAtStart = journal().map { lines($0) } ?? []
            // A mid-step kill is due when the run was stopped right after starting a step named
            // in `midStep`: the resumed run re-enters it, and is killed inside it.
            let midStepDue = linesAtStart.last.flatMap { last in
                midStep.first { last.contains("\"type\":\"step_started\"") && last.contains("\"step\":\"\($0.key)\"") && !killedMidStep.contains($0.key) }
            }
            var env = environment
            if midStepDue == nil {
                // The run kills itself right after journaling its 3rd line (first run: header,
                // start, first step started), then alternately after its 2nd and 3rd (a resume
                // journals `resumed`, then the step's end or re-entry, then the next start).
                env["DR_CRASH_AFTER_JOURNAL_LINES"] = String(boundaryKills % 2 == 0 ? 3 : 2)
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: DRBinary.path)
            process.arguments = arguments
            process.environment = env
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if let (step, pause) = midStepDue {
                while process.isRunning {
                    let current = journal().map { lines($0) } ?? []
                    if current.count > linesAtStart.count,
                       current.dropFirst(linesAtStart.count).contains(where: { $0.contains("\"type\":\"step_started\"") && $0.contains("\"step\":\"\(step)\"") }) {
                        usleep(UInt32(pause * 1_000_000))
                        kill(process.processIdentifier, SIGKILL)
                        killedMidStep.insert(step)
                        break
                    }
                    usleep(10_000)
                }
            }
            process.waitUntilExit()
            if process.terminationReason == .exit {
                status = process.terminationStatus
                break
            }
            kills += 1
            if midStepDue == nil { boundaryKills += 1 }
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
