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
}
