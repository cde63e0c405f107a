import Foundation

/// A bounded pool of threads for work that blocks on the network (one object upload or download
/// each): `workers` threads take the items in order; the first error stops the others from taking
/// more and is rethrown once all have stopped. Memory stays bounded by `workers` items in flight.
enum ParallelWork {
    /// As many requests at once as the S3 client keeps connections to one host (8).
    static let objectWorkers = 8

    static func forEach(_ count: Int, workers: Int = objectWorkers, _ body: @escaping @Sendable (Int) throws -> Void) throws {
        guard count > 0 else { return }
        if count == 1 || workers <= 1 {
            for i in 0..<count { try body(i) }
            return
        }
        let next = SharedValue(0)
        let failure = SharedValue<Error?>(nil)
        let group = DispatchGroup()
        for _ in 0..<min(workers, count) {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                while failure.value == nil {
                    let i: Int = next.update { (n: inout Int) -> Int in let taken = n; n += 1; return taken }
                    guard i < count else { return }
                    do { try body(i) } catch { failure.update { if $0 == nil { $0 = error } } }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        if let error = failure.value { throw error }
    }
}
