import Foundation

extension RegistryCopy {
    /// Writes the version indexes of `model` that the source lacks but its history names. In a
    /// bucket indexes follow `HEAD`, so a writer cut short just after its `HEAD` moved (killed, or
    /// the server gone) leaves a gap that the next command on the bucket fills in from the history;
    /// a copy fills it in on the destination the same way, so that a clone of such a bucket is
    /// complete (fsck finds every registered version's index).
    func fillIndexes(_ model: String, head: ObjectID, present: [String]) throws {
        let versions = try entry(head).state.versions
        guard versions > 0 else { return }
        let have = Set(present)
        var wanted = Set((1...versions).filter { !have.contains("models/\(model)/versions/\($0)") })
        var next: ObjectID? = head
        while let id = next, !wanted.isEmpty {
            let e = try entry(id)
            if e.event == .registered, let n = e.details["version"]?.int, wanted.contains(n),
               let record = e.details["record"]?.string, let recordID = ObjectID(record) {
                let key = "models/\(model)/versions/\(n)"
                let bytes = Array("\(recordID)\n".utf8)
                if try !destination.putIfAbsent(key, bytes), let there = try destination.get(key), there.bytes != bytes {
                    _ = try destination.compareAndSwap(key, bytes, expected: there.version)
                }
                wanted.remove(n)
            }
            next = e.prev
        }
    }
}
