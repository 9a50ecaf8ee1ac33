/// Every procedure a runbook can use, by name. Validation and planning read it; the executors
/// that run procedures are registered separately (`ProcedureRegistry`).
public struct ProcedureCatalog: Sendable {
    public var specs: [String: ProcedureSpec]

    public init(_ specs: [ProcedureSpec]) {
        self.specs = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
    }

    public subscript(name: String) -> ProcedureSpec? { specs[name] }
    public var names: [String] { specs.keys.sorted() }

    public static let standard = ProcedureCatalog(StandardProcedures.all)
}

/// The procedures of DESIGN.md, as the runbook engine sees them.
public enum StandardProcedures {
    typealias P = ProcedureSpec.ParameterSpec
    typealias O = ProcedureSpec.OutputSpec

    public static let all: [ProcedureSpec] = [
        snapshot, cacheSnapshot, copy, restorePointInTime, restoreSnapshot, failover, verify, teardown, status, wait, exec,
    ]

    static let region = P.value("region", .string, "the region to act in (default: the target's region)")

    public static let snapshot = ProcedureSpec(
        name: "snapshot", summary: "take a manual database snapshot and apply retention",
        parameters: [.target(), .value("weekly", .bool, "name it for the ISO week, so it is taken once a week"),
                     .value("name", .string, "snapshot name (default: derived from the target and the time)"),
                     .value("retention", .duration, "delete dr-created snapshots older than this"), region],
        outputs: [O("snapshot_id", .string, "the snapshot's id"), O("created_at", .time, "when it was taken"),
                  O("region", .string, "where it is")],
        mutates: true, phase: "backup")

    public static let cacheSnapshot = ProcedureSpec(
        name: "cache.snapshot", summary: "snapshot the target's cache (ElastiCache)",
        parameters: [.target(), .value("name", .string, "snapshot name"),
                     .value("retention", .duration, "delete dr-created cache snapshots older than this"), region],
        outputs: [O("snapshot_id", .string, "the cache snapshot's id"), O("created_at", .time, "when it was taken")],
        mutates: true, phase: "backup")

    public static let copy = ProcedureSpec(
        name: "copy", summary: "copy a snapshot to another region, re-encrypting it",
        parameters: [.target(), .value("snapshot", .string, "snapshot id, or latest (default)"),
                     .value("to_region", .string, required: true, "the region to copy to"),
                     .value("kms_key", .string, "KMS key in the destination region (default: the target's)"),
                     .value("retention", .duration, "delete dr-created copies older than this")],
        outputs: [O("snapshot_id", .string, "the copy's id"), O("region", .string, "the copy's region")],
        mutates: true, phase: "copy")

    static let restoreOutputs = [
        O("instance_id", .string, "the new instance's id"), O("endpoint_host", .string, "its endpoint host"),
        O("endpoint_port", .int, "its endpoint port"),
    ]

    public static let restorePointInTime = ProcedureSpec(
        name: "restore.point-in-time", summary: "restore the target to a point in time into a new instance",
        parameters: [.target(), .value("time", .time, required: true, "the time to restore to (inside the restorable window)"),
                     .value("as", .string, required: true, "the new instance's name"), region,
                     .value("instance_class", .string, "instance class (default: the source's)")],
        outputs: restoreOutputs + [O("restored_to", .time, "the time the data is from")],
        mutates: true, phase: "restore")

    public static let restoreSnapshot = ProcedureSpec(
        name: "restore.snapshot", summary: "restore a snapshot into a new instance",
        parameters: [.target(), .value("snapshot", .string, "snapshot id, or latest (default)"),
                     .value("as", .string, required: true, "the new instance's name"), region,
                     .value("instance_class", .string, "instance class (default: the source's)")],
        outputs: restoreOutputs + [O("snapshot_id", .string, "the snapshot restored"),
                                   O("snapshot_time", .time, "when that snapshot was taken")],
        mutates: true, phase: "restore")

    public static let failover = ProcedureSpec(
        name: "failover", summary: "repoint a DNS record at a new endpoint",
        parameters: [.value("zone", .string, required: true, "the hosted zone"),
                     .value("record", .string, required: true, "the record to repoint"),
                     .value("to", .string, required: true, "the new endpoint"),
                     .value("ttl", .int, "record TTL in seconds")],
        outputs: [O("change_id", .string, "the DNS change's id"), O("previous", .string, "what the record pointed at before")],
        mutates: true, phase: "failover")

    public static let verify = ProcedureSpec(
        name: "verify", summary: "verify a restored database against a manifest or the live source",
        parameters: [.value("db", .string, required: true, secret: true, "conninfo of the restored database"),
                     .value("manifest", .string, "manifest file to compare with"),
                     .value("source", .string, secret: true, "conninfo of the live source to compare with"),
                     .target(required: false, "the target whose verification settings to use"),
                     .value("rows", .string, "row-count tolerance: exact, at-least or within=PCT (default: the target's verify.rows)")],
        outputs: [O("passed", .bool, "whether everything matched"), O("tables", .int, "tables compared"),
                  O("mismatches", .int, "findings"), O("data_as_of", .time, "newest row time seen")],
        mutates: false, phase: "verify")

    public static let teardown = ProcedureSpec(
        name: "teardown", summary: "delete an instance dr created (only ones it tagged)",
        parameters: [.value("instance", .string, required: true, "the instance to delete"), region,
                     .target(required: false, "the target it was restored from")],
        outputs: [O("deleted", .bool, "whether anything was deleted")],
        mutates: true, phase: "teardown")

    public static let status = ProcedureSpec(
        name: "status", summary: "read the target's state, endpoint and restorable window",
        parameters: [.target(), region],
        outputs: [O("state", .string, "instance state"), O("endpoint_host", .string, "endpoint host"),
                  O("endpoint_port", .int, "endpoint port"), O("latest_snapshot", .string, "newest snapshot id"),
                  O("latest_restorable_time", .time, "end of the restorable window")],
        mutates: false, phase: "check")

    public static let wait = ProcedureSpec(
        name: "wait", summary: "wait for a duration or until a time",
        parameters: [.value("duration", .duration, "how long to wait"), .value("until", .time, "the time to wait until")],
        outputs: [O("until", .time, "when the wait ended")],
        mutates: false, phase: "wait")

    public static let exec = ProcedureSpec(
        name: "exec", summary: "run an external command with /bin/sh -c; a non-zero exit fails the step",
        parameters: [.value("command", .string, required: true, "the command line"),
                     .value("working_directory", .string, "where to run it"),
                     .value("mutates", .bool, "whether it changes something (default true; the plan marks it)"),
                     .target(required: false, "the target it acts on (locked for the run)")],
        outputs: [O("exit_code", .int, "the exit status"), O("stdout", .string, "standard output, trailing newline removed"),
                  O("stderr", .string, "standard error, trailing newline removed")],
        mutates: true, phase: "operations")
}
