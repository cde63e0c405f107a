import Foundation

/// A piece of work run on a thread of its own while the caller goes on: the second part of a
/// table read in parts (`TableReader+Parts`), an object's hash checked while its parts upload
/// (MregRemote). `wait` returns its error once it has ended.
public final class BackgroundTask: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var ended = false
    private var error: Error?

    public init(stackSize: Int = 1 << 20, _ body: @escaping @Sendable () throws -> Void) {
        let thread = Thread { [self] in
            do { try body() } catch { lock.withLock { self.error = error } }
            done.signal()
        }
        thread.stackSize = stackSize
        thread.start()
    }

    /// Waits for the work to end (at once when it has); its error, if it failed. May be called
    /// more than once.
    @discardableResult
    public func wait() -> Error? {
        let waited = lock.withLock { ended }
        if !waited {
            done.wait()
            lock.withLock { ended = true }
        }
        return lock.withLock { error }
    }
}
