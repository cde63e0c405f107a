import Foundation

/// The STS endpoint the role-credential tests call: moto's server on 127.0.0.1, started by
/// `scripts/sts-server.sh start` (which `scripts/test.sh` runs) with an IAM user allowed to assume
/// one role, and described by its environment file: MREG_TEST_STS_ENDPOINT, MREG_TEST_STS_ACCESS_KEY,
/// MREG_TEST_STS_SECRET_KEY, MREG_TEST_STS_ROLE_ARN.
public struct STSTestServer: Sendable {
    public var endpoint: String
    public var accessKey: String
    public var secretKey: String
    public var roleArn: String

    /// The server of this run, or nil (and a loud SKIPPED line on stderr, once) when the variables
    /// are absent, as in a bare `swift test`.
    public static let current: STSTestServer? = {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["MREG_TEST_STS_ENDPOINT"], !endpoint.isEmpty, let key = env["MREG_TEST_STS_ACCESS_KEY"],
              let secret = env["MREG_TEST_STS_SECRET_KEY"], let role = env["MREG_TEST_STS_ROLE_ARN"]
        else {
            FileHandle.standardError.write(Data("""
                SKIPPED: the role-credential (STS) tests need moto's server and MREG_TEST_STS_ENDPOINT, \
                MREG_TEST_STS_ACCESS_KEY, MREG_TEST_STS_SECRET_KEY and MREG_TEST_STS_ROLE_ARN; run \
                scripts/test.sh, or `source "$(scripts/sts-server.sh start)"` before swift test.

                """.utf8))
            return nil
        }
        return STSTestServer(endpoint: endpoint, accessKey: key, secretKey: secret, roleArn: role)
    }()

    public static var available: Bool { current != nil }
}
