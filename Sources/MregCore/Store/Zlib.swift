import CZlib

/// Streaming deflate through the system libz.
final class Deflater {
    private var stream = z_stream()
    private var finished = false

    init(level: Int32) throws {
        let rc = mreg_deflateInit(&stream, level)
        guard rc == Z_OK else { throw MregError.io("zlib: deflateInit failed (\(rc))") }
    }

    deinit { deflateEnd(&stream) }

    /// Compresses `input` (or finishes the stream when `finish`), handing output to `sink`.
    func process(_ input: UnsafeRawBufferPointer, finish: Bool, into out: inout [UInt8],
                 sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        let flush = finish ? Z_FINISH : Z_NO_FLUSH
        repeat {
            let produced: Int = try out.withUnsafeMutableBytes { buf in
                stream.next_out = buf.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(buf.count)
                let rc = deflate(&stream, flush)
                guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else {
                    throw MregError.io("zlib: deflate failed (\(rc))")
                }
                if rc == Z_STREAM_END { finished = true }
                return buf.count - Int(stream.avail_out)
            }
            if produced > 0 { try out.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
        } while stream.avail_out == 0 || (finish && !finished)
    }

    /// Compressed size of `bytes` at `level`, for the compression decision.
    static func compressedSize(_ bytes: UnsafeRawBufferPointer, level: Int32) throws -> Int {
        let d = try Deflater(level: level)
        var out = [UInt8](repeating: 0, count: 64 << 10)
        var total = 0
        try d.process(bytes, finish: true, into: &out) { total += $0.count }
        return total
    }
}

/// Streaming inflate that refuses to produce more than a declared number of bytes.
final class Inflater {
    private var stream = z_stream()
    private(set) var finished = false

    init() throws {
        let rc = mreg_inflateInit(&stream)
        guard rc == Z_OK else { throw MregError.io("zlib: inflateInit failed (\(rc))") }
    }

    deinit { inflateEnd(&stream) }

    /// Feeds `input`; writes at most `out.count` bytes into `out`.
    ///
    /// - Returns: bytes of input consumed and bytes of output produced.
    func process(_ input: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) throws -> (consumed: Int, produced: Int) {
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(out.count)
        let rc = inflate(&stream, Z_NO_FLUSH)
        switch rc {
        case Z_OK, Z_BUF_ERROR: break
        case Z_STREAM_END: finished = true
        default: throw InflateError(code: rc)
        }
        return (input.count - Int(stream.avail_in), out.count - Int(stream.avail_out))
    }

    struct InflateError: Error { var code: Int32 }
}
