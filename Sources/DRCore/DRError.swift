/// The one error type that crosses module boundaries on its way to the command line or a
/// runbook step.
///
/// Errors are data, worded late (in the spirit of postgres-nio's `PSQLError`): a `code` says what
/// went wrong, `context` holds the object it concerns and the underlying error, and `text` is the
/// one paragraph that names the problem and the fix. Where that paragraph refers to something the
/// caller set (a restore's name, a time, a region), it says so with `\(param: .name)`, and the edge
/// words it in its own vocabulary: `--as` on the command line, `` `as` `` in a runbook step.
///
/// The code decides the category, and the category alone decides the exit code (`ExitStatus`).
/// Nothing here may hold a secret: build messages from values that are already redacted.
public struct DRError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Category: String, Sendable, Codable, CaseIterable {
        /// The work ran and found a problem (verification mismatch, drill failed). Exit 1.
        case problemFound
        /// Bad input: arguments, config, runbook, timestamps, a wrong target. Nothing changed. Exit 2.
        case badInput
        /// A remote error that survived retries. Exit 3.
        case remote
        /// A wait timed out. Exit 4.
        case timedOut
        /// A local failure that is not bad input: disk full, a journal write, a process that could
        /// not be started, a broken invariant. Exit 5.
        case localFailure
        /// Interrupted by a signal (Ctrl-C, SIGTERM). Exit 130.
        case interrupted
    }

    /// What went wrong, as a value callers can match on. Extensible: a module adds its own codes
    /// as static members, each with the category it implies.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public let category: Category
        public init(_ name: String, _ category: Category) {
            self.name = name
            self.category = category
        }
        public var description: String { name }

        // One general code per category.
        public static let problemFound = Code("problem_found", .problemFound)
        public static let badInput = Code("bad_input", .badInput)
        public static let remote = Code("remote", .remote)
        public static let timedOut = Code("timed_out", .timedOut)
        public static let localFailure = Code("local_failure", .localFailure)
        public static let interrupted = Code("interrupted", .interrupted)

        // Bad input the seam reports, so callers can tell them apart.
        public static let invalidParameter = Code("invalid_parameter", .badInput)
        public static let invalidConfig = Code("invalid_config", .badInput)
        public static let notFound = Code("not_found", .badInput)
        public static let nameTaken = Code("name_taken", .badInput)
        public static let outsideWindow = Code("outside_window", .badInput)
        public static let notRestorable = Code("not_restorable", .badInput)
        /// A resource dr did not make, or one that serves production (a target, a failover's value).
        public static let protected = Code("protected", .badInput)
        /// The thing found belongs to another database than the one the target names.
        public static let identityMismatch = Code("identity_mismatch", .badInput)
        public static let lockHeld = Code("lock_held", .badInput)
        public static let authentication = Code("authentication", .badInput)

        // Local failures.
        public static let journalWrite = Code("journal_write", .localFailure)
        public static let spawnFailed = Code("spawn_failed", .localFailure)
        public static let invariant = Code("invariant", .localFailure)
        public static let storage = Code("storage", .localFailure)

        // Problems found.
        public static let verificationFailed = Code("verification_failed", .problemFound)
        public static let damaged = Code("damaged", .problemFound)
    }

    /// What the error concerns, kept as data for the edge and for tests.
    public struct Context: Sendable, Equatable {
        /// The object it is about: `DB instance prod-db-pitr`, `backup 20261120T120000Z`.
        public var object: String?
        /// The underlying error, as already-redacted text.
        public var underlying: String?
        public init(object: String? = nil, underlying: String? = nil) {
            self.object = object
            self.underlying = underlying
        }
    }

    public var code: Code
    public var text: ErrorText
    public var context: Context

    public var category: Category { code.category }

    public init(_ code: Code, _ text: ErrorText, context: Context = Context()) {
        self.code = code
        self.text = text
        self.context = context
    }

    public init(_ category: Category, _ message: String) {
        self.init(Code.general(category), ErrorText(message))
    }

    public init(_ category: Category, _ text: ErrorText) {
        self.init(Code.general(category), text)
    }

    public static func badInput(_ message: String) -> DRError { DRError(.badInput, message) }
    public static func badInput(_ text: ErrorText) -> DRError { DRError(.badInput, text) }
    public static func remote(_ message: String) -> DRError { DRError(.remote, message) }
    public static func remote(_ text: ErrorText) -> DRError { DRError(.remote, text) }
    public static func timedOut(_ message: String) -> DRError { DRError(.timedOut, message) }
    public static func timedOut(_ text: ErrorText) -> DRError { DRError(.timedOut, text) }
    public static func problem(_ message: String) -> DRError { DRError(.problemFound, message) }
    public static func problem(_ text: ErrorText) -> DRError { DRError(.problemFound, text) }
    public static func local(_ message: String) -> DRError { DRError(.localFailure, message) }
    public static func local(_ text: ErrorText) -> DRError { DRError(.localFailure, text) }
    public static let interrupted = DRError(.interrupted, "Interrupted.")

    /// The same error with another code (of the same or another category).
    public func with(code: Code) -> DRError {
        var copy = self
        copy.code = code
        return copy
    }

    /// The same error about `object`, with `underlying` kept as data.
    public func with(object: String? = nil, underlying: String? = nil) -> DRError {
        var copy = self
        if let object { copy.context.object = object }
        if let underlying { copy.context.underlying = underlying }
        return copy
    }

    /// The paragraph, with parameters named as `vocabulary` names them.
    public func message(in vocabulary: Vocabulary) -> String { text.rendered(vocabulary) }

    /// The paragraph in neutral words (parameters as `` `name` ``).
    public var message: String { text.rendered(.neutral) }

    public var exitStatus: ExitStatus { ExitStatus(category) }
    public var description: String { message }
}

extension DRError.Code {
    static func general(_ category: DRError.Category) -> DRError.Code {
        switch category {
        case .problemFound: return .problemFound
        case .badInput: return .badInput
        case .remote: return .remote
        case .timedOut: return .timedOut
        case .localFailure: return .localFailure
        case .interrupted: return .interrupted
        }
    }
}

/// Something the caller set, named in an error: the command line calls it `--as`, a runbook `as`.
public struct Parameter: Hashable, Sendable, CustomStringConvertible {
    /// The canonical (runbook) name, snake_case.
    public let name: String
    public init(_ name: String) { self.name = name }
    public var description: String { name }

    public static let name = Parameter("as")
    public static let time = Parameter("time")
    public static let snapshot = Parameter("snapshot")
    public static let region = Parameter("region")
    public static let fromDR = Parameter("from_dr")
    public static let instanceClass = Parameter("instance_class")
    public static let subnetGroup = Parameter("subnet_group")
    public static let securityGroups = Parameter("security_groups")
    public static let parameterGroup = Parameter("parameter_group")
    public static let port = Parameter("port")
    public static let multiAZ = Parameter("multi_az")
    public static let kmsKeyID = Parameter("kms_key_id")
    public static let to = Parameter("to")
    public static let zone = Parameter("zone")
    public static let record = Parameter("record")
    public static let undo = Parameter("undo")
    public static let timeout = Parameter("timeout")
    public static let manifest = Parameter("manifest")
    public static let config = Parameter("config")
    public static let instance = Parameter("instance")
    public static let cluster = Parameter("cluster")
    public static let toRegion = Parameter("to_region")
}

/// How an edge names parameters in its messages.
public struct Vocabulary: Sendable {
    public let word: @Sendable (Parameter) -> String
    public init(word: @escaping @Sendable (Parameter) -> String) { self.word = word }

    /// Runbook steps and library callers: `` `as` ``.
    public static let neutral = Vocabulary { "`\($0.name)`" }
}

/// An error's paragraph: text with references to parameters, worded when it is rendered.
public struct ErrorText: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
    enum Segment: Sendable, Equatable {
        case text(String)
        case parameter(Parameter)
    }
    var segments: [Segment]

    public init(_ text: String) { segments = [.text(text)] }
    public init(stringLiteral value: String) { segments = [.text(value)] }
    public init(stringInterpolation: Interpolation) { segments = stringInterpolation.segments }

    public struct Interpolation: StringInterpolationProtocol {
        var segments: [Segment] = []
        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { segments.append(.text(literal)) }
        public mutating func appendInterpolation<T>(_ value: T) { segments.append(.text("\(value)")) }
        public mutating func appendInterpolation(param: Parameter) { segments.append(.parameter(param)) }
    }

    public func rendered(_ vocabulary: Vocabulary) -> String {
        segments.map { segment in
            switch segment {
            case .text(let s): return s
            case .parameter(let p): return vocabulary.word(p)
            }
        }.joined()
    }

    /// The parameters the text refers to.
    public var parameters: [Parameter] {
        segments.compactMap { if case .parameter(let p) = $0 { return p } else { return nil } }
    }

    public var description: String { rendered(.neutral) }
}

/// The project's one table of exit codes (DESIGN.md, "Contracts"; the README's table).
public enum ExitStatus: Int32, Sendable, CaseIterable {
    case success = 0
    case problemFound = 1
    case badInput = 2
    case remote = 3
    case timedOut = 4
    case localFailure = 5
    case interrupted = 130

    public init(_ category: DRError.Category) {
        switch category {
        case .problemFound: self = .problemFound
        case .badInput: self = .badInput
        case .remote: self = .remote
        case .timedOut: self = .timedOut
        case .localFailure: self = .localFailure
        case .interrupted: self = .interrupted
        }
    }
}
