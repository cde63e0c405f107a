import Foundation
import Testing
@testable import MregRemote

/// Signature Version 4 against published vectors.
///
/// - "aws-sig-v4-test-suite" (AWS's SigV4 test suite, as copied in awslabs/aws-c-auth
///   `tests/aws-signing-test-suite/v4/<name>/`): key AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1,
///   service "service"; expected canonical request, string to sign and signature from the files
///   `header-canonical-request.txt`, `header-string-to-sign.txt`, `header-signature.txt`.
/// - The Amazon S3 API reference, "Signature Calculations for the Authorization Header:
///   Transferring Payload in a Single Chunk": bucket examplebucket, key AKIAIOSFODNN7EXAMPLE,
///   2013-05-24T00:00:00Z, us-east-1.
@Suite("SigV4 signing")
struct SigV4Tests {
    static let suiteSigner = SigV4Signer(
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE",
                                    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1", service: "service")
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    static let s3Signer = SigV4Signer(
        credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                    secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    static let s3Date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let s3Host = "examplebucket.s3.amazonaws.com"
    static let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    static func signature(_ headers: [(String, String)]) -> String {
        let auth = headers.first { $0.0 == "Authorization" }!.1
        return String(auth[auth.range(of: "Signature=")!.upperBound...])
    }

    @Test("get-vanilla: canonical request, string to sign, signature")
    func getVanilla() {
        let signer = Self.suiteSigner
        let request = SigV4Signer.Request(method: "GET", path: "/",
                                          headers: [("Host", "example.amazonaws.com")], payloadHash: Self.empty)
        var dated = request
        dated.headers.append(("X-Amz-Date", "20150830T123600Z"))
        let (canonical, signed) = signer.canonicalRequest(dated)
        #expect(canonical == """
            GET
            /

            host:example.amazonaws.com
            x-amz-date:20150830T123600Z

            host;x-amz-date
            \(Self.empty)
            """)
        #expect(signed == "host;x-amz-date")
        #expect(signer.stringToSign(canonicalRequest: canonical, amzDate: "20150830T123600Z",
                                    scope: "20150830/us-east-1/service/aws4_request") == """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/service/aws4_request
            bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63
            """)
        let headers = signer.sign(request, at: Self.suiteDate)
        #expect(headers.first { $0.0 == "Authorization" }?.1 == """
            AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
            SignedHeaders=host;x-amz-date, \
            Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31
            """)
        #expect(headers.first { $0.0 == "x-amz-date" }?.1 == "20150830T123600Z")
    }

    @Test("the test suite's other requests", arguments: [
        ("post-vanilla", "POST", "/", [(String, String)](), [(String, String)](), "",
         "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        ("get-vanilla-query-order-key-case", "GET", "/", [("Param2", "value2"), ("Param1", "value1")],
         [(String, String)](), "",
         "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        ("get-space-normalized", "GET", "/example space/", [(String, String)](), [(String, String)](), "",
         "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
        // sign_body: the payload hash is also sent, and signed, as x-amz-content-sha256.
        ("post-x-www-form-urlencoded", "POST", "/", [(String, String)](),
         [("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", "13")], "Param1=value1",
         "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"),
    ])
    func suite(name: String, method: String, path: String, query: [(String, String)],
               extra: [(String, String)], body: String, expected: String) {
        let hash = SigV4Signer.sha256Hex(Data(body.utf8))
        var headers = [("Host", "example.amazonaws.com")] + extra
        if !body.isEmpty { headers.append(("x-amz-content-sha256", hash)) }
        let request = SigV4Signer.Request(method: method, path: path, query: query, headers: headers, payloadHash: hash)
        #expect(Self.signature(Self.suiteSigner.sign(request, at: Self.suiteDate)) == expected, "\(name)")
    }

    @Test("S3 reference: GET Object with a Range header")
    func s3GetObject() {
        let request = SigV4Signer.Request(
            method: "GET", path: "/test.txt",
            headers: [("Host", Self.s3Host), ("Range", "bytes=0-9"), ("x-amz-content-sha256", Self.empty)],
            payloadHash: Self.empty)
        var dated = request
        dated.headers.append(("x-amz-date", "20130524T000000Z"))
        let (canonical, _) = Self.s3Signer.canonicalRequest(dated)
        #expect(Self.s3Signer.stringToSign(canonicalRequest: canonical, amzDate: "20130524T000000Z",
                                           scope: "20130524/us-east-1/s3/aws4_request")
                .hasSuffix("\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"))
        #expect(Self.signature(Self.s3Signer.sign(request, at: Self.s3Date))
                == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test("S3 reference: PUT Object (a key with $, a Date header, a storage class)")
    func s3PutObject() {
        let hash = SigV4Signer.sha256Hex(Data("Welcome to Amazon S3.".utf8))
        #expect(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let request = SigV4Signer.Request(
            method: "PUT", path: "/test$file.text",
            headers: [("Host", Self.s3Host), ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                      ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-content-sha256", hash)],
            payloadHash: hash)
        let auth = Self.s3Signer.sign(request, at: Self.s3Date).first { $0.0 == "Authorization" }!.1
        #expect(auth.contains("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"))
        #expect(auth.hasSuffix("Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))
    }

    @Test("S3 reference: GET bucket lifecycle (a query key without a value) and list objects (sorted query)")
    func s3Queries() {
        let lifecycle = SigV4Signer.Request(
            method: "GET", path: "/", query: [("lifecycle", "")],
            headers: [("Host", Self.s3Host), ("x-amz-content-sha256", Self.empty)], payloadHash: Self.empty)
        #expect(Self.signature(Self.s3Signer.sign(lifecycle, at: Self.s3Date))
                == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
        let list = SigV4Signer.Request(
            method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")],
            headers: [("Host", Self.s3Host), ("x-amz-content-sha256", Self.empty)], payloadHash: Self.empty)
        #expect(Self.signature(Self.s3Signer.sign(list, at: Self.s3Date))
                == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test("temporary credentials: the session token is sent and signed")
    func sessionToken() {
        var signer = Self.s3Signer
        signer.credentials.sessionToken = "FQoGZXIvYXdzEXAMPLE"
        let request = SigV4Signer.Request(method: "GET", path: "/", headers: [("Host", Self.s3Host)],
                                          payloadHash: Self.empty)
        let headers = signer.sign(request, at: Self.s3Date)
        #expect(headers.first { $0.0 == "x-amz-security-token" }?.1 == "FQoGZXIvYXdzEXAMPLE")
        #expect(headers.first { $0.0 == "Authorization" }!.1.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"))
    }

    @Test("URI encoding: unreserved kept, the rest %XX of UTF-8, / kept only in paths")
    func encoding() {
        #expect(SigV4Signer.uriEncode("a b/ü~._-*", keepSlash: true) == "a%20b/%C3%BC~._-%2A")
        #expect(SigV4Signer.uriEncode("a/b=c", keepSlash: false) == "a%2Fb%3Dc")
    }

    @Test("x-amz-date: the UTC second a time falls in, zero-padded")
    func amzDate() {
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 1_440_938_160)) == "20150830T123600Z")
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 1_440_938_160.999)) == "20150830T123600Z")
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 951_782_400 + 3_661)) == "20000229T010101Z")
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
    }

    @Test("the signing key kept between requests: after other secrets and days, the vector's signature again")
    func signingKeyKept() {
        let request = SigV4Signer.Request(method: "GET", path: "/", headers: [("Host", "example.amazonaws.com")], payloadHash: Self.empty)
        let expected = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        #expect(Self.signature(Self.suiteSigner.sign(request, at: Self.suiteDate)) == expected)
        var other = Self.suiteSigner
        other.credentials.secretAccessKey = "another secret"
        let otherSignature = Self.signature(other.sign(request, at: Self.suiteDate))
        #expect(otherSignature != expected)
        #expect(Self.signature(Self.suiteSigner.sign(request, at: Self.suiteDate)) == expected)
        #expect(Self.signature(Self.suiteSigner.sign(request, at: Self.suiteDate + 86_400)) != expected)
        #expect(Self.signature(Self.suiteSigner.sign(request, at: Self.suiteDate)) == expected)
        #expect(Self.signature(other.sign(request, at: Self.suiteDate)) == otherSignature)
    }
}
