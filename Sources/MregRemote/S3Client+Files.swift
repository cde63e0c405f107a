#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import Foundation
import MregCore
import NIOCore
import NIOHTTP1

/// Large objects: streamed downloads to a file and multipart uploads from one, in bounded memory.
extension S3Client {
    /// Parts of 8 MiB, four in flight: at most about 32 MiB of a file in memory at once.
    public static let partSize = 8 << 20
    public static let partWorkers = 4
    /// Files up to this size go up in one PutObject.
    public static let singlePutLimit = 16 << 20

    /// Streams `key` into the file at `path` (created or truncated). Nil, and no file, when there is
    /// no such key. Retried from the start on transient failures.
    public func download(bucket: String, key: String, to path: String) throws -> ObjectInfo? {
        let call = Call(method: .GET, bucket: bucket, key: key, operation: "get")
        let response = try withRetries(call, idempotent: true) {
            guard FileManager.default.createFile(atPath: path, contents: nil),
                  let handle = FileHandle(forWritingAtPath: path)
            else { throw MregError(.operational, "cannot create \(path) for s3://\(bucket)/\(key)") }
            defer { try? handle.close() }
            let sink = FileSink(handle)
            let answer = try http.execute(request: try request(call), delegate: sink,
                                          deadline: .now() + .hours(6)).futureResult.wait()
            return Response(status: answer.status, headers: answer.headers, body: answer.errorBody)
        }
        if response.status == .notFound { try? FileManager.default.removeItem(atPath: path); return nil }
        do { try check(response, "get", bucket, key) } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil
        return ObjectInfo(key: key, etag: response.etag ?? "", size: size ?? 0)
    }

    /// Uploads the file at `path` to `key`: one PutObject when small, else a multipart upload
    /// (each part retried on its own; the upload aborted on failure). `.absent` makes it create-only,
    /// on the final request (PutObject or CompleteMultipartUpload): the key appears complete or not
    /// at all.
    ///
    /// `verifying`, when given, checks the file (RegistryStorage.uploadIfAbsent): before the
    /// PutObject of a small file; for a multipart upload on a thread of its own while the parts go
    /// up, waited for before the completion (on failure the upload is aborted and its error thrown).
    public func upload(bucket: String, key: String, from path: String, condition: Condition = .none,
                       verifying: (@Sendable () throws -> Void)? = nil) throws -> WriteOutcome {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw MregError(.operational, "cannot read \(path) to upload it to s3://\(bucket)/\(key)")
        }
        defer { try? handle.close() }
        let size = Int(try handle.seekToEnd())
        if size <= Self.singlePutLimit {
            try verifying?()
            try handle.seek(toOffset: 0)
            let data = try handle.readToEnd() ?? Data()
            return try put(bucket: bucket, key: key, data: data, condition: condition)
        }
        let verification = verifying.map { BackgroundTask($0) }
        defer { verification?.wait() }  // the check reads the file: never left running
        return try multipartUpload(bucket: bucket, key: key, path: path, size: size, condition: condition, verification: verification)
    }

    func multipartUpload(bucket: String, key: String, path: String, size: Int, condition: Condition,
                         verification: BackgroundTask? = nil) throws -> WriteOutcome {
        let created = try send(Call(method: .POST, bucket: bucket, key: key, operation: "create multipart upload",
                                    query: [("uploads", "")]), idempotent: true)
        try check(created, "create multipart upload", bucket, key)
        guard let uploadID = S3XML.value("UploadId", in: created.body) else {
            throw MregError(.operational, "S3 create multipart upload s3://\(bucket)/\(key): no UploadId in the answer")
        }
        do {
            let etags = try uploadParts(bucket: bucket, key: key, path: path, size: size, uploadID: uploadID)
            // The file verified before the object can appear.
            if let error = verification?.wait() { throw error }
            var xml = "<CompleteMultipartUpload>"
            for (index, etag) in etags.enumerated() {
                xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(etag)</ETag></Part>"
            }
            xml += "</CompleteMultipartUpload>"
            var call = Call(method: .POST, bucket: bucket, key: key, operation: "complete multipart upload",
                            query: [("uploadId", uploadID)], body: Data(xml.utf8))
            if case .absent = condition { call.headers.append(("If-None-Match", "*")) }
            let response = try send(call, idempotent: !isCAS(condition))
            // A retried completion whose first try succeeded finds the upload gone, or the key there.
            if let settled = try settleCompletion(response, bucket: bucket, key: key, partETags: etags, condition: condition) {
                if settled == .preconditionFailed { abort(bucket: bucket, key: key, uploadID: uploadID) }
                return settled
            }
            // CompleteMultipartUpload can answer 200 with an error in the body.
            if response.status == .ok, S3XML.value("Code", in: response.body) != nil {
                throw S3Client.failure(Response(status: .internalServerError, headers: response.headers, body: response.body),
                                       "complete multipart upload", bucket, key)
            }
            let outcome = try writeOutcome(response, condition: condition, "complete multipart upload", bucket, key)
            if outcome == .preconditionFailed { abort(bucket: bucket, key: key, uploadID: uploadID) }
            return outcome
        } catch {
            abort(bucket: bucket, key: key, uploadID: uploadID)
            throw error
        }
    }

    /// The parts, by `partWorkers` threads each reading its own part of the file; their ETags in order.
    /// Each part is read into a buffer taken from the process's pool of `partWorkers` buffers
    /// (`PartBuffers`), sent as it is (the HTTP client writes the socket from it, no copy) and
    /// given back once sent: at most `partWorkers` parts are in memory, however large the file and
    /// however many files go up at once (a push sends eight objects at a time). The buffer is a
    /// `ByteBuffer` (copy on write), so a request still holding it when the next part is read (a
    /// retry's abandoned attempt) keeps its bytes instead of seeing them change.
    func uploadParts(bucket: String, key: String, path: String, size: Int, uploadID: String) throws -> [String] {
        let count = (size + Self.partSize - 1) / Self.partSize
        let state = PartState(count: count)
        let group = DispatchGroup()
        for _ in 0..<min(Self.partWorkers, count) {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                guard let handle = FileHandle(forReadingAtPath: path) else {
                    state.fail(MregError(.operational, "cannot read \(path) to upload it to s3://\(bucket)/\(key)"))
                    return
                }
                defer { try? handle.close() }
                while let part = state.next() {
                    var buffer = PartBuffers.shared.take()
                    defer { PartBuffers.shared.give(buffer) }
                    do {
                        let offset = part * Self.partSize
                        let length = min(Self.partSize, size - offset)
                        buffer.clear()
                        try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) {
                            try Self.readAt(handle.fileDescriptor, $0.baseAddress!, length, offset: offset, path: path)
                            return length
                        }
                        var call = Call(method: .PUT, bucket: bucket, key: key, operation: "upload part \(part + 1)",
                                        query: [("partNumber", String(part + 1)), ("uploadId", uploadID)])
                        call.bodyBuffer = buffer
                        let response = try send(call, idempotent: true)
                        try check(response, "upload part \(part + 1)", bucket, key)
                        state.done(part, etag: response.etag ?? "")
                    } catch {
                        state.fail(error)
                    }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        return try state.result()
    }

    /// Reads exactly `count` bytes at `offset` (pread, so threads share no file position).
    static func readAt(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, offset: Int, path: String) throws {
        var done = 0
        while done < count {
            let n = pread(fd, buffer + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = n == 0 ? "the file ended early (it changed while being uploaded)" : String(cString: strerror(errno))
                throw MregError(.operational, "cannot read \(path) at byte \(offset + done): \(reason)")
            }
            done += n
        }
    }

    func abort(bucket: String, key: String, uploadID: String) {
        _ = try? send(Call(method: .DELETE, bucket: bucket, key: key, operation: "abort multipart upload",
                           query: [("uploadId", uploadID)]), idempotent: true)
    }
}

/// The process's buffers for multipart parts: `S3Client.partWorkers` of `S3Client.partSize`,
/// made on first use and reused; `take` waits while all are out.
final class PartBuffers: @unchecked Sendable {
    static let shared = PartBuffers(count: S3Client.partWorkers, size: S3Client.partSize)
    private let condition = NSCondition()
    private var free: [ByteBuffer] = []
    private var madeCount = 0
    private let count: Int
    private let size: Int

    init(count: Int, size: Int) {
        self.count = count
        self.size = size
    }

    func take() -> ByteBuffer {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty && madeCount == count { condition.wait() }
        if let buffer = free.popLast() { return buffer }
        madeCount += 1
        return ByteBufferAllocator().buffer(capacity: size)
    }

    /// How many buffers exist (never more than `count`).
    var made: Int {
        condition.lock()
        defer { condition.unlock() }
        return madeCount
    }

    func give(_ buffer: ByteBuffer) {
        condition.lock()
        free.append(buffer)
        condition.signal()
        condition.unlock()
    }
}

/// The parts still to send, the ETags of those sent, and the first failure (which stops the rest).
final class PartState: @unchecked Sendable {
    private let lock = NSLock()
    private var nextPart = 0
    private var etags: [String?]
    private var error: Error?

    init(count: Int) { etags = Array(repeating: nil, count: count) }

    func next() -> Int? {
        lock.withLock {
            guard error == nil, nextPart < etags.count else { return nil }
            defer { nextPart += 1 }
            return nextPart
        }
    }

    func done(_ part: Int, etag: String) { lock.withLock { etags[part] = etag } }
    func fail(_ e: Error) { lock.withLock { if error == nil { error = e } } }

    func result() throws -> [String] {
        try lock.withLock {
            if let error { throw error }
            return etags.map { $0 ?? "" }
        }
    }
}

/// Writes a 2xx answer's body to a file as it arrives; keeps any other answer's body (an S3 error
/// document) in memory, up to 64 KiB.
final class FileSink: HTTPClientResponseDelegate, @unchecked Sendable {
    struct Answer: Sendable {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var errorBody: Data
    }

    private let handle: FileHandle
    private var head: HTTPResponseHead?
    private var errorBody = Data()
    private var writeError: Error?

    init(_ handle: FileHandle) { self.handle = handle }

    func didReceiveHead(task: HTTPClient.Task<Answer>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        self.head = head
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Answer>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        if let head, (200..<300).contains(head.status.code) {
            do { try handle.write(contentsOf: Data(buffer.readableBytesView)) } catch {
                writeError = error
                return task.eventLoop.makeFailedFuture(error)
            }
        } else if errorBody.count < 65536 {
            errorBody.append(contentsOf: buffer.readableBytesView)
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Answer>) throws -> Answer {
        if let writeError { throw MregError(.operational, "cannot write a downloaded object: \(writeError)") }
        guard let head else { throw MregError(.operational, "S3 answered without a status line") }
        return Answer(status: head.status, headers: head.headers, errorBody: errorBody)
    }
}
