import AsyncHTTPClient
import Foundation
import MregCore
import NIOCore
import NIOHTTP1

/// Credentials from a role, as botocore gets them, from AWS STS (`Version=2011-06-15`, form body,
/// XML answer):
///
/// - **assume-role profiles**: a profile with `role_arn` and `source_profile` (a profile with keys,
///   a `credential_process`, or itself a role: chains are followed, loops refused) or
///   `credential_source` (`Environment`, `Ec2InstanceMetadata`, `EcsContainer`); `AssumeRole`
///   signed with SigV4 (service `sts`) by the source's credentials, with `role_session_name`,
///   `external_id` and `duration_seconds` when set. A profile with `mfa_serial` is refused: it
///   needs a code typed in, and mreg does not prompt;
/// - **web identity**: `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`),
///   else the profile's `web_identity_token_file` + `role_arn`; `AssumeRoleWithWebIdentity`,
///   unsigned, with the token read from the file (EKS IRSA, GitHub Actions OIDC).
///
/// STS is reached at `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else the profile's
/// `sts = endpoint_url`, else its `endpoint_url`, else `https://sts.REGION.amazonaws.com`
/// (botocore's order for an endpoint, and its regional STS endpoint).
extension AWSCredentialChain {
    /// The role of the profile, or of the web identity variables; nil when there is none.
    func fromRole() throws -> Found? {
        if settings["role_arn"] != nil, settings["source_profile"] != nil || settings["credential_source"] != nil {
            return try assumeRole(profile, settings: settings, visited: [])
        }
        return try fromWebIdentity()
    }

    // MARK: - AssumeRole

    func assumeRole(_ name: String, settings s: [String: String], visited: Set<String>) throws -> Found {
        let what = "role of profile \(name)"
        guard let roleArn = s["role_arn"] else { throw MregError(.invalidInput, "profile \(name): no role_arn") }
        if s["mfa_serial"] != nil {
            throw MregError(.invalidInput, "\(what): mfa_serial needs a code typed in, and mreg does not prompt; get a session first (aws sts get-session-token) or use credential_process")
        }
        let source: AWSCredentials
        if let sourceName = s["source_profile"] {
            source = try sourceCredentials(sourceName, of: name, visited: visited.union([name]))
        } else {
            source = try credentialSource(s["credential_source"] ?? "", of: name)
        }
        var params = [("Action", "AssumeRole"), ("RoleArn", roleArn),
                      ("RoleSessionName", s["role_session_name"] ?? Self.sessionName())]
        if let external = s["external_id"] { params.append(("ExternalId", external)) }
        if let duration = s["duration_seconds"] {
            guard let seconds = Int(duration), seconds >= 900 else {
                throw MregError(.invalidInput, "profile \(name): duration_seconds \(duration) is not a number of seconds of at least 900")
            }
            params.append(("DurationSeconds", String(seconds)))
        }
        return try sts(params, signedWith: source, what: "\(what) (\(roleArn))")
    }

    /// The credentials of a `source_profile`: a role of its own (followed), its keys, or its
    /// `credential_process`. A profile may name itself when it holds keys (botocore allows it).
    func sourceCredentials(_ name: String, of user: String, visited: Set<String>) throws -> AWSCredentials {
        guard let s = profiles[name] else {
            throw MregError(.invalidInput, "profile \(user): source_profile \(name) is not a profile in the config or credentials file")
        }
        if s["role_arn"] != nil, name != user {
            guard !visited.contains(name) else {
                throw MregError(.invalidInput, "profile \(user): source_profile \(name) leads back to a profile already on the way (a loop)")
            }
            return try assumeRole(name, settings: s, visited: visited).credentials
        }
        if let keys = Self.keys(s) { return keys }
        if let command = s["credential_process"] {
            return try AWSCredentialChain(env: env, profile: name, settings: s, profiles: profiles, region: region).fromProcess(command).credentials
        }
        throw MregError(.invalidInput, "profile \(name), the source_profile of \(user), has no aws_access_key_id and aws_secret_access_key, credential_process or role")
    }

    func credentialSource(_ source: String, of user: String) throws -> AWSCredentials {
        switch source {
        case "Environment":
            guard let key = variable("AWS_ACCESS_KEY_ID"), let secret = variable("AWS_SECRET_ACCESS_KEY") else {
                throw MregError(.invalidInput, "profile \(user): credential_source Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
            }
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: variable("AWS_SESSION_TOKEN"))
        case "Ec2InstanceMetadata":
            guard let found = try fromInstanceMetadata() else {
                throw MregError(.operational, "profile \(user): credential_source Ec2InstanceMetadata, but instance metadata gave no credentials")
            }
            return found.credentials
        case "EcsContainer":
            guard let found = try fromContainer() else {
                throw MregError(.invalidInput, "profile \(user): credential_source EcsContainer, but AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set")
            }
            return found.credentials
        default:
            throw MregError(.invalidInput, "profile \(user): credential_source \"\(source)\": expected Environment, Ec2InstanceMetadata or EcsContainer (or a source_profile)")
        }
    }

    // MARK: - Web identity

    func fromWebIdentity() throws -> Found? {
        let tokenFile: String, roleArn: String, session: String?
        if let file = variable("AWS_WEB_IDENTITY_TOKEN_FILE") {
            guard let arn = variable("AWS_ROLE_ARN") else {
                throw MregError(.invalidInput, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
            }
            (tokenFile, roleArn, session) = (file, arn, variable("AWS_ROLE_SESSION_NAME"))
        } else if let file = settings["web_identity_token_file"] {
            guard let arn = settings["role_arn"] else {
                throw MregError(.invalidInput, "profile \(profile): web_identity_token_file without role_arn")
            }
            (tokenFile, roleArn, session) = (file, arn, settings["role_session_name"])
        } else {
            return nil
        }
        guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
              !token.isEmpty else {
            throw MregError(.invalidInput, "web identity token file \(tokenFile): cannot be read, or is empty")
        }
        return try sts([("Action", "AssumeRoleWithWebIdentity"), ("RoleArn", roleArn),
                         ("RoleSessionName", session ?? Self.sessionName()), ("WebIdentityToken", token)],
                       signedWith: nil, what: "web identity role \(roleArn)")
    }

    // MARK: - STS

    var stsEndpoint: String {
        variable("AWS_ENDPOINT_URL_STS") ?? variable("AWS_ENDPOINT_URL") ?? settings["sts.endpoint_url"] ?? settings["endpoint_url"]
            ?? "https://sts.\(region).amazonaws.com"
    }

    /// One STS call: `params` + `Version` as a form body, POSTed to the endpoint's root, signed
    /// when credentials are given; the answer's `Credentials` (an error answer's `Code` and
    /// `Message` in the error).
    func sts(_ params: [(String, String)], signedWith credentials: AWSCredentials?, what: String) throws -> Found {
        let endpoint = stsEndpoint
        let action = params.first { $0.0 == "Action" }?.1 ?? "?"
        guard let url = URLComponents(string: endpoint), let host = url.host, url.scheme == "http" || url.scheme == "https" else {
            throw MregError(.invalidInput, "\(what): STS endpoint \(endpoint) is not an http:// or https:// URL")
        }
        let body = Data((params + [("Version", "2011-06-15")])
            .map { SigV4Signer.uriEncode($0.0, keepSlash: false) + "=" + SigV4Signer.uriEncode($0.1, keepSlash: false) }
            .joined(separator: "&").utf8)
        let authority = url.port.map { "\(host):\($0)" } ?? host
        let path = url.path.isEmpty ? "/" : url.path
        var headers = [("host", authority), ("content-type", "application/x-www-form-urlencoded; charset=utf-8")]
        if let credentials {
            let signer = SigV4Signer(credentials: credentials, region: region, service: "sts")
            headers += signer.sign(SigV4Signer.Request(method: "POST", path: path, headers: headers,
                                                       payloadHash: SigV4Signer.sha256Hex(body)), at: Date())
        }
        let answer = try Self.fetch(.POST, url.path.isEmpty ? endpoint + "/" : endpoint, headers: headers.filter { $0.0 != "host" },
                                    body: body, timeout: 30, what: "\(what): STS \(action) at \(endpoint)")
        let text = String(decoding: answer.body, as: UTF8.self)
        guard answer.status == 200 else {
            let code = S3XML.value("Code", in: text).map { " " + $0 } ?? ""
            let message = S3XML.value("Message", in: text).map { ": " + $0 } ?? ""
            throw MregError(.operational, "\(what): STS \(action) at \(endpoint): HTTP \(answer.status)\(code)\(message)")
        }
        guard let block = text.range(of: "<Credentials>").map({ String(text[$0.upperBound...]) }) else {
            throw MregError(.operational, "\(what): STS \(action) at \(endpoint): no Credentials in the answer")
        }
        var json: [String: Any] = [:]
        for tag in ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"] { json[tag] = S3XML.value(tag, in: block) }
        return try Self.parse(json, token: "SessionToken", what: "\(what) from STS at \(endpoint)")
    }

    /// botocore's default session name, with mreg's name: `mreg-session-<seconds since 1970>`.
    static func sessionName() -> String { "mreg-session-\(Int(Date().timeIntervalSince1970))" }

    /// A section's `aws_access_key_id` and `aws_secret_access_key` (+ `aws_session_token`).
    static func keys(_ section: [String: String]) -> AWSCredentials? {
        guard let key = section["aws_access_key_id"].flatMap({ $0.isEmpty ? nil : $0 }),
              let secret = section["aws_secret_access_key"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret,
                              sessionToken: section["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 })
    }
}
