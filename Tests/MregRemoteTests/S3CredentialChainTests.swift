import Foundation
import MregCore
import Testing
import _MregTestSupport
@testable import MregRemote

/// Credentials as botocore finds them after the environment and the credentials file: a real
/// `credential_process` script, and a small local HTTP server (Python's http.server) speaking the
/// container-credentials and EC2 instance-metadata (IMDSv2) protocols; the keys obtained then sign
/// real requests to SeaweedFS.
@Suite("S3 credentials: credential_process, container endpoint, instance metadata")
struct S3CredentialChainTests {
    let t = TemporaryDirectory("mreg-aws-chain")
    /// The keys the sources hand out: SeaweedFS's when it runs, else placeholders.
    let key = S3TestServer.current?.accessKey ?? "AKCHAIN"
    let secret = S3TestServer.current?.secretKey ?? "secret-chain"
    let later = "2099-01-01T00:00:00Z"

    /// The environment of a machine with no keys anywhere and instance metadata off.
    func environment(_ extra: [String: String]) -> [String: String] {
        var env = ["HOME": t.path, "AWS_EC2_METADATA_DISABLED": "true", "PATH": "/usr/bin:/bin"]
        if let server = S3TestServer.current { env["AWS_ENDPOINT_URL"] = server.endpoint; env["AWS_REGION"] = server.region }
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// A signed PUT and GET with the configuration's credentials, when SeaweedFS runs.
    func signedRoundTrip(_ config: S3Config) throws {
        guard S3TestServer.available else { return }
        let client = S3Client(config: config, retry: RetryPolicy(attempts: 2, baseDelay: 0.05))
        let bucket = S3TestServer.uniqueBucket("creds")
        try client.createBucket(bucket)
        _ = try client.put(bucket: bucket, key: "hello", data: Data("signed".utf8))
        #expect(try client.get(bucket: bucket, key: "hello")?.data == Data("signed".utf8))
    }

    /// A credential_process script that records its arguments and prints `body`.
    func script(_ body: String, status: Int = 0, stderr: String = "") -> String {
        t.write("bin/creds", """
            #!/bin/sh
            printf '%s\\n' "$@" > \(t.path)/args
            printf '%s' '\(stderr)' >&2
            cat <<'EOF'
            \(body)
            EOF
            exit \(status)
            """, executable: true)
    }

    @Test("credential_process: split as a shell would, run, its JSON read; then a real signed request")
    func credentialProcess() throws {
        let path = script(#"{"Version": 1, "AccessKeyId": "\#(key)", "SecretAccessKey": "\#(secret)", "Expiration": "\#(later)"}"#)
        t.write(".aws/config", """
            [profile ci]
            credential_process = \(path) --role 'two words' "x y"
            """)
        let config = try S3Config.fromEnvironment(environment(["AWS_PROFILE": "ci"]))
        #expect(config.credentials == AWSCredentials(accessKeyID: key, secretAccessKey: secret))
        #expect(config.credentialsExpiration == Date(timeIntervalSince1970: 4_070_908_800))
        #expect(String(decoding: t.read("args") ?? Data(), as: UTF8.self) == "--role\ntwo words\nx y\n")
        try signedRoundTrip(config)
    }

    @Test("botocore's order: the credentials file's keys before credential_process, credential_process before the config file's keys")
    func order() throws {
        let path = script(#"{"Version": 1, "AccessKeyId": "AKPROCESS", "SecretAccessKey": "s", "SessionToken": "tok"}"#)
        t.write(".aws/config", """
            [default]
            credential_process = \(path)
            aws_access_key_id = AKCONFIG
            aws_secret_access_key = s
            """)
        let fromProcess = try S3Config.fromEnvironment(environment([:]))
        #expect(fromProcess.credentials == AWSCredentials(accessKeyID: "AKPROCESS", secretAccessKey: "s", sessionToken: "tok"))
        t.write(".aws/credentials", "[default]\naws_access_key_id = AKFILE\naws_secret_access_key = f\n")
        try? FileManager.default.removeItem(atPath: t.join("args"))
        #expect(try S3Config.fromEnvironment(environment([:])).credentials.accessKeyID == "AKFILE")
        #expect(!t.exists("args"), "the process must not run when the credentials file has keys")
    }

    @Test("credential_process failures: its exit status and first stderr line, bad JSON, a wrong Version, expired credentials")
    func processFailures() {
        func failure(_ body: String, status: Int = 0, stderr: String = "") -> String {
            let path = script(body, status: status, stderr: stderr)
            t.write(".aws/config", "[default]\ncredential_process = \(path)\n")
            do { _ = try S3Config.fromEnvironment(environment([:])); return "no error" } catch let e as MregError { return e.message } catch { return "\(error)" }
        }
        let path = t.join("bin/creds")
        #expect(failure("", status: 3, stderr: "boom: no session\nmore") == "credential_process of profile default (\(path)) exited with status 3: boom: no session")
        #expect(failure("not json") == "credential_process of profile default (\(path)): its output is not a JSON object")
        #expect(failure(#"{"Version": 2, "AccessKeyId": "a", "SecretAccessKey": "b"}"#) == "credential_process of profile default (\(path)): \"Version\" must be 1")
        #expect(failure(#"{"Version": 1, "AccessKeyId": "a", "SecretAccessKey": "b", "Expiration": "2020-01-01T00:00:00Z"}"#)
                == "credential_process of profile default: the credentials expired at 2020-01-01T00:00:00Z")
    }

    /// Python's http.server answering the container and IMDSv2 protocols, on a free loopback port.
    final class MetadataServer {
        let process = Process()
        let port: Int
        let log: String

        init(_ t: TemporaryDirectory, key: String, secret: String, expiration: String, authorization: String) throws {
            log = t.join("metadata.log")
            let program = t.write("metadata.py", #"""
                import http.server, json, sys
                key, secret, expiration, authorization, log = sys.argv[1:6]
                token = "imds-session-token"
                role = "mreg-role"
                def note(line):
                    with open(log, "a") as f:
                        f.write(line + "\n")
                class Handler(http.server.BaseHTTPRequestHandler):
                    def log_message(self, *args):
                        pass
                    def answer(self, code, body):
                        data = body.encode()
                        self.send_response(code)
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                    def do_PUT(self):
                        ttl = self.headers.get("x-aws-ec2-metadata-token-ttl-seconds")
                        note("PUT %s ttl=%s" % (self.path, ttl))
                        if self.path == "/latest/api/token" and ttl:
                            return self.answer(200, token)
                        self.answer(400, "")
                    def do_GET(self):
                        note("GET %s token=%s" % (self.path, self.headers.get("x-aws-ec2-metadata-token")))
                        creds = json.dumps({"Code": "Success", "AccessKeyId": key, "SecretAccessKey": secret,
                                            "Token": "temporary-session", "Expiration": expiration})
                        if self.path == "/container/credentials":
                            if self.headers.get("Authorization") != authorization:
                                return self.answer(401, "")
                            return self.answer(200, creds)
                        if self.headers.get("x-aws-ec2-metadata-token") != token:
                            return self.answer(401, "")
                        if self.path == "/latest/meta-data/iam/security-credentials/":
                            return self.answer(200, role + "\n")
                        if self.path == "/latest/meta-data/iam/security-credentials/" + role:
                            return self.answer(200, creds)
                        self.answer(404, "")
                server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
                print(server.server_port, flush=True)
                server.serve_forever()
                """#)
            let out = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", program, key, secret, expiration, authorization, log]
            process.standardOutput = out
            try process.run()
            var line = Data()
            while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line += byte }
            port = Int(String(decoding: line, as: UTF8.self)) ?? 0
        }

        deinit {
            // SIGKILL: a child of the test runner may inherit SIGTERM blocked.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        var requests: [String] { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
    }

    @Test("the container endpoint: AWS_CONTAINER_CREDENTIALS_FULL_URI with the token file's Authorization; a real signed request")
    func container() throws {
        let server = try MetadataServer(t, key: key, secret: secret, expiration: later, authorization: "Bearer pod-token")
        #expect(server.port > 0)
        let uri = "http://127.0.0.1:\(server.port)/container/credentials"
        t.write("token", "Bearer pod-token\n")
        let config = try S3Config.fromEnvironment(environment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri,
                                                               "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": t.join("token"),
                                                               "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer ignored"]))
        #expect(config.credentials == AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: "temporary-session"))
        #expect(config.credentialsExpiration != nil)
        #expect(throws: MregError(.operational, "container credentials from \(uri): HTTP 401")) {
            try S3Config.fromEnvironment(environment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer wrong"]))
        }
        #expect(throws: MregError.self) {
            try S3Config.fromEnvironment(environment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://203.0.113.9/creds"]))
        }
        try signedRoundTrip(S3Config(credentials: AWSCredentials(accessKeyID: config.credentials.accessKeyID, secretAccessKey: config.credentials.secretAccessKey),
                                     region: config.region, endpoint: "\(config.scheme)://\(config.authority)"))
    }

    @Test("EC2 instance metadata: IMDSv2 token, then role, then its credentials; AWS_EC2_METADATA_DISABLED; container first")
    func instanceMetadata() throws {
        let server = try MetadataServer(t, key: key, secret: secret, expiration: later, authorization: "Bearer pod-token")
        let endpoint = ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(server.port)/", "AWS_EC2_METADATA_DISABLED": ""]
        let config = try S3Config.fromEnvironment(environment(endpoint))
        #expect(config.credentials == AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: "temporary-session"))
        #expect(server.requests == [
            "PUT /latest/api/token ttl=21600",
            "GET /latest/meta-data/iam/security-credentials/ token=imds-session-token",
            "GET /latest/meta-data/iam/security-credentials/mreg-role token=imds-session-token",
        ])
        // Disabled: not asked at all.
        #expect(throws: MregError.self) { try S3Config.fromEnvironment(environment(endpoint.merging(["AWS_EC2_METADATA_DISABLED": "true"]) { $1 })) }
        #expect(server.requests.count == 3)
        // The container endpoint comes first.
        t.write("token", "Bearer pod-token")
        let both = try S3Config.fromEnvironment(environment(endpoint.merging([
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(server.port)/container/credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": t.join("token")]) { $1 }))
        #expect(both.credentials.sessionToken == "temporary-session")
        #expect(server.requests.last == "GET /container/credentials token=None")
        try signedRoundTrip(S3Config(credentials: AWSCredentials(accessKeyID: config.credentials.accessKeyID, secretAccessKey: config.credentials.secretAccessKey),
                                     region: config.region, endpoint: "\(config.scheme)://\(config.authority)"))
    }
}
