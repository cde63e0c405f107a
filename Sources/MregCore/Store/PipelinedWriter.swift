import Dispatch

/// Writes buffers to a file on a second thread while the caller fills (reads and hashes) the next.
///
/// Three 1 MiB slots go round: the caller `acquire`s a free slot, fills it, `submit`s it; the
/// writer thread writes slots in order and frees them. The bytes written are exactly the bytes the
/// caller hashed, from the same memory. A write error stops the writing (later slots are only
/// recycled) and is thrown by `finish`; all hand-offs go through the semaphores.
///
/// With a `deflater` the writer compresses the slots into the file instead of writing them as they
/// are; the caller may go on reading a slot it submitted (both sides only read it) until it
/// acquires the next one.
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
    private let deflater: Deflater?

    init(fd: Int32, path: String, slotSize: Int = ObjectStore.bufferSize, slotCount: Int = 3, deflater: Deflater? = nil) {
        self.fd = fd
        self.path = path
        self.deflater = deflater
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
        var zout = deflater == nil ? [] : [UInt8](repeating: 0, count: ObjectStore.bufferSize)
        while true {
            filled.wait()
            let count = counts[index]
            if count < 0 { break }
            if writeError == nil {
                let chunk = UnsafeRawBufferPointer(rebasing: slots[index][0..<count])
                do {
                    if let deflater {
                        try deflater.process(chunk, finish: false, into: &zout) { try Sys.writeAll(fd, $0, path: path) }
                    } else {
                        try Sys.writeAll(fd, chunk, path: path)
                    }
                } catch {
                    writeError = error
                }
            }
            index = (index + 1) % slots.count
            free.signal()
        }
        if writeError == nil, let deflater {
            do {
                try deflater.process(UnsafeRawBufferPointer(start: nil, count: 0), finish: true, into: &zout) { try Sys.writeAll(fd, $0, path: path) }
            } catch {
                writeError = error
            }
        }
        done.signal()
    }
}
