import Foundation
import MregCore

/// Where and as whom to talk S3: read from the environment and `~/.aws/` the way aws-cli and boto3
/// read them.
///
/// - credentials, in botocore's order: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY`
///   (+ `AWS_SESSION_TOKEN`); a role: the profile's `role_arn` with `source_profile` or
///   `credential_source` (STS AssumeRole), or web identity (`AWS_WEB_IDENTITY_TOKEN_FILE`, or the
///   profile's `web_identity_token_file`); the profile's (`AWS_PROFILE`, else `default`) keys in
///   `AWS_SHARED_CREDENTIALS_FILE` (`~/.aws/credentials`, section `[NAME]`); the profile's
///   `credential_process`; its keys in `AWS_CONFIG_FILE` (`~/.aws/config`, section
///   `[profile NAME]`, or `[default]`); the container endpoint (`AWS_CONTAINER_CREDENTIALS_*`);
///   EC2 instance metadata (IMDSv2). See `AWSCredentialChain`;
/// - region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else `us-east-1`;
/// - endpoint: `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, else AWS's
///   `https://s3.REGION.amazonaws.com`;
/// - addressing: virtual-hosted (`BUCKET.host`) on AWS's endpoint, path-style (`host/BUCKET`) on any
///   other; the profile's `s3 = addressing_style = path|virtual` or `MREG_S3_ADDRESSING_STYLE`
///   overrides.
public struct S3Config: Sendable, Equatable {
    public enum Addressing: String, Sendable { case path, virtual }

    public var credentials: AWSCredentials
    public var region: String
    public var scheme: String
    public var host: String
    public var port: Int?
    public var addressing: Addressing
    /// When temporary credentials (from a process, a container or instance metadata) expire.
    public var credentialsExpiration: Date?

    public init(credentials: AWSCredentials, region: String, endpoint: String, addressing: Addressing? = nil) throws {
        self.credentials = credentials
        self.region = region
        guard let url = URLComponents(string: endpoint), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { throw MregError(.invalidInput, "S3 endpoint \(endpoint): not an http:// or https:// URL with a host") }
        self.scheme = scheme
        self.host = host
        self.port = url.port
        self.addressing = addressing ?? (host.hasSuffix(".amazonaws.com") ? .virtual : .path)
    }

    /// The `Host` header value: the host, and the port when it is not the scheme's default.
    public var authority: String {
        guard let port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) else { return host }
        return "\(host):\(port)"
    }

    /// The configuration of this process: environment variables first, then `~/.aws/` files.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Config {
        let home = env["HOME"] ?? NSHomeDirectory()
        let profile = env["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let credentialsFile = env["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials"
        let configFile = env["AWS_CONFIG_FILE"] ?? home + "/.aws/config"
        let credSections = (try? String(contentsOfFile: credentialsFile, encoding: .utf8)).map(parseINI) ?? [:]
        let configSections = (try? String(contentsOfFile: configFile, encoding: .utf8)).map(parseINI) ?? [:]
        let fromCredentials = credSections[profile] ?? [:]
        /// A profile's section of the config file: `[default]` (or `[profile default]`), `[profile NAME]`.
        func configSection(_ name: String) -> [String: String]? {
            configSections[name == "default" ? "default" : "profile \(name)"] ?? configSections["profile \(name)"]
        }
        let fromConfig = configSection(profile) ?? [:]
        func setting(_ key: String) -> String? {
            fromCredentials[key].flatMap { $0.isEmpty ? nil : $0 } ?? fromConfig[key].flatMap { $0.isEmpty ? nil : $0 }
        }
        func variable(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }

        let keys = AWSCredentialChain.keys
        // Every profile (for a role's source_profile): its config section, overridden by its
        // credentials section, as botocore merges them.
        let names = Set(configSections.keys.compactMap { $0 == "default" ? "default" : $0.hasPrefix("profile ") ? String($0.dropFirst("profile ".count)) : nil })
            .union(credSections.keys)
        var profiles: [String: [String: String]] = [:]
        for name in names { profiles[name] = (configSection(name) ?? [:]).merging(credSections[name] ?? [:]) { $1 } }
        let region = variable("AWS_REGION") ?? variable("AWS_DEFAULT_REGION") ?? setting("region") ?? "us-east-1"
        let chain = AWSCredentialChain(env: env, profile: profile, settings: profiles[profile] ?? [:], profiles: profiles, region: region)
        let credentials: AWSCredentials
        var expiration: Date? = nil
        if let key = variable("AWS_ACCESS_KEY_ID"), let secret = variable("AWS_SECRET_ACCESS_KEY") {
            credentials = AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: variable("AWS_SESSION_TOKEN"))
        } else if let role = try chain.fromRole() {
            (credentials, expiration) = (role.credentials, role.expiration)
        } else if let fromFile = keys(fromCredentials) {
            credentials = fromFile
        } else if let found = try chain.fromProcessOrProfile(configKeys: keys(fromConfig)) ?? chain.fromServices() {
            (credentials, expiration) = (found.credentials, found.expiration)
        } else {
            throw MregError(.invalidInput, """
                no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile \
                \(profile) aws_access_key_id and aws_secret_access_key in \(credentialsFile) \
                (no credential_process, container or instance-metadata credentials either)
                """)
        }
        let endpoint = variable("AWS_ENDPOINT_URL_S3") ?? variable("AWS_ENDPOINT_URL") ?? setting("endpoint_url")
            ?? "https://s3.\(region).amazonaws.com"
        var addressing: Addressing? = nil
        if let style = variable("MREG_S3_ADDRESSING_STYLE") ?? fromConfig["s3.addressing_style"] {
            guard let parsed = Addressing(rawValue: style) else {
                throw MregError(.invalidInput, "S3 addressing style \(style): expected path or virtual")
            }
            addressing = parsed
        }
        var config = try S3Config(credentials: credentials, region: region, endpoint: endpoint, addressing: addressing)
        config.credentialsExpiration = expiration
        return config
    }

    /// An aws-cli INI file: `[section]` headers, `key = value` lines, `#`/`;` comments, and the one
    /// level of nesting aws-cli knows (`s3 =` followed by indented `key = value` lines, read here as
    /// `s3.key`).
    static func parseINI(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String? = nil
        var parent: String? = nil
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                parent = nil
                sections[current!, default: [:]] = sections[current!] ?? [:]
                continue
            }
            guard let section = current, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            let indented = raw.first == " " || raw.first == "\t"
            if indented, let parent {
                sections[section]![parent + "." + key] = value
            } else if value.isEmpty {
                parent = key
            } else {
                parent = nil
                sections[section]![key] = value
            }
        }
        return sections
    }
}
