#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A listed key: its size in bytes and when it was last written (Unix seconds, the storage's clock).
public struct StoredKey: Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var modified: Double

    public init(key: String, size: Int64, modified: Double) {
        self.key = key
        self.size = size
        self.modified = modified
    }
}

/// An upload started and never completed nor aborted (S3's incomplete multipart uploads).
public struct PendingUpload: Sendable, Equatable {
    public var key: String
    public var id: String
    /// When it was started (the storage's clock), nil when unknown (then it is never taken as old).
    public var initiated: Double?

    public init(key: String, id: String, initiated: Double?) {
        self.key = key
        self.id = id
        self.initiated = initiated
    }
}

/// What `fsck` and `gc` of a remote registry need beyond `RegistryStorage`: ages from the
/// storage's own clock, and the uploads a killed writer left behind.
public protocol MaintainedStorage: RegistryStorage {
    /// Every key under `prefix` with size and last-modified time, sorted by key.
    func listDetailed(_ prefix: String) throws -> [StoredKey]
    /// Now, by the storage's clock (the clock of `StoredKey.modified`).
    func serverTime() throws -> Double
    /// Incomplete uploads to keys under `prefix`.
    func pendingUploads(_ prefix: String) throws -> [PendingUpload]
    func abortUpload(_ upload: PendingUpload) throws
}

/// Runs `body(i)` for every `i` in `0..<count` on up to `workers` threads; the results in order.
/// The first error stops the workers taking more work, and is thrown.
func inParallel<T: Sendable>(_ count: Int, workers: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
    let state = ParallelState<T>(count)
    let group = DispatchGroup()
    for _ in 0..<min(workers, count) {
        group.enter()
        let thread = Thread {
            defer { group.leave() }
            while let i = state.take() {
                do { state.done(i, try body(i)) } catch { state.fail(error) }
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    group.wait()
    return try state.result()
}

/// The work `inParallel` hands out and what came back.
private final class ParallelState<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var results: [T?]
    private var failure: Error?

    init(_ count: Int) { results = Array(repeating: nil, count: count) }

    func take() -> Int? {
        lock.withLock {
            guard failure == nil, next < results.count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    func done(_ i: Int, _ value: T) { lock.withLock { results[i] = value } }
    func fail(_ error: Error) { lock.withLock { if failure == nil { failure = error } } }

    func result() throws -> [T] {
        try lock.withLock {
            if let failure { throw failure }
            return results.map { $0! }
        }
    }
}

extension RemoteSession {
    /// The object a key under `objects/` names, or nil for any other key (a stray).
    static func objectID(forKey key: String) -> ObjectID? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "objects", parts[1].utf8.count == 2 else { return nil }
        let hex = String(parts[1] + parts[2])
        return ObjectID.isFullHex(hex) ? ObjectID(hex: hex) : nil
    }

    /// Version indexes the working copy holds and the storage did not (filled from the history by
    /// `pull`): a writer cut short between its `HEAD` and its index.
    func filledIndexes() throws -> [String] {
        try DirectoryStorage(root: work).list("models/").filter { Self.isRef($0) && $0.contains("/versions/") && pulled[$0] == nil }
    }

    /// A message about the working copy, with its paths named as keys of the storage.
    func inStorage(_ message: String) -> String {
        message.replacingOccurrences(of: work + "/", with: storage.location + "/")
    }
}
