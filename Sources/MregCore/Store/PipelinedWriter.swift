import Dispatch

/// Writes buffers to a file on a second thread while the caller fills (reads and hashes) the next.
///
/// Three 1 MiB slots go round: the caller `acquire`s a free slot, fills it, `submit`s it; the
/// writer thread writes slots in order and frees them. The bytes written are exactly the bytes the
/// caller hashed, from the same memory. A write error stops the writing (later slots are only
/// recycled) and is thrown by `finish`; all hand-offs go through the semaphores.
final class PipelinedWriter: @unchecked Sendable {
    private let fd: Int32
    private let path: String
    private let slots: [UnsafeMutableRawBufferPointer]
    private var counts: [Int]
    private let free: DispatchSemaphore
    private let filled = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private var next = 0
    private var writeError: Error?

    init(fd: Int32, path: String, slotSize: Int = ObjectStore.bufferSize, slotCount: Int = 3) {
        self.fd = fd
        self.path = path
        slots = (0..<slotCount).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: slotSize, alignment: 64) }
        counts = [Int](repeating: 0, count: slotCount)
        // Created at 0 and raised: libdispatch traps if a semaphore is freed below its initial value.
        free = DispatchSemaphore(value: 0)
        for _ in 0..<slotCount { free.signal() }
        let thread = Unmanaged.passRetained(self)
        DispatchQueue.global(qos: .userInitiated).async {
            thread.takeRetainedValue().drain()
        }
    }

    deinit { for s in slots { s.deallocate() } }

    /// A free slot to fill.
    func acquire() -> UnsafeMutableRawBufferPointer {
        free.wait()
        return slots[next]
    }

    /// Hands the slot from `acquire` to the writer with `count` bytes in it.
    func submit(_ count: Int) {
        counts[next] = count
        next = (next + 1) % slots.count
        filled.signal()
    }

    /// Waits for every submitted slot to be written; throws the first write error.
    func finish() throws {
        _ = acquire()
        submit(-1)
        done.wait()
        if let writeError { throw writeError }
    }

    private func drain() {
        var index = 0
        while true {
            filled.wait()
            let count = counts[index]
            if count < 0 { break }
            if writeError == nil {
                do {
                    try Sys.writeAll(fd, UnsafeRawBufferPointer(rebasing: slots[index][0..<count]), path: path)
                } catch {
                    writeError = error
                }
            }
            index = (index + 1) % slots.count
            free.signal()
        }
        done.signal()
    }
}
