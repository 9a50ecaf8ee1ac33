import DRAWS
import DRCore
import DRPostgres
import Foundation

/// Repoints the application's database secret in one region (the DR region, in a failover) at
/// a restored endpoint: promotes the secret when it is a replica (`StopReplicationToReplica`:
/// a replica cannot be written, and the primary's region is gone), then writes a new version
/// with only `host` and `port` changed (every other field of the JSON kept as it is), records
/// the version it replaced so the change can be undone, and proves the result by logging in
/// with the credentials read back from the secret.
///
/// For a drill, `copy` makes a copy of the secret (tagged as dr's) and repoints that, leaving
/// the secret applications read untouched.
struct SecretRepoint {
    let provider: RDSProvider

    struct Decision {
        /// The application's secret (the copy's source, for a drill).
        var secret: String
        /// What is written: the secret, or the copy.
        var written: String
        var region: String
        var copy: String?
        var copyExists: Bool
        /// The secret is a replica to promote first.
        var promote: Bool
        var currentHost: String?
        var currentPort: Int?
        /// Nil host: known at run time (a plan).
        var host: String?
        var port: Int?
        var change: Bool
        var verifyThrough: String
        var request: SecretRepointRequest

        var plan: [PlannedAction] {
            var out: [PlannedAction] = [.read("read the secret \(secret) in \(region)", call: "secretsmanager:DescribeSecret"),
                                        .read("read its host and port (no other field is shown)", call: "secretsmanager:GetSecretValue")]
            if let copy {
                out.append(copyExists ? .read("reuse the drill copy \(copy) of \(secret) dr made earlier", call: "secretsmanager:DescribeSecret")
                    : .change("copy \(secret) to \(copy) in \(region), tagged as dr's drill copy (the secret applications read is left alone)",
                              call: "secretsmanager:CreateSecret"))
            }
            if promote {
                out.append(.change("promote the replica \(secret) in \(region) to a standalone secret (it stops following \(secret)'s primary region)",
                                   call: "secretsmanager:StopReplicationToReplica"))
            }
            let now = currentHost.map { "\($0):\(currentPort.map(String.init) ?? "?")" } ?? "(no host)"
            let next = host.map { "\($0):\((port ?? currentPort).map(String.init) ?? "?")" } ?? "the restored endpoint (known at run time)"
            if change || host == nil {
                out.append(.change("put a new version of \(written): host and port currently \(now) → will be \(next), every other field kept; the replaced version is recorded for undo",
                                   call: "secretsmanager:PutSecretValue", current: now,
                                   when: host == nil ? "unless it already points at the endpoint known at run time" : nil))
            } else {
                out.append(.read("nothing to change: \(written) already points at \(now)"))
            }
            out.append(.read("read \(written) back and log in with its credentials through \(verifyThrough)",
                             call: "secretsmanager:GetSecretValue, libpq: connect"))
            return out
        }
    }

    // MARK: Deciding

    func decide(_ request: SecretRepointRequest) async throws -> Decision {
        guard let secret = provider.target.databaseSecret else {
            throw DRError(.invalidConfig, "Target \(provider.target.name) has no `database: { secret: ... }`, so there is no Secrets Manager secret to repoint. Nothing was changed.")
        }
        let region = try provider.drRegion(request.region, parameter: .region)
        if let host = request.host { try Self.checkHost(host, parameter: .to) }
        if let port = request.port, !(1...65535).contains(port) {
            throw DRError(.invalidParameter, "\(param: .port) \(port) is not a TCP port (1 to 65535). Nothing was changed.")
        }
        if let copy = request.copy { try Self.checkSecretName(copy) }
        let sm = try provider.session.secretsManager(region)
        guard let description = try await sm.secretIfPresent(secret) else {
            throw DRError(.notFound, "There is no secret \(secret) in \(region) to repoint. Replicate it there while \(provider.settings.region) is up (`dr check \(provider.target.name)` shows its replication), or create it. Nothing was changed.")
        }
        var copyExists = false
        if let copy = request.copy {
            if copy == secret { throw DRError(.invalidParameter, "The drill copy's name (`copy`) is the secret itself (\(secret)); give the copy another name. Nothing was changed.") }
            if let existing = try await sm.secretIfPresent(copy) {
                try checkCopy(existing, name: copy, region: region)
                copyExists = true
            }
        }
        let written = request.copy ?? secret
        let fields = try await Self.fields(sm, copyExists ? written : secret)
        let currentHost = fields["host"], currentPort = fields["port"].flatMap { Int($0) }
        let port = request.port ?? currentPort
        let change = request.host.map { Route53Failover.normalized($0) != Route53Failover.normalized(currentHost ?? "") || port != currentPort } ?? true
        let through = request.verifyHost.map { "\($0):\(request.verifyPort.map(String.init) ?? "5432")" }
            ?? request.host.map { "\($0):\(port.map(String.init) ?? "5432")" } ?? "the restored endpoint"
        return Decision(secret: secret, written: written, region: region, copy: request.copy, copyExists: copyExists,
                        promote: request.copy == nil && description.isReplica(in: region), currentHost: currentHost, currentPort: currentPort,
                        host: request.host, port: port, change: change, verifyThrough: through, request: request)
    }

    /// A copy under that name must be one dr made of this target's secret.
    func checkCopy(_ existing: SecretDescription, name: String, region: String) throws {
        let tags = existing.tags ?? []
        guard DRTags.isManaged(tags, target: provider.target.name, kind: Self.copyKind) else {
            throw DRError(.nameTaken, "The name \(name) (`copy`) is already taken in \(region) by a secret dr did not copy for \(provider.target.name). Choose another name. Nothing was changed.")
        }
    }

    static let copyKind = "secret-copy"

    /// The secret's JSON fields (registered with `Redact` as they arrive).
    static func fields(_ sm: SecretsManagerClient, _ id: String) async throws -> [String: String] {
        do { return try await sm.getSecretValue(secretId: id).jsonFields() } catch is AWSDecodingError {
            throw DRError(.invalidConfig, "The secret \(id) is not a JSON object of {\"host\",\"port\",\"username\",\"password\",\"database\"}, so dr cannot repoint its host. Nothing was changed.")
        }
    }

    static func checkHost(_ host: String, parameter: Parameter) throws {
        let ok = !host.isEmpty && host.count <= 253 && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":") }
        guard ok else {
            throw DRError(.invalidParameter, "\(param: parameter) \"\(host)\" is not a host name or address (letters, digits, dots and hyphens). Give the restored endpoint's host. Nothing was changed.")
        }
    }

    /// Secrets Manager names: 1 to 512 of letters, digits and `/_+=.@-`.
    static func checkSecretName(_ name: String) throws {
        let ok = (1...512).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/_+=.@-".contains($0)) }
        guard ok else {
            throw DRError(.invalidParameter, "`copy` \"\(name)\" is not a secret name Secrets Manager accepts (1 to 512 letters, digits and /_+=.@-). Nothing was changed.")
        }
    }

    // MARK: Executing

    func execute(_ d: Decision) async throws -> SecretRepointResult {
        guard let host = d.host else { throw DRError(.invalidParameter, "secret.repoint needs \(param: .to), the restored endpoint's host.") }
        let sm = try provider.session.secretsManager(d.region)
        let name = provider.target.name
        if let copy = d.copy, !d.copyExists {
            let value = try await sm.getSecretValue(secretId: d.secret)
            let tags = DRTags.make(kind: Self.copyKind, target: name, more: RestoreTags.current.merging([DRTags.copiedFrom: d.secret]) { _, dr in dr })
            do {
                _ = try await sm.createSecret(name: copy, secretString: value.secretString ?? "", description: "dr drill copy of \(d.secret)",
                                              tags: tags, token: Self.token("copy", copy, d.secret))
            } catch let e as AWSError where e.code == "ResourceExistsException" {
                // An earlier attempt of this call went through before its answer was lost.
            }
        }
        var promoted = false
        if d.promote {
            provider.logger.info("promoting replica secret", metadata: ["secret": "\(d.secret)", "region": "\(d.region)"])
            do { try await sm.stopReplicationToReplica(d.secret); promoted = true }
            catch let e as AWSError where e.code == "InvalidRequestException" && e.message.lowercased().contains("not a replica") { promoted = true }
        }
        let current = try await sm.getSecretValue(secretId: d.written)
        let fields = try current.jsonFields()
        let port = d.port ?? fields["port"].flatMap { Int($0) } ?? 5432
        var versionId = current.versionId, changed = false
        if Route53Failover.normalized(fields["host"] ?? "") != Route53Failover.normalized(host) || fields["port"].flatMap({ Int($0) }) != port {
            let updated = try Self.repointed(current.secretString ?? "", host: host, port: port)
            let version = try await sm.putSecretValue(d.written, secretString: updated,
                                                      token: Self.token(d.written, current.versionId ?? "", host, String(port)))
            versionId = version.versionId
            changed = true
            try FailoverLog(directory: provider.context.stateDirectory, key: "secret/\(d.region)/\(d.written)")
                .push(FailoverChange(at: provider.context.clock.now(), from: current.versionId, to: version.versionId ?? ""))
            provider.logger.info("repointed secret", metadata: ["secret": "\(d.written)", "region": "\(d.region)", "host": "\(host)", "port": "\(port)"])
        }
        let through = try await prove(sm, d, host: host, port: port)
        return SecretRepointResult(target: name, secret: d.written, region: d.region, copy: d.copy != nil, promoted: promoted, changed: changed,
                                   host: host, port: port, previousHost: fields["host"], previousPort: fields["port"].flatMap { Int($0) },
                                   versionId: versionId, previousVersionId: changed ? current.versionId : nil, verified: true, verifiedThrough: through)
    }

    /// The secret's JSON with only `host` and `port` replaced; `port` keeps its JSON type.
    static func repointed(_ text: String, host: String, port: Int) throws -> String {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw DRError(.invalidConfig, "The secret is not a JSON object, so dr cannot repoint its host. Nothing was changed.")
        }
        object["host"] = host
        object["port"] = object["port"] is String ? String(port) : NSNumber(value: port)
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// A ClientRequestToken (32 to 64 characters) from what decides the write, never the value.
    static func token(_ parts: String...) -> String {
        "dr-" + String(SHA256Hasher.hex(of: Data(parts.joined(separator: "\u{0}").utf8)).prefix(40))
    }

    /// Reads the secret back and logs in with its credentials (through `verifyHost` when given).
    func prove(_ sm: SecretsManagerClient, _ d: Decision, host: String, port: Int) async throws -> String {
        let fields = try await sm.getSecretValue(secretId: d.written).jsonFields()
        for key in ["username", "password"] where fields[key] == nil {
            throw DRError(.invalidConfig, "The secret \(d.written) has no \"\(key)\" field, so its credentials cannot log in anywhere.")
        }
        let toHost = d.request.verifyHost ?? host, toPort = d.request.verifyPort ?? port
        let pairs: [(String, String?)] = [("host", toHost), ("port", String(toPort)), ("user", fields["username"]), ("password", fields["password"]),
                                          ("dbname", fields["database"] ?? fields["dbname"]),
                                          ("sslmode", d.request.verifySSLMode ?? fields["sslmode"] ?? "require")]
        let conninfo = pairs.compactMap { k, v in v.map { "\(k)=\(Conninfo.quote($0))" } }.joined(separator: " ")
        let clock = provider.context.clock
        var attempt = 0
        while true {
            attempt += 1
            do {
                let user = try await offloadBlocking {
                    let connection = try PGConnection(conninfo: conninfo, connectTimeout: 10, applicationName: "dr secret check")
                    defer { connection.close() }
                    return try connection.query("SELECT current_user", timeout: 10).scalar
                }
                provider.logger.info("the repointed secret logs in", metadata: ["secret": "\(d.written)", "through": "\(toHost):\(toPort)", "user": "\(user ?? "?")"])
                return "\(toHost):\(toPort)"
            } catch let error as PostgresError where attempt < 3 {
                provider.logger.info("the repointed secret's login failed; trying again", metadata: ["error": "\(Redact.conninfo(error.message))"])
                try await clock.sleep(seconds: 2)
            } catch let error as PostgresError {
                throw DRError(.verificationFailed, "The secret \(d.written) in \(d.region) now points at \(host):\(port), but its credentials did not log in through \(toHost):\(toPort): \(Redact.conninfo(error.message)). Check the restored database's users and network, or verify through a bastion (`verify_db`).")
            }
        }
    }
}

extension RDSProvider {
    public func repointSecret(_ request: SecretRepointRequest) async throws -> SecretRepointResult {
        try await wait.bounded(clock: session.clock) {
            let procedure = SecretRepoint(provider: self)
            return try await procedure.execute(try await procedure.decide(request))
        }
    }
}
