import Foundation
import MregCore
import Testing
import _MregTestSupport
@testable import MregRemote

/// The parallel paths of uploads to S3: multipart parts through reused buffers, small objects of
/// a push and of a command's commit through a bounded pool, objects of a directory verified where
/// they are. Every guarantee holds: bytes come back identical, a corrupt object stops the push
/// before any ref moves.
@Suite("parallel transfers to S3", .enabled(if: S3TestServer.available, "needs SeaweedFS: run scripts/test.sh"))
struct RemoteParallelTransferTests {
    let t = TemporaryDirectory("mreg-s3-parallel")
    let server = S3TestServer.current!
    let bucket: String
    let url: String

    init() throws {
        bucket = S3TestServer.uniqueBucket("parallel")
        url = "s3://\(bucket)/team"
        try S3ClientLiveTests.client().createBucket(bucket)
    }

    @discardableResult
    func mreg(_ args: [String], registry: String? = nil, home: String = "home") -> CommandResult {
        var env = server.awsEnvironment
        env["HOME"] = t.mkdir(home)
        return Mreg.run(args, cwd: t.path, env: env, registry: registry)
    }

    /// A model directory of `count` small files of random bytes.
    func smallFiles(_ dir: String, _ count: Int) {
        for i in 0..<count { t.write("\(dir)/d\(i % 7)/f\(i).bin", randomBytes(100 + i, seed: UInt64(1000 + i))) }
    }

    @Test("multipart with more parts than workers: 6 parts, the last short, come down byte for byte")
    func multipartReusesBuffers() throws {
        let client = try S3ClientLiveTests.client()
        let payload = randomBytes(5 * S3Client.partSize + 777, seed: 11)
        let source = t.write("big.bin", payload)
        let outcome = try client.upload(bucket: bucket, key: "objects/big", from: source, condition: .absent)
        guard case .written = outcome else { Issue.record("upload: \(outcome)"); return }
        let info = try #require(try client.head(bucket: bucket, key: "objects/big"))
        #expect(info.etag.hasSuffix("-6\""), "\(info.etag)")
        #expect(try client.download(bucket: bucket, key: "objects/big", to: t.join("copy.bin"))?.size == Int64(payload.count))
        #expect(t.read("copy.bin") == payload)
    }

    @Test("push of 120 small files through the pool, register of 60 into S3: a fresh cache fetches them byte for byte")
    func pushAndRegisterManySmallObjects() throws {
        #expect(mreg(["init", "local"]).status == 0)
        smallFiles("model", 120)
        t.write("m.json", #"{"f1": 0.8}"#)
        #expect(mreg(["register", "fraud", "model", "--metrics", "m.json"], registry: "local").status == 0)
        #expect(mreg(["init", url]).status == 0)
        let pushed = mreg(["push", "--to", url, "--json"], registry: "local")
        #expect(pushed.status == 0, "\(pushed)")
        #expect((pushed.json["objects_copied"] as? Int ?? 0) >= 120, "\(pushed.stdout)")

        smallFiles("model2", 60)
        #expect(mreg(["register", "fraud", "model2", "--metrics", "m.json"], registry: url).status == 0)

        for (version, dir, count) in [(1, "model", 120), (2, "model2", 60)] {
            let out = "out\(version)"
            let fetched = mreg(["fetch", "fraud@\(version)", "--out", out], registry: url, home: "other-home")
            #expect(fetched.status == 0, "\(fetched)")
            for i in [0, count / 2, count - 1] {
                #expect(t.read("\(out)/d\(i % 7)/f\(i).bin") == t.read("\(dir)/d\(i % 7)/f\(i).bin"), "\(out) file \(i)")
            }
        }
        let cloned = mreg(["clone", url, "copy"])
        #expect(cloned.status == 0, "\(cloned)")
        #expect(mreg(["fsck"], registry: "copy").status == 0)
    }

    @Test("a corrupt object in the source directory stops the push: exit 1 naming it, no HEAD in the bucket")
    func corruptSourceObjectStopsPush() throws {
        #expect(mreg(["init", "local"]).status == 0)
        smallFiles("model", 30)
        t.write("m.json", #"{"f1": 0.8}"#)
        #expect(mreg(["register", "fraud", "model", "--metrics", "m.json"], registry: "local").status == 0)
        // Flip the last byte of the largest object (an artifact file, stored raw).
        let largest = try flipLargestObject { $0 - 1 }
        try expectPushRefused(naming: largest.name)
    }

    /// Flips one byte (at `at(size)`) of the largest object of the registry `local`; its name
    /// under `objects/`, its path and its bytes before.
    func flipLargestObject(at: (Int) -> Int) throws -> (name: String, path: String, bytes: Data) {
        let objects = t.join("local/objects")
        let files = try FileManager.default.subpathsOfDirectory(atPath: objects).filter { $0.count == 65 }
        let largest = try #require(files.max { (t.read("local/objects/\($0)")?.count ?? 0) < (t.read("local/objects/\($1)")?.count ?? 0) })
        let path = objects + "/" + largest
        let before = try #require(t.read("local/objects/\(largest)"))
        var bytes = before
        bytes[at(bytes.count)] ^= 0x01
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        try bytes.write(to: URL(fileURLWithPath: path))
        return (largest, path, before)
    }

    /// `local` pushed to a new registry in the bucket: exit 1 naming the object that does not
    /// verify; neither it nor `HEAD` in the bucket.
    func expectPushRefused(naming object: String) throws {
        #expect(mreg(["init", url]).status == 0)
        let pushed = mreg(["push", "--to", url], registry: "local")
        #expect(pushed.status == 1, "\(pushed)")
        #expect(pushed.stderr.contains("does not verify"), "\(pushed.stderr)")
        #expect(pushed.stderr.contains(object.replacingOccurrences(of: "/", with: "")), "\(pushed.stderr)")
        let client = try S3ClientLiveTests.client()
        #expect(try client.get(bucket: bucket, key: "team/models/fraud/HEAD") == nil)
        #expect(try client.head(bucket: bucket, key: "team/objects/\(object)") == nil)
    }

    @Test("a corrupt large object, verified while its parts go up: the push fails naming it, the object never appears, the upload is aborted")
    func corruptLargeObjectVerifiedDuringUpload() throws {
        #expect(mreg(["init", "local"]).status == 0)
        // Random bytes do not compress: the object is stored raw, larger than one PutObject.
        t.write("model/w.bin", randomBytes(S3Client.singlePutLimit + 3 * S3Client.partSize / 2, seed: 77))
        t.write("m.json", #"{"f1": 0.8}"#)
        #expect(mreg(["register", "fraud", "model", "--metrics", "m.json"], registry: "local").status == 0)
        let largest = try flipLargestObject { $0 / 2 }
        #expect(largest.bytes.count > S3Client.singlePutLimit)
        try expectPushRefused(naming: largest.name)
        #expect(try S3ClientLiveTests.client().uploads(bucket: bucket, prefix: "team/").isEmpty, "the multipart upload was aborted")

        // Repaired, the same push completes and the bytes come back.
        try largest.bytes.write(to: URL(fileURLWithPath: largest.path))
        #expect(mreg(["push", "--to", url], registry: "local").status == 0)
        #expect(mreg(["fetch", "fraud@1", "--out", "back"], registry: url, home: "other-home").status == 0)
        #expect(t.read("back/w.bin") == t.read("model/w.bin"))
    }
}
