#if canImport(Glibc)
import Glibc
#endif
import Foundation

extension RemoteRegistries {
    /// The grace period of `gc` on a remote registry when none is given: two weeks, as git's
    /// `gc.pruneExpire`. There is no lock across machines, so age is all that tells an abandoned
    /// object from one a writer uploaded and is about to reference.
    public static let defaultRemoteGrace: Double = 14 * 24 * 3600

    /// `gc` of the registry at a URL (see `RemoteSession.gc`).
    public static func gc(_ url: String, grace: Double, dryRun: Bool) throws -> GCReport {
        let storage = try storage(url, how: "gc")
        guard let maintained = storage as? MaintainedStorage else {
            throw MregError.invalid("gc: \(url) cannot list its keys with their ages")
        }
        // The clock is read before the refs (a missing registry is reported by `open` next): see
        // `RemoteSession.gc`. MREG_TEST_GC_CLOCK_OFFSET
        // (seconds) moves it forward, for tests of ages without waiting.
        let offset = ProcessInfo.processInfo.environment["MREG_TEST_GC_CLOCK_OFFSET"].flatMap(Double.init) ?? 0
        let now = try maintained.serverTime() + offset
        let session = try RemoteSession.open(storage: storage, cache: cacheRoot(for: url))
        defer { session.close() }
        return try session.gc(maintained, grace: grace, dryRun: dryRun, now: now)
    }
}

extension RemoteSession {
    /// Removes unreachable objects older than `grace` seconds, incomplete uploads older than that,
    /// and what dead commands left in the local cache.
    ///
    /// There is no lock across machines: a writer uploads its objects, then moves its `HEAD` by
    /// compare-and-swap, so an object nothing references may be about to be. `now` is the storage's
    /// clock read before the refs were, and an object is removed only if it was written `grace`
    /// seconds before that. An object a writer references was therefore either referenced by a ref
    /// gc read (kept), or uploaded at least `grace` seconds before a commit that came after gc read
    /// the refs: only a writer slower than the grace period between upload and commit loses
    /// objects (its commit then names missing objects, which fsck reports).
    ///
    /// Requests: 1 HEAD (clock) + what `open` costs (GET config, LIST + GET per ref, GET of each
    /// model's `HEAD` entry not in the local cache) + 1 GET per
    /// history entry and record not in the local cache + 1 LIST per 1,000 objects + 1 GET per
    /// unreferenced object up to 64 MiB not in the cache (is it lost history?) + 1 DELETE per
    /// removed object + 1 LIST of incomplete uploads + 1 DELETE per aborted upload.
    func gc(_ maintained: MaintainedStorage, grace: Double, dryRun: Bool, now: Double, workers: Int = 8) throws -> GCReport {
        let listed = try maintained.listDetailed("objects/")
        var info: [ObjectID: StoredKey] = [:]
        for item in listed {
            if let id = Self.objectID(forKey: item.key) { info[id] = item }
        }
        let ids = listed.compactMap { Self.objectID(forKey: $0.key) }
        let entryLimit = Int64(Registry.entrySizeLimit) + 4096
        let (keep, _, _) = try registry.gcMark(ids, present: { info[$0] != nil }, mayBeEntry: { (info[$0]?.size ?? 0) <= entryLimit })

        var report = GCReport()
        report.dryRun = dryRun
        var doomed: [StoredKey] = []
        for id in ids {
            let item = info[id]!
            if keep.contains(id) || now - item.modified < grace { report.kept += 1; continue }
            doomed.append(item)
            report.removedObjects += 1
            report.removedBytes += UInt64(max(item.size, 0))
        }
        if !dryRun {
            let frozen = doomed
            _ = try inParallel(frozen.count, workers: workers) { [self] i in try storage.delete(frozen[i].key) }
        }
        for upload in try maintained.pendingUploads("objects/") {
            guard let initiated = upload.initiated, now - initiated >= grace else { continue }
            report.removedTemps += 1
            if !dryRun { try maintained.abortUpload(upload) }
        }
        report.removedTemps += cleanCache(dryRun: dryRun)
        return report
    }

    /// Removes the working copies (`work/PID-N`) and downloads in progress (`tmp/*-PID-N`) of
    /// commands whose process is gone. Returns how many there were.
    func cleanCache(dryRun: Bool) -> Int {
        var removed = 0
        for dir in ["work", "tmp"] {
            for name in (try? Sys.listDirectory(cache + "/" + dir)) ?? [] {
                guard let pid = Self.writerPID(name), pid != Sys.pid, !Sys.processAlive(pid) else { continue }
                removed += 1
                if !dryRun { try? FileManager.default.removeItem(atPath: cache + "/" + dir + "/" + name) }
            }
        }
        return removed
    }

    /// The process id in `PID-N` (a working copy) or `WORD-PID-N` (a download in progress).
    static func writerPID(_ name: String) -> pid_t? {
        let parts = name.split(separator: "-")
        let candidate = parts.count == 2 ? parts[0] : parts.count == 3 ? parts[1] : nil
        guard let candidate, let pid = pid_t(candidate), pid > 0 else { return nil }
        return pid
    }
}
