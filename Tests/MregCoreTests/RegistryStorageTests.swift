import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// The directory implementation of the storage interface (the S3 one is tested against SeaweedFS
/// in MregRemoteTests with the same expectations).
@Suite("Registry storage: directory")
struct RegistryStorageTests {
    @Test("create-only writes, compare-and-swap, list, delete, streamed copies")
    func directory() throws {
        let t = TemporaryDirectory("mreg-storage")
        let s = DirectoryStorage(root: t.mkdir("reg"))
        #expect(try s.get("models/a/HEAD") == nil)
        #expect(try s.putIfAbsent("objects/ab/cd", Array("one".utf8)))
        #expect(try !s.putIfAbsent("objects/ab/cd", Array("two".utf8)))
        #expect(try s.get("objects/ab/cd")?.bytes == Array("one".utf8))

        // compare-and-swap: nil expects absence; a stale version loses and changes nothing.
        #expect(try s.compareAndSwap("models/a/HEAD", Array("h1".utf8), expected: nil))
        #expect(try !s.compareAndSwap("models/a/HEAD", Array("h1'".utf8), expected: nil))
        let v1 = try #require(try s.get("models/a/HEAD")?.version)
        #expect(try s.compareAndSwap("models/a/HEAD", Array("h2".utf8), expected: v1))
        #expect(try !s.compareAndSwap("models/a/HEAD", Array("h3".utf8), expected: v1))
        #expect(try s.get("models/a/HEAD")?.bytes == Array("h2".utf8))

        #expect(try s.list("models/") == ["models/a/HEAD"])
        #expect(try s.list("objects/ab") == ["objects/ab/cd"])
        #expect(try s.list("nothing/") == [])

        let src = t.write("big", randomBytes(3 << 20, seed: 3))
        #expect(try s.uploadIfAbsent("objects/ff/ee", from: src))
        #expect(try !s.uploadIfAbsent("objects/ff/ee", from: src))
        #expect(try s.download("objects/ff/ee", to: t.join("back")))
        #expect(t.read("back") == randomBytes(3 << 20, seed: 3))
        #expect(try !s.download("objects/00/00", to: t.join("none")))
        try s.delete("objects/ff/ee")
        try s.delete("objects/ff/ee")
        #expect(try s.get("objects/ff/ee") == nil)
        #expect(throws: MregError.self) { try s.get("../escape") }
    }

    @Test("URLs are told from directories")
    func urls() {
        #expect(RemoteRegistries.isURL("s3://bucket/prefix"))
        #expect(!RemoteRegistries.isURL("./reg"))
        #expect(!RemoteRegistries.isURL("/srv/a://b"))
        #expect(throws: MregError.self) { try Registry.open(explicit: "gs://bucket/x") }
    }

    @Test("the ref cache: an entry is used at its version only, never damaged, never outside its root")
    func refCache() throws {
        let t = TemporaryDirectory("mreg-refcache")
        let cache = RefCache(cache: t.path)
        let head = Array("sha256:ab\n".utf8)
        #expect(cache.read("models/a/HEAD", version: "\"e1\"") == nil)
        cache.write("models/a/HEAD", head, version: "\"e1\"")
        #expect(cache.read("models/a/HEAD", version: "\"e1\"")?.bytes == head)
        // A listing's ETag without quotes finds it; the version given back is the one written.
        #expect(cache.read("models/a/HEAD", version: "e1")?.version == "\"e1\"")
        #expect(cache.read("models/a/HEAD", version: "\"e2\"") == nil)
        cache.write("models/a/HEAD", Array("sha256:cd\n".utf8), version: "\"e2\"")
        #expect(cache.read("models/a/HEAD", version: "\"e1\"") == nil)
        #expect(cache.read("models/a/HEAD", version: "\"e2\"")?.bytes == Array("sha256:cd\n".utf8))
        // A damaged entry (its bytes no longer hash to its line) is not used.
        let path = t.join("refs/models/a/HEAD")
        var bytes = try #require(FileManager.default.contents(atPath: path))
        bytes[bytes.count - 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(cache.read("models/a/HEAD", version: "\"e2\"") == nil)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: path))
        #expect(cache.read("models/a/HEAD", version: "garbage") == nil)
        // Keys that would leave the cache are neither written nor read; an empty version never matches.
        cache.write("models/../../x", head, version: "e")
        #expect(!FileManager.default.fileExists(atPath: t.join("x")) && !FileManager.default.fileExists(atPath: t.join("../x")))
        #expect(cache.read("models/../../x", version: "e") == nil)
        #expect(!RefCache.safe("models//HEAD") && !RefCache.safe("models/./HEAD") && RefCache.safe("models/a/versions/1"))
        #expect(!RefCache.same("", ""))
    }
}
