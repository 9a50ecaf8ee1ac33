import DRAWS

/// The RDS backend talks to AWS through the AWS layer's one session per process
/// (`AWSSession.standard(logger:)`): one credential chain, one transport, endpoints resolved as
/// the SDKs do. The name stays for the backend's callers.
public typealias RDSSession = AWSSession
