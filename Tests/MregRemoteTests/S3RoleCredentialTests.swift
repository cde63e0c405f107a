import Foundation
import MregCore
import Testing
import _MregTestSupport
@testable import MregRemote

/// Credentials from a role (MregRemote/AWSCredentialChain+Roles.swift): assume-role profiles and
/// web identity against moto's STS server, which checks an AssumeRole's Signature V4 with
/// botocore's signer and the role's trust policy; and the refusals that need no server.
@Suite("S3 credentials: assume-role profiles and web identity", .serialized)
struct S3RoleCredentialTests {
    let t = TemporaryDirectory("mreg-aws-roles")

    /// A machine with no keys anywhere, instance metadata off, the config and credentials files
    /// given, STS at moto when it runs.
    func environment(config: String, credentials: String = "", _ extra: [String: String] = [:]) -> [String: String] {
        var env = ["HOME": t.path, "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1",
                   "AWS_CONFIG_FILE": t.write("config-\(UUID().uuidString)", config),
                   "AWS_SHARED_CREDENTIALS_FILE": t.write("credentials-\(UUID().uuidString)", credentials),
                   "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9"]
        if let sts = STSTestServer.current { env["AWS_ENDPOINT_URL_STS"] = sts.endpoint }
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// The error `S3Config.fromEnvironment` throws, as one line.
    func failure(_ env: [String: String]) -> String {
        do {
            _ = try S3Config.fromEnvironment(env)
            return "no error"
        } catch {
            return MregError.wrap(error)?.message ?? "\(error)"
        }
    }

    /// moto's authentication: on (every request's signature and permissions checked) or off
    /// (AssumeRoleWithWebIdentity is unsigned, which moto then refuses).
    func authentication(_ on: Bool) throws {
        let sts = try #require(STSTestServer.current)
        let answer = try AWSCredentialChain.fetch(.POST, sts.endpoint + "/moto-api/reset-auth", headers: [],
                                                  body: Data((on ? "0" : "inf").utf8), timeout: 10, what: "moto")
        #expect(answer.status == 200)
    }

    func expectTemporary(_ config: S3Config, notKey: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(config.credentials.accessKeyID.hasPrefix("ASIA") && config.credentials.accessKeyID != notKey, sourceLocation: sourceLocation)
        #expect(!(config.credentials.sessionToken ?? "").isEmpty, sourceLocation: sourceLocation)
        #expect((config.credentialsExpiration ?? .distantPast) > Date(), sourceLocation: sourceLocation)
    }

    @Test("assume-role profile: AssumeRole signed with the source profile's keys; a wrong secret is moto's SignatureDoesNotMatch",
          .enabled(if: STSTestServer.available, "needs moto's STS server: run scripts/test.sh"))
    func assumeRole() throws {
        let sts = try #require(STSTestServer.current)
        try authentication(true)
        defer { try? authentication(false) }
        let config = """
            [profile deploy]
            role_arn = \(sts.roleArn)
            source_profile = base
            role_session_name = ci-run
            duration_seconds = 900
            """
        func credentials(_ secret: String) -> String {
            "[base]\naws_access_key_id = \(sts.accessKey)\naws_secret_access_key = \(secret)\n"
        }
        let env = environment(config: config, credentials: credentials(sts.secretKey), ["AWS_PROFILE": "deploy"])
        expectTemporary(try S3Config.fromEnvironment(env), notKey: sts.accessKey)
        // The source keys in the config file, and a credential_process as the source, work the same.
        let inConfig = environment(config: config + "\n[profile base]\naws_access_key_id = \(sts.accessKey)\naws_secret_access_key = \(sts.secretKey)\n",
                                   ["AWS_PROFILE": "deploy"])
        expectTemporary(try S3Config.fromEnvironment(inConfig), notKey: sts.accessKey)
        let process = t.write("bin/creds", """
            #!/bin/sh
            echo '{"Version": 1, "AccessKeyId": "\(sts.accessKey)", "SecretAccessKey": "\(sts.secretKey)"}'
            """, executable: true)
        let viaProcess = environment(config: config + "\n[profile base]\ncredential_process = \(process)\n",
                                     ["AWS_PROFILE": "deploy", "PATH": "/usr/bin:/bin"])
        expectTemporary(try S3Config.fromEnvironment(viaProcess), notKey: sts.accessKey)

        let wrong = failure(environment(config: config, credentials: credentials("not-the-secret"), ["AWS_PROFILE": "deploy"]))
        #expect(wrong.contains("role of profile deploy (\(sts.roleArn)): STS AssumeRole at \(sts.endpoint): HTTP 403 SignatureDoesNotMatch"), "\(wrong)")
        #expect(!wrong.contains("\n"))
        // A role the user is not trusted by: moto's AccessDenied, named.
        let other = config.replacingOccurrences(of: "role/mreg-registry-writer", with: "role/someone-else")
        let denied = failure(environment(config: other, credentials: credentials(sts.secretKey), ["AWS_PROFILE": "deploy"]))
        #expect(denied.contains("STS AssumeRole") && denied.contains("HTTP 403"), "\(denied)")
    }

    @Test("web identity: the token file's token for the role, from the variables or from the profile",
          .enabled(if: STSTestServer.available, "needs moto's STS server: run scripts/test.sh"))
    func webIdentity() throws {
        let sts = try #require(STSTestServer.current)
        try authentication(false)
        let token = t.write("token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl\n")
        let fromVariables = environment(config: "", ["AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": sts.roleArn,
                                                     "AWS_ROLE_SESSION_NAME": "github-actions"])
        expectTemporary(try S3Config.fromEnvironment(fromVariables), notKey: "")
        let fromProfile = environment(config: "[profile ci]\nrole_arn = \(sts.roleArn)\nweb_identity_token_file = \(token)\n",
                                      ["AWS_PROFILE": "ci"])
        expectTemporary(try S3Config.fromEnvironment(fromProfile), notKey: "")
    }

    @Test("refused before any request: a loop of source profiles, mfa_serial, an unknown source, a bad credential_source or duration, a token file missing or without a role")
    func refusals() {
        let loop = environment(config: """
            [profile a]
            role_arn = arn:aws:iam::123456789012:role/a
            source_profile = b
            [profile b]
            role_arn = arn:aws:iam::123456789012:role/b
            source_profile = a
            """, ["AWS_PROFILE": "a"])
        #expect(failure(loop) == "profile b: source_profile a leads back to a profile already on the way (a loop)")
        let mfa = environment(config: "[profile m]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = m\nmfa_serial = arn:aws:iam::1:mfa/u\n",
                              ["AWS_PROFILE": "m"])
        #expect(failure(mfa).hasPrefix("role of profile m: mfa_serial needs a code typed in"))
        let unknown = environment(config: "[profile u]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = nowhere\n", ["AWS_PROFILE": "u"])
        #expect(failure(unknown) == "profile u: source_profile nowhere is not a profile in the config or credentials file")
        let empty = environment(config: "[profile u]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = bare\n[profile bare]\nregion = eu-west-1\n",
                                ["AWS_PROFILE": "u"])
        #expect(failure(empty) == "profile bare, the source_profile of u, has no aws_access_key_id and aws_secret_access_key, credential_process or role")
        let source = environment(config: "[profile s]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Laptop\n", ["AWS_PROFILE": "s"])
        #expect(failure(source).hasPrefix("profile s: credential_source \"Laptop\": expected Environment, Ec2InstanceMetadata or EcsContainer"))
        let duration = environment(config: "[profile d]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = d\nduration_seconds = 60\n",
                                   credentials: "[d]\naws_access_key_id = AK\naws_secret_access_key = s\n", ["AWS_PROFILE": "d"])
        #expect(failure(duration) == "profile d: duration_seconds 60 is not a number of seconds of at least 900")
        let noFile = environment(config: "", ["AWS_WEB_IDENTITY_TOKEN_FILE": t.join("absent"), "AWS_ROLE_ARN": "arn:aws:iam::1:role/r"])
        #expect(failure(noFile) == "web identity token file \(t.join("absent")): cannot be read, or is empty")
        let noRole = environment(config: "", ["AWS_WEB_IDENTITY_TOKEN_FILE": t.write("tok", "x")])
        #expect(failure(noRole) == "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
    }
}
