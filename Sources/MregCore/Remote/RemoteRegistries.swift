import Foundation

/// How `--registry s3://…` (or any URL a storage factory knows) reaches the registry code: the
/// command line installs a factory (MregRemote's S3 storage); `Registry.open` and `Registry.create`
/// hand URLs to it and get a working copy (`RemoteSession`), pushed back by `finish()`.
public enum RemoteRegistries {
    /// Makes the storage for a URL, or nil when the URL is not one it knows.
    public typealias Factory = @Sendable (String) throws -> RegistryStorage?

    nonisolated(unsafe) private static var factory: Factory?
    nonisolated(unsafe) private static var sessions: [RemoteSession] = []
    private static let lock = NSLock()

    /// Called once at start-up by the command line.
    public static func install(_ factory: @escaping Factory) { lock.withLock { self.factory = factory } }

    /// Whether `path` is a URL (`scheme://…`) rather than a directory.
    public static func isURL(_ path: String) -> Bool {
        guard let sep = path.range(of: "://") else { return false }
        let scheme = path[..<sep.lowerBound]
        return !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0.isNumber }
    }

    static func storage(_ url: String, how: String) throws -> RegistryStorage {
        guard let factory = lock.withLock({ factory }), let storage = try factory(url) else {
            throw MregError.invalid("registry \(url) (\(how)): unsupported URL; a registry is a directory or s3://BUCKET/PREFIX")
        }
        return storage
    }

    static func open(_ url: String, how: String) throws -> Registry {
        let session = try RemoteSession.open(storage: try storage(url, how: how), cache: cacheRoot(for: url))
        lock.withLock { sessions.append(session) }
        return session.registry
    }

    static func create(_ url: String) throws -> Registry {
        let session = try RemoteSession.create(storage: try storage(url, how: "init"), cache: cacheRoot(for: url))
        lock.withLock { sessions.append(session) }
        return session.registry
    }

    /// The storage of a registry named by a URL or a directory (nil: the one `Registry.open` finds),
    /// for copying between registries.
    public static func storage(for location: String?, how: String) throws -> RegistryStorage {
        if let location, isURL(location) { return try storage(location, how: how) }
        return DirectoryStorage(root: try Registry.open(explicit: location).root)
    }

    /// Creates an empty registry at a URL or a directory and returns its storage.
    public static func createStorage(at location: String) throws -> RegistryStorage {
        if isURL(location) {
            let s = try storage(location, how: "clone")
            guard try s.putIfAbsent(Registry.configName, Registry.configBytes) else {
                throw MregError.invalid("\(location) is already an mreg registry")
            }
            return s
        }
        return DirectoryStorage(root: try Registry.create(at: location).root)
    }

    /// The remote behind a working copy, for messages (`Initialized … in s3://…`).
    public static func location(of registry: Registry) -> String {
        lock.withLock { sessions.first { $0.registry === registry }?.storage.location } ?? registry.root
    }

    /// After a command that succeeded: pushes what it changed (objects, then refs by
    /// compare-and-swap) and removes the working copies. A lost compare-and-swap throws `.conflict`.
    public static func finish() throws {
        let open = lock.withLock { defer { sessions = [] }; return sessions }
        var failure: Error?
        for session in open {
            do { try session.push() } catch { if failure == nil { failure = error } }
            session.close()
        }
        if let failure { throw failure }
    }

    /// After a command that failed: drops the working copies, pushing nothing.
    public static func discard() {
        let open = lock.withLock { defer { sessions = [] }; return sessions }
        for session in open { session.close() }
    }

    /// The local cache of a remote registry: `MREG_CACHE`, else `$XDG_CACHE_HOME/mreg`, else
    /// `~/.cache/mreg`, then the URL with `/` and `:` made safe.
    static func cacheRoot(for url: String) -> String {
        let env = ProcessInfo.processInfo.environment
        let base = env["MREG_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 + "/mreg" }
            ?? (env["HOME"] ?? NSHomeDirectory()) + "/.cache/mreg"
        let safe = url.replacingOccurrences(of: "://", with: "/")
            .split(separator: "/").map { $0.replacingOccurrences(of: ":", with: "_") }.joined(separator: "/")
        return base + "/" + safe
    }
}
