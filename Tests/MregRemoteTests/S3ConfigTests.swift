import Foundation
import MregCore
import Testing
import _MregTestSupport
@testable import MregRemote

@Suite("S3 configuration as aws-cli reads it")
struct S3ConfigTests {
    static func files() -> TemporaryDirectory {
        let dir = TemporaryDirectory("mreg-aws-config")
        _ = dir.write(".aws/credentials", """
            [default]
            aws_access_key_id = AKDEFAULT
            aws_secret_access_key = secret-default

            # a comment
            [team]
            aws_access_key_id=AKTEAM
            aws_secret_access_key=secret-team
            aws_session_token = token-team
            """)
        _ = dir.write(".aws/config", """
            [default]
            region = eu-west-1

            [profile team]
            region = eu-central-1
            endpoint_url = http://127.0.0.1:8333
            s3 =
              addressing_style = virtual
            """)
        return dir
    }

    @Test("environment variables win over the files")
    func environmentFirst() throws {
        let dir = Self.files()
        let config = try S3Config.fromEnvironment([
            "HOME": dir.path, "AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "secret-env",
            "AWS_SESSION_TOKEN": "tok", "AWS_REGION": "ap-south-1", "AWS_ENDPOINT_URL": "https://minio.example:9000",
        ])
        #expect(config.credentials == AWSCredentials(accessKeyID: "AKENV", secretAccessKey: "secret-env", sessionToken: "tok"))
        #expect(config.region == "ap-south-1")
        #expect(config.authority == "minio.example:9000")
        #expect(config.addressing == .path)
    }

    @Test("the default profile from ~/.aws; AWS's own endpoint, virtual-hosted")
    func defaultProfile() throws {
        let dir = Self.files()
        let config = try S3Config.fromEnvironment(["HOME": dir.path])
        #expect(config.credentials == AWSCredentials(accessKeyID: "AKDEFAULT", secretAccessKey: "secret-default"))
        #expect(config.region == "eu-west-1")
        #expect(config.host == "s3.eu-west-1.amazonaws.com")
        #expect(config.scheme == "https")
        #expect(config.addressing == .virtual)
    }

    @Test("AWS_PROFILE: its credentials, region, endpoint_url and nested s3 addressing_style")
    func namedProfile() throws {
        let dir = Self.files()
        let config = try S3Config.fromEnvironment(["HOME": dir.path, "AWS_PROFILE": "team",
                                                   "AWS_DEFAULT_REGION": "us-west-2"])
        #expect(config.credentials == AWSCredentials(accessKeyID: "AKTEAM", secretAccessKey: "secret-team", sessionToken: "token-team"))
        #expect(config.region == "us-west-2")  // AWS_DEFAULT_REGION before the profile's region
        #expect(config.authority == "127.0.0.1:8333")
        #expect(config.addressing == .virtual)
    }

    @Test("no credentials anywhere: one line naming what to set")
    func missing() {
        let dir = TemporaryDirectory("mreg-aws-none")
        #expect(throws: MregError(.invalidInput, """
            no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile default \
            aws_access_key_id and aws_secret_access_key in \(dir.path)/.aws/credentials \
            (no credential_process, container or instance-metadata credentials either)
            """)) { try S3Config.fromEnvironment(["HOME": dir.path, "AWS_EC2_METADATA_DISABLED": "true"]) }
        #expect(throws: MregError.self) {
            try S3Config(credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "b"), region: "r", endpoint: "ftp://x")
        }
    }

    @Test("path-style and virtual-hosted URLs; the Host header that is signed")
    func addressing() throws {
        let credentials = AWSCredentials(accessKeyID: "a", secretAccessKey: "b")
        let path = S3Client(config: try S3Config(credentials: credentials, region: "us-east-1", endpoint: "http://127.0.0.1:8333"))
        let call = S3Client.Call(method: .GET, bucket: "models", key: "team/a b", operation: "get",
                                 query: [("prefix", "x/y"), ("list-type", "2")])
        let t = path.target(call)
        #expect(t.host == "127.0.0.1:8333")
        #expect(t.path == "/models/team/a b")
        #expect(t.url == "http://127.0.0.1:8333/models/team/a%20b?list-type=2&prefix=x%2Fy")
        let virtual = S3Client(config: try S3Config(credentials: credentials, region: "eu-west-1", endpoint: "https://s3.eu-west-1.amazonaws.com"))
        let v = virtual.target(call)
        #expect(v.host == "models.s3.eu-west-1.amazonaws.com")
        #expect(v.url == "https://models.s3.eu-west-1.amazonaws.com/team/a%20b?list-type=2&prefix=x%2Fy")
    }

    @Test("retries: only 5xx, 429 and throttling codes are transient; back-off is bounded")
    func retryPolicy() {
        #expect(RetryPolicy.isTransient(status: 503, code: "SlowDown"))
        #expect(RetryPolicy.isTransient(status: 500, code: nil))
        #expect(RetryPolicy.isTransient(status: 429, code: nil))
        #expect(RetryPolicy.isTransient(status: 400, code: "RequestTimeout"))
        #expect(!RetryPolicy.isTransient(status: 403, code: "SignatureDoesNotMatch"))
        #expect(!RetryPolicy.isTransient(status: 412, code: "PreconditionFailed"))
        #expect(!RetryPolicy.isTransient(status: 404, code: "NoSuchKey"))
        let policy = RetryPolicy(attempts: 5, baseDelay: 0.1, maxDelay: 1)
        for retry in 1...10 { #expect((0...1).contains(policy.delay(beforeRetry: retry))) }
    }
}
