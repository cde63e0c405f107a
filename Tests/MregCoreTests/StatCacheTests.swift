import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

@Suite("Stat cache")
struct StatCacheTests {
    /// Sets a file's mtime (and atime) to `secondsAgo` in the past.
    func age(_ path: String, _ secondsAgo: Int) {
        var times = [timespec(tv_sec: time(nil) - secondsAgo, tv_nsec: 0), timespec(tv_sec: time(nil) - secondsAgo, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
    }

    func status(_ path: String) -> FileStatus { Sys.linkStatus(path)! }

    @Test("an entry recorded within the racy window is not trusted")
    func racyEntryIgnored() throws {
        let t = TemporaryDirectory()
        let p = t.write("f.bin", "hello")
        let cache = StatCache(registryRoot: t.path)
        let id = ObjectID.of(Array("hello".utf8))
        cache.record(status(p), id)
        #expect(cache.lookup(status(p)) == nil)
    }

    @Test("an old, unchanged file is found, across a save and a load")
    func hitAfterReload() throws {
        let t = TemporaryDirectory()
        t.mkdir("tmp")
        let p = t.write("f.bin", "hello")
        age(p, 60)
        // ctime cannot be set back; record as if the entry had been written a minute from now.
        let cache = StatCache(registryRoot: t.path)
        let id = ObjectID.of(Array("hello".utf8))
        cache.record(status(p), id)
        let later = Clock.now() + 60
        cache.setRecordedForTesting(status(p), at: Int(later))
        cache.save(tmpDir: t.join("tmp"))
        let reloaded = StatCache(registryRoot: t.path)
        #expect(reloaded.lookup(status(p)) == id)
    }

    @Test("a file rewritten with its mtime restored is not found (its ctime moved)")
    func modifiedWithRestoredMtime() throws {
        let t = TemporaryDirectory()
        let p = t.write("f.bin", "hello")
        age(p, 60)
        let cache = StatCache(registryRoot: t.path)
        let before = status(p)
        cache.record(before, ObjectID.of(Array("hello".utf8)))
        cache.setRecordedForTesting(before, at: Int(Clock.now()) + 60)
        // Same size, new bytes, old mtime put back.
        try Data("jello".utf8).write(to: URL(fileURLWithPath: p))
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, p, &times, 0) == 0)
        let after = status(p)
        #expect(after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_size == before.st_size)
        #expect(cache.lookup(after) == nil)
    }

    @Test("the key includes the inode: a twin file with the same times is not found")
    func keyIncludesInode() throws {
        let t = TemporaryDirectory()
        let a = t.write("a.bin", "same")
        let b = t.write("b.bin", "same")
        age(a, 60)
        age(b, 60)
        let cache = StatCache(registryRoot: t.path)
        cache.record(status(a), ObjectID.of(Array("same".utf8)))
        cache.setRecordedForTesting(status(a), at: Int(Clock.now()) + 60)
        // Another file with the same size and times is another inode: not found.
        #expect(cache.lookup(status(b)) == nil)
    }
}
