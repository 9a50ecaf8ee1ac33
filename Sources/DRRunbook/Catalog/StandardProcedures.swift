import DRRunbookEngine

extension ProcedureCatalog {
    /// The procedures of DESIGN.md.
    public static let standard = ProcedureCatalog(StandardProcedures.all)
}

/// The procedures of DESIGN.md, as the runbook engine sees them.
public enum StandardProcedures {
    typealias P = ProcedureSpec.ParameterSpec
    typealias O = ProcedureSpec.OutputSpec

    public static let all: [ProcedureSpec] = [
        snapshot, cacheSnapshot, copy, restorePointInTime, restoreSnapshot, failover, verify, teardown, status, wait, exec,
        appScale, appRollback, httpCheck,
    ]

    public static let snapshot = ProcedureSpec(
        name: "snapshot", summary: "take a manual snapshot (RDS) or base backup (postgres) and apply the target's retention",
        parameters: [.target(), .value("weekly", .bool, "name it for the ISO week: taken once a week, then retention keeps the newest retention.weekly")],
        outputs: [O("snapshot_id", .string, "the snapshot's id"), O("created_at", .time, "when it was started"),
                  O("location", .string, "where it is: the region (rds) or the repository (postgres)"),
                  O("created", .bool, "false when an existing one was reused"),
                  O("deleted", .string, "snapshots retention deleted, comma-separated")],
        mutates: true, phase: "backup")

    public static let cacheSnapshot = ProcedureSpec(
        name: "cache.snapshot", summary: "this ISO week's snapshot of the target's cache (ElastiCache); nothing for a target without one",
        parameters: [.target()],
        outputs: [O("snapshot_id", .string, "the cache snapshot's id (empty when the target has no cache)"),
                  O("taken", .bool, "false when the target has no cache")],
        mutates: true, phase: "backup")

    public static let copy = ProcedureSpec(
        name: "copy", summary: "copy a snapshot to the DR region (rds, re-encrypting) or the DR repository (postgres)",
        parameters: [.target(), .value("snapshot", .string, "snapshot id, or latest (default)"),
                     .value("to_region", .string, "rds: the region to copy to (default: the target's dr_region)")],
        outputs: [O("snapshot_id", .string, "the copy's id"), O("location", .string, "the DR region or repository"),
                  O("copied", .int, "how many snapshots were copied now (0 when already there)"),
                  O("deleted", .string, "copies DR retention deleted, comma-separated")],
        mutates: true, phase: "copy")

    static let restoreOutputs = [
        O("instance_id", .string, "the new server's name or instance id"), O("endpoint_host", .string, "its host"),
        O("endpoint_port", .int, "its port"), O("conninfo", .string, "how to connect to it (never with a password)"),
        O("snapshot_id", .string, "the snapshot or base backup restored"),
        O("restored_to", .string, "the time the data is from, RFC 3339 (empty when the backend cannot tell)"),
        O("adopted", .bool, "true when a restore of the same point dr started earlier (a crash, a re-run) was finished instead of a new one"),
        O("failover_to", .string, "what a failover step's `to` takes to send clients here: the endpoint host (rds) or the server's name (postgres)"),
    ]
    static let restoreCommon: [P] = [
        .target(), .value("as", .string, required: true, "the new server's name (rds: instance id)"),
        .value("instance_class", .string, "rds: instance class (default: the source's)"),
        .value("subnet_group", .string, "rds: DB subnet group (default: the source's)"),
        .value("security_groups", .string, "rds: VPC security group ids, comma-separated (default: the source's)"),
        .value("parameter_group", .string, "rds: DB parameter group (default: the source's)"),
        .value("port", .int, "rds: the port (default: the source's)"),
        .value("multi_az", .bool, "rds: Multi-AZ or not (default: the source's)"),
        .value("kms_key_id", .string, "rds, Aurora clusters: the restored cluster's KMS key (instances keep the snapshot's)"),
    ]

    public static let restorePointInTime = ProcedureSpec(
        name: "restore.point-in-time", summary: "restore the target to a point in time into a new server or instance",
        parameters: restoreCommon + [.value("time", .string, required: true, "an RFC 3339 time inside the restorable window, or latest"),
                                     .value("from_dr", .bool, "postgres: restore from the DR repository (dr_repository)")],
        outputs: restoreOutputs, mutates: true, phase: "restore")

    public static let restoreSnapshot = ProcedureSpec(
        name: "restore.snapshot", summary: "restore a snapshot into a new server or instance",
        parameters: restoreCommon + [.value("snapshot", .string, "snapshot id, or latest (default: the newest by creation time)"),
                                     .value("from_dr", .bool, "restore from the DR copy (rds: the DR region; postgres: dr_repository)"),
                                     .value("region", .string, "rds: the region to restore in (default: the DR region with from_dr, else the target's)")],
        outputs: restoreOutputs, mutates: true, phase: "restore")

    public static let failover = ProcedureSpec(
        name: "failover", summary: "repoint clients at a restore: a target's failover entry (rds: its Route 53 record; postgres: its service-file entry), or a Route 53 record of no target",
        parameters: [.value("to", .string, required: true, "where clients go: a restore step's `failover_to` (rds: a host; postgres: a restored server's name)"),
                     .target(required: false, "the target whose failover entry to change"),
                     .value("zone", .string, "Route 53: the hosted zone (default: the target's dns.zone)"),
                     .value("record", .string, "Route 53: the record (default: the target's dns.record); postgres: the service entry (default: the target's)"),
                     .value("ttl", .int, "Route 53: record TTL in seconds")],
        outputs: [O("entry", .string, "the record or service entry changed"), O("now", .string, "what it points at now"),
                  O("previous", .string, "what it pointed at before (empty if it is new), to undo the change"),
                  O("changed", .bool, "false when it already pointed there (nothing was written)")],
        mutates: true, phase: "failover")

    public static let verify = ProcedureSpec(
        name: "verify", summary: "verify a restored database against a manifest or the live source; a mismatch fails the step",
        parameters: [.value("db", .string, required: true, secret: true, "conninfo of the database to check"),
                     .value("manifest", .string, "manifest file to compare with"),
                     .value("source", .string, secret: true, "conninfo of the live source to compare with"),
                     .value("rows", .string, "row-count tolerance: exact, at-least or within=PCT (default: the target's verify.rows, else exact)"),
                     .value("report_file", .string, "also write the verification report (JSON) here"),
                     .target(required: false, "the target whose verification settings to use")],
        outputs: [O("passed", .bool, "whether everything matched"), O("tables", .int, "tables counted"),
                  O("rows", .int, "rows counted"), O("mismatches", .int, "findings not accepted"),
                  O("accepted", .int, "differences accepted by the tolerance")],
        mutates: false, phase: "verify")

    public static let teardown = ProcedureSpec(
        name: "teardown", summary: "delete a restored server or instance dr made (only ones it marked or tagged)",
        parameters: [.value("instance", .string, required: true, "the restored server's name or instance id"),
                     .target(required: true, "the target it was restored from"),
                     .value("region", .string, "rds: its region (default: whichever of the target's region and dr_region holds it)")],
        outputs: [O("deleted", .bool, "whether anything was deleted (false when it was already gone)")],
        mutates: true, phase: "teardown")

    public static let status = ProcedureSpec(
        name: "status", summary: "read the target's state, newest snapshot and restorable window",
        parameters: [.target()],
        outputs: [O("provider", .string, "rds or postgres"), O("state", .string, "rds: the instance's status; postgres: ok or warnings"),
                  O("latest_snapshot", .string, "newest snapshot id (empty when none)"),
                  O("restorable", .bool, "whether anything is restorable"),
                  O("latest_restorable_time", .string, "end of the restorable window, RFC 3339 (empty when none)"),
                  O("warnings", .int, "how many policy warnings status gives")],
        mutates: false, phase: "check")

    public static let appScale = ProcedureSpec(
        name: "app.scale", summary: "set the desired count of the target's ECS service (`app:` in dr.yml) in its region or its dr_region (region, or from_dr), and wait until it is stable",
        parameters: [.target(), .value("region", .string, "the target's region (app.cluster/app.service) or its dr_region (app.dr_cluster/app.dr_service)"),
                     .value("from_dr", .bool, "scale the service in the target's dr_region, whatever it is (instead of region)"),
                     .value("desired", .int, required: true, "how many tasks the service should run")],
        outputs: [O("service", .string, "the ECS service"), O("cluster", .string, "its cluster"), O("region", .string, "its region"),
                  O("desired", .int, "the desired count now"),
                  O("previous_desired", .int, "the desired count before (to scale back to)"),
                  O("changed", .bool, "false when the service already wanted that many tasks"),
                  O("running", .int, "tasks running when the step ended"),
                  O("task_definition", .string, "the task definition it runs, family:revision")],
        mutates: true, phase: "application")

    public static let appRollback = ProcedureSpec(
        name: "app.rollback", summary: "roll the target's ECS service back to the previous task definition revision of its family (or `to`), and wait until it is stable",
        parameters: [.target(), .value("to", .string, "a revision: 6, family:6 or a task definition ARN (default: the newest ACTIVE revision before the current one)"),
                     .value("region", .string, "where the service runs: the target's region (default) or its dr_region")],
        outputs: [O("service", .string, "the ECS service"), O("cluster", .string, "its cluster"), O("region", .string, "its region"),
                  O("task_definition", .string, "the task definition it runs now, family:revision"),
                  O("replaced", .string, "the one it ran before (to roll forward to)"),
                  O("changed", .bool, "false when it already ran that revision"),
                  O("desired", .int, "its desired count"), O("running", .int, "tasks running when the step ended")],
        mutates: true, phase: "application")

    public static let httpCheck = ProcedureSpec(
        name: "http.check", summary: "smoke check: GET a URL until it answers the expected status; reads only",
        parameters: [.value("url", .string, required: true, "an http:// or https:// URL, e.g. the application's health endpoint"),
                     .value("expect_status", .int, "the status that passes (default 200)"),
                     .value("within", .duration, "how long to keep trying (default 2m)")],
        outputs: [O("status", .int, "the status it answered"), O("attempts", .int, "requests made"),
                  O("elapsed", .duration, "how long until it answered")],
        mutates: false, phase: "smoke")

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
