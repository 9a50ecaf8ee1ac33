import DRAWS
import DRCore
import Foundation

/// The regions the RDS backend accepts: the one region check of the AWS layer (`AWSRegion`),
/// with its error as the backend's `DRError` (bad input, exit 2, before anything is called).
public enum KnownRegions {
    public static var all: Set<String> { AWSRegion.all }

    /// A region a caller gave (`--region`, a step's `region`).
    public static func check(_ region: String, parameter: Parameter) throws {
        do { try AWSRegion.check(region, source: "\(param: parameter)") } catch let error as AWSConfigError { throw error.drError }
    }

    /// `what` says where the name came from (`region of target prod-db`).
    public static func check(_ region: String, what: String) throws {
        do { try AWSRegion.check(region, source: ErrorText(what)) } catch let error as AWSConfigError { throw error.drError }
    }
}
