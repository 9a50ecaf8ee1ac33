extension DRError.Code {
    /// A remote service refused the request for a reason another try will not change:
    /// authentication, authorization, validation, a missing resource. Exit 3, like any remote error.
    public static let remoteRefused = DRError.Code("remote_refused", DRError.Category.remote)
}

extension DRError {
    /// Whether trying the same thing again could succeed. Not for bad input, an interruption or a
    /// refusal (`remoteRefused`): a runbook step's retries end at such a failure.
    public var isRetryable: Bool {
        switch category {
        case .badInput, .interrupted: return false
        case .problemFound, .remote, .timedOut, .localFailure: return code != .remoteRefused
        }
    }
}
