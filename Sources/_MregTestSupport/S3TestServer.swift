import Foundation

/// The S3-compatible server the remote tests talk to: SeaweedFS on 127.0.0.1, started by
/// `scripts/s3-server.sh start` (which `scripts/test.sh` runs) and described by its environment file:
/// MREG_TEST_S3_ENDPOINT, MREG_TEST_S3_ACCESS_KEY, MREG_TEST_S3_SECRET_KEY (MREG_TEST_S3_REGION).
public struct S3TestServer: Sendable {
    public var endpoint: String
    public var accessKey: String
    public var secretKey: String
    public var region: String

    /// The server of this run, or nil (and a loud SKIPPED line on stderr, once) when the variables
    /// are absent, as in a bare `swift test`.
    public static let current: S3TestServer? = {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["MREG_TEST_S3_ENDPOINT"], !endpoint.isEmpty,
              let access = env["MREG_TEST_S3_ACCESS_KEY"], let secret = env["MREG_TEST_S3_SECRET_KEY"]
        else {
            FileHandle.standardError.write(Data("""
                SKIPPED: the remote (S3) tests need a SeaweedFS server and MREG_TEST_S3_ENDPOINT, \
                MREG_TEST_S3_ACCESS_KEY and MREG_TEST_S3_SECRET_KEY; run scripts/test.sh, or \
                `source "$(scripts/s3-server.sh start)"` before swift test.

                """.utf8))
            return nil
        }
        return S3TestServer(endpoint: endpoint, accessKey: access, secretKey: secret,
                            region: env["MREG_TEST_S3_REGION"] ?? "us-east-1")
    }()

    public static var available: Bool { current != nil }

    /// A fresh bucket name for one test (3–63 lower-case letters, digits and hyphens).
    public static func uniqueBucket(_ label: String) -> String {
        let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        return "mreg-\(label)-\(suffix)"
    }

    /// The environment that points mreg (and aws-cli) at this server.
    public var awsEnvironment: [String: String] {
        ["AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secretKey,
         "AWS_REGION": region, "AWS_ENDPOINT_URL": endpoint]
    }
}
