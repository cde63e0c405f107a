#if canImport(Glibc)
import Glibc
#endif
import Foundation

extension RemoteRegistries {
    /// `fsck` of the registry at a URL: the checks of a directory's fsck, on the bucket's bytes.
    public static func fsck(_ url: String) throws -> FsckReport {
        let session = try RemoteSession.open(storage: try storage(url, how: "fsck"), cache: cacheRoot(for: url))
        defer { session.close() }
        return try session.fsck()
    }
}

extension RemoteSession {
    /// Objects up to this stored size stay in the working copy while fsck reads the refs (history
    /// entries, records, metrics files); larger ones are only re-hashed, then dropped.
    static let fsckKeepLimit: Int64 = 1 << 20

    /// Every object in the storage downloaded (streamed to a file, eight at a time) and re-hashed
    /// against its name, never taken from the local cache; then the refs, histories, indexes and
    /// records checked by the registry's own fsck, on the working copy holding the refs as read.
    ///
    /// Requests: 1 GET (config) + 1 LIST per 1,000 keys under `models/` + 1 GET per ref + 1 LIST
    /// per 1,000 objects + 1 GET per object.
    func fsck(workers: Int = 8) throws -> FsckReport {
        let listed: [(key: String, size: Int64)]
        if let maintained = storage as? MaintainedStorage {
            listed = try maintained.listDetailed("objects/").map { ($0.key, $0.size) }
        } else {
            listed = try storage.list("objects/").map { ($0, Self.fsckKeepLimit) }
        }
        let filled = try filledIndexes()
        var ids: [ObjectID] = []
        var sizes: [Int64] = []
        var strays: [String] = []
        for item in listed {
            if let id = Self.objectID(forKey: item.key) { ids.append(id); sizes.append(item.size) } else { strays.append(item.key) }
        }
        // From here on, the working copy holds exactly what the bucket answered: nothing read
        // during the checks comes from the local cache.
        ObjectSources.unregister(root: registry.store.root)
        let frozenIDs = ids
        let frozenSizes = sizes
        let checks = try inParallel(ids.count, workers: workers) { [self] i in
            try checkStored(frozenIDs[i], size: frozenSizes[i])
        }
        var scanned = FsckObjects()
        for (id, check) in zip(ids, checks) {
            var check = check
            check.problem = check.problem.map(inStorage)
            scanned.add(id, check)
        }
        for key in strays { scanned.problems.append("\(storage.location)/\(key): unexpected key in the object store") }
        let present = Set(ids)
        var report = try registry.fsck(scanned, present: present.contains)
        report.problems = report.problems.map(inStorage)
        report.notes = report.notes.map(inStorage)
        for key in filled {
            report.notes.append("\(storage.location)/\(key): missing; a writer was cut short after moving HEAD, and the next command that changes the registry writes it from the history")
        }
        return report
    }

    /// Downloads one object into the working copy's store and re-hashes it there; large objects
    /// (not history entries or records) are removed again once checked.
    func checkStored(_ id: ObjectID, size: Int64) throws -> ObjectCheck {
        let store = registry.store
        try FileTree.ensure(store.directory(of: id))
        let tmp = work + "/tmp/fsck-\(id.hex)"
        defer { try? Sys.unlink(tmp) }
        guard try storage.download(Self.objectKey(id), to: tmp) else {
            return ObjectCheck(problem: "object \(id) is listed but could not be read (\(storage.location)/\(Self.objectKey(id)): deleted meanwhile?)")
        }
        // A rename, never a write into the file: the store may hold a link into the shared cache.
        guard rename(tmp, store.path(of: id)) == 0 else {
            throw MregError.io("cannot move \(tmp) to \(store.path(of: id)): \(String(cString: strerror(errno)))")
        }
        let check = try registry.checkObject(id)
        if size > Self.fsckKeepLimit && !check.json { try? Sys.unlink(store.path(of: id)) }
        return check
    }
}
