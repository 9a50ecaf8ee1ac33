import DRAWS
import DRCore
import Foundation

/// Turns a target's `database:` into a libpq conninfo: a conninfo as given, or a Secrets
/// Manager secret holding `{"host","port","username","password","database"}`. The result holds
/// the password; errors name the secret and the missing field, never a value.
struct DatabaseCredentials {
    let session: RDSSession
    let region: String

    func conninfo(_ access: DatabaseAccess?, target: String, host: String?, port: Int?) async throws -> String {
        switch access {
        case nil:
            throw DRError.badInput("Target \(target) has no `database:`, so dr cannot connect to its database. Add `database: { secret: <Secrets Manager id> }` or `database: { conninfo: ... }`.")
        case .conninfo(let text)?:
            Redact.registerPassword(inConninfo: text)
            return Self.override(text, host: host, port: port)
        case .secret(let id)?:
            let fields: [String: String]
            do { fields = try await session.secretsManager(region).getSecretValue(secretId: id).jsonFields() }
            catch let e as AWSError where e.isNotFound {
                throw DRError.badInput("The secret \(id) (database of target \(target)) does not exist in \(region). Fix `database: { secret: ... }` in dr.yml.")
            } catch is AWSDecodingError {
                throw DRError.badInput("The secret \(id) (database of target \(target)) is not a JSON object of {\"host\",\"port\",\"username\",\"password\",\"database\"}.")
            }
            return try Self.conninfo(fields, secret: id, host: host, port: port)
        }
    }

    static func conninfo(_ fields: [String: String], secret: String, host: String?, port: Int?) throws -> String {
        for key in ["host", "username", "password"] where fields[key] == nil {
            throw DRError.badInput("The secret \(secret) has no \"\(key)\" field; it must hold {\"host\",\"port\",\"username\",\"password\",\"database\"}.")
        }
        let pairs: [(String, String?)] = [("host", host ?? fields["host"]), ("port", port.map(String.init) ?? fields["port"]),
                                          ("user", fields["username"]), ("password", fields["password"]),
                                          ("dbname", fields["database"] ?? fields["dbname"]), ("sslmode", "require")]
        return pairs.compactMap { k, v in v.map { "\(k)=\(quote($0))" } }.joined(separator: " ")
    }

    /// A conninfo with `host`/`port` replaced (appended keys win in libpq).
    static func override(_ conninfo: String, host: String?, port: Int?) -> String {
        var text = conninfo
        if let host { text += " host=\(quote(host))" }
        if let port { text += " port=\(port)" }
        return text
    }

    /// libpq conninfo quoting: single quotes, with `\` and `'` escaped.
    static func quote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
