import AsyncHTTPClient
import Foundation
import MregCore
import NIOCore
import NIOHTTP1

/// Where credentials come from when no key is in the environment, in botocore's order: a role
/// (an assume-role profile, or web identity: AWSCredentialChain+Roles.swift) before the
/// shared-credentials file; after it the profile's `credential_process`, the profile's keys in the
/// config file, the container endpoint (ECS, EKS Pod Identity), then EC2 instance metadata
/// (IMDSv2). Each answers temporary credentials: a session token and an expiry.
struct AWSCredentialChain {
    let env: [String: String]
    let profile: String
    /// The profile's settings from the config file (and the credentials file, as botocore merges them).
    let settings: [String: String]
    /// Every profile's settings, by name (for a role's `source_profile`).
    let profiles: [String: [String: String]]
    /// The region (STS is called in it).
    let region: String

    /// Temporary credentials, with their expiry when the source gave one.
    struct Found {
        var credentials: AWSCredentials
        var expiration: Date?
        var source: String
    }

    func variable(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// The first source that answers, after the keys of the credentials file (the caller's).
    func fromProcessOrProfile(configKeys: AWSCredentials?) throws -> Found? {
        if let command = settings["credential_process"] { return try fromProcess(command) }
        if let configKeys { return Found(credentials: configKeys, expiration: nil, source: "profile \(profile) in the config file") }
        return nil
    }

    func fromServices() throws -> Found? {
        if let found = try fromContainer() { return found }
        return try fromInstanceMetadata()
    }

    // MARK: - credential_process

    /// Runs the profile's `credential_process` (split as a shell would, run without one) and reads
    /// `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?, "Expiration"?}` from it.
    func fromProcess(_ command: String) throws -> Found {
        let what = "credential_process of profile \(profile)"
        let argv = Self.split(command)
        guard !argv.isEmpty else { throw MregError(.invalidInput, "\(what) is empty") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw MregError(.operational, "\(what): cannot run \(argv[0]): \(error.localizedDescription)")
        }
        // Both pipes read before waiting (a chatty process must not block on a full pipe).
        let errData = Locked(Data())
        let readErr = DispatchSemaphore(value: 0)
        Thread {
            errData.set(err.fileHandleForReading.readDataToEndOfFile())
            readErr.signal()
        }.start()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        readErr.wait()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errData.value, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            throw MregError(.operational, "\(what) (\(argv[0])) exited with status \(process.terminationStatus)\(message.isEmpty ? "" : ": " + message)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: output) as? [String: Any] else {
            throw MregError(.operational, "\(what) (\(argv[0])): its output is not a JSON object")
        }
        guard (json["Version"] as? Int) == 1 else {
            throw MregError(.operational, "\(what) (\(argv[0])): \"Version\" must be 1")
        }
        return try Self.parse(json, token: "SessionToken", what: what)
    }

    /// A command line split into words: blanks separate, '…' and "…" quote, \ escapes.
    static func split(_ line: String) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character? = nil
        var escaped = false
        for c in line {
            if escaped { word.append(c); escaped = false; inWord = true; continue }
            if c == "\\" && quote != "'" { escaped = true; continue }
            if let q = quote {
                if c == q { quote = nil } else { word.append(c) }
                continue
            }
            if c == "'" || c == "\"" { quote = c; inWord = true; continue }
            if c == " " || c == "\t" {
                if inWord { words.append(word); word = ""; inWord = false }
                continue
            }
            word.append(c)
            inWord = true
        }
        if inWord { words.append(word) }
        return words
    }

    // MARK: - Container endpoint

    /// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on 169.254.170.2), else
    /// `AWS_CONTAINER_CREDENTIALS_FULL_URI` (https, or http to a loopback or the ECS/EKS address),
    /// with `Authorization` from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, else `_TOKEN`.
    func fromContainer() throws -> Found? {
        let url: String
        if let relative = variable("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            url = "http://169.254.170.2" + relative
        } else if let full = variable("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            guard let parts = URLComponents(string: full), let host = parts.host,
                  parts.scheme == "https" || (parts.scheme == "http" && Self.allowedContainerHost(host))
            else {
                throw MregError(.invalidInput, "AWS_CONTAINER_CREDENTIALS_FULL_URI \(full): must be https, or http to a loopback address, 169.254.170.2 or 169.254.170.23")
            }
            url = full
        } else {
            return nil
        }
        var headers: [(String, String)] = []
        if let file = variable("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            guard let token = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw MregError(.operational, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file): cannot be read")
            }
            headers.append(("Authorization", token.trimmingCharacters(in: .whitespacesAndNewlines)))
        } else if let token = variable("AWS_CONTAINER_AUTHORIZATION_TOKEN") {
            headers.append(("Authorization", token))
        }
        let what = "container credentials from \(url)"
        let answer = try Self.fetch(.GET, url, headers: headers, timeout: metadataTimeout, what: what)
        guard answer.status == 200 else {
            throw MregError(.operational, "\(what): HTTP \(answer.status)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any] else {
            throw MregError(.operational, "\(what): the answer is not a JSON object")
        }
        return try Self.parse(json, token: "Token", what: what)
    }

    static func allowedContainerHost(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
            || ["169.254.170.2", "169.254.170.23", "fd00:ec2::23"].contains(bare)
    }

    // MARK: - EC2 instance metadata

    var metadataTimeout: Double { variable("AWS_METADATA_SERVICE_TIMEOUT").flatMap(Double.init) ?? 1 }

    /// IMDSv2: a session token (PUT), the role name, then the role's credentials, each request
    /// carrying the token. A 403, 404 or 405 to the token request falls back to IMDSv1 (no token),
    /// as botocore does. Nil when disabled or when nothing answers (not on EC2).
    func fromInstanceMetadata() throws -> Found? {
        if variable("AWS_EC2_METADATA_DISABLED")?.lowercased() == "true" { return nil }
        var base = variable("AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? "http://169.254.169.254"
        while base.hasSuffix("/") { base.removeLast() }
        let what = "instance metadata at \(base)"
        let timeout = metadataTimeout
        var headers: [(String, String)] = []
        do {
            let token = try Self.fetch(.PUT, base + "/latest/api/token", headers: [("x-aws-ec2-metadata-token-ttl-seconds", "21600")],
                                       timeout: timeout, what: what)
            if token.status == 200 {
                headers = [("x-aws-ec2-metadata-token", String(decoding: token.body, as: UTF8.self))]
            } else if ![403, 404, 405].contains(token.status) {
                return nil
            }
        } catch {
            return nil  // nothing answers: not on EC2
        }
        let rolePath = base + "/latest/meta-data/iam/security-credentials/"
        let roles = try Self.fetch(.GET, rolePath, headers: headers, timeout: timeout, what: what)
        guard roles.status == 200,
              let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init),
              !role.isEmpty
        else { return nil }  // no role attached to the instance
        let answer = try Self.fetch(.GET, rolePath + role, headers: headers, timeout: timeout, what: what)
        guard answer.status == 200, let json = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any] else {
            throw MregError(.operational, "\(what): credentials of role \(role): HTTP \(answer.status), or not a JSON object")
        }
        if let code = json["Code"] as? String, code != "Success" {
            throw MregError(.operational, "\(what): credentials of role \(role): \(code)")
        }
        return try Self.parse(json, token: "Token", what: "\(what), role \(role)")
    }

    // MARK: - Shared

    /// `AccessKeyId`, `SecretAccessKey`, the token under `token`, `Expiration` (ISO 8601); refused
    /// when already expired.
    static func parse(_ json: [String: Any], token: String, what: String) throws -> Found {
        guard let key = json["AccessKeyId"] as? String, !key.isEmpty,
              let secret = json["SecretAccessKey"] as? String, !secret.isEmpty else {
            throw MregError(.operational, "\(what): no AccessKeyId and SecretAccessKey in the answer")
        }
        var expiration: Date? = nil
        if let text = json["Expiration"] as? String {
            guard let seconds = S3Time.iso8601(text) else {
                throw MregError(.operational, "\(what): Expiration \(text) is not an ISO 8601 time")
            }
            expiration = Date(timeIntervalSince1970: seconds)
            if expiration! <= Date() { throw MregError(.operational, "\(what): the credentials expired at \(text)") }
        }
        let session = (json[token] as? String).flatMap { $0.isEmpty ? nil : $0 }
        return Found(credentials: AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: session),
                     expiration: expiration, source: what)
    }

    /// One small HTTP request with a deadline: status and body.
    static func fetch(_ method: HTTPMethod, _ url: String, headers: [(String, String)], body: Data? = nil, timeout: Double,
                      what: String) throws -> (status: UInt, body: Data) {
        var request: HTTPClient.Request
        do { request = try HTTPClient.Request(url: url, method: method) } catch {
            throw MregError(.invalidInput, "\(what): \(url) is not a URL")
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .byteBuffer(ByteBuffer(bytes: body)) }
        let response = try S3Client.processClient.execute(request: request, deadline: .now() + .milliseconds(Int64(timeout * 1000))).wait()
        let body = response.body.map { Data($0.readableBytesView) } ?? Data()
        return (response.status.code, body)
    }

    /// A value set by another thread.
    final class Locked<T>: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: T
        init(_ value: T) { stored = value }
        func set(_ value: T) { lock.withLock { stored = value } }
        var value: T { lock.withLock { stored } }
    }
}
