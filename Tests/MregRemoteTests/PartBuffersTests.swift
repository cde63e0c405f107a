import Foundation
import Testing
@testable import MregRemote

/// The process's pool of multipart part buffers: however many uploads want a buffer at once, no
/// more than its count are ever made; a taker waits for one to be given back.
@Suite("multipart part buffers")
struct PartBuffersTests {
    @Test("a third taker of a pool of two gets a buffer given back, not a new one")
    func boundedPool() {
        let pool = PartBuffers(count: 2, size: 64)
        let a = pool.take(), b = pool.take()
        #expect(pool.made == 2)
        let got = DispatchSemaphore(value: 0)
        let third = Capacity()
        let thread = Thread {
            let buffer = pool.take()
            third.value = buffer.capacity
            pool.give(buffer)
            got.signal()
        }
        thread.start()
        pool.give(a)
        got.wait()
        #expect(pool.made == 2, "the waiting taker reused the given buffer")
        #expect(third.value >= 64)
        pool.give(b)
        #expect(pool.made == 2)
    }

    final class Capacity: @unchecked Sendable { var value = 0 }
}
