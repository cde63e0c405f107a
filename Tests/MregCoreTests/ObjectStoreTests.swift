import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// Unit tests of the content-addressed object store (Store/ObjectStore.swift): round trips,
/// naming, encoding, layout, deduplication, corruption detection and bounded inflation.
@Suite("ObjectStore unit")
struct ObjectStoreTests {
    // MARK: - Helpers

    static func makeStore(_ t: TemporaryDirectory) -> ObjectStore {
        t.mkdir("objects")
        return ObjectStore(root: t.join("objects"), tmpDir: t.join("tmp"))
    }

    /// The hex that `/usr/bin/sha256sum` prints for a file.
    static func sha256sum(_ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let text = String(decoding: data, as: UTF8.self)
        return String(text.prefix(while: { $0 != " " }))
    }

    static func fileBytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Replaces an object file's bytes (objects are 0444: made writable first).
    static func overwrite(_ path: String, _ bytes: [UInt8]) throws {
        #expect(chmod(path, 0o644) == 0)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    static func tmpEntries(_ t: TemporaryDirectory) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: t.join("tmp"))) ?? []
    }

    static let mib = 1 << 20

    /// Test contents: a name, the bytes, and the encoding a file of them must get (nil: either).
    static let contents: [(name: String, data: [UInt8], encoding: Encoding?)] = [
        ("empty", [], .raw),
        ("one byte", [0x2a], .raw),
        ("small text", Array("hello, registry\n".utf8), .raw),
        ("63 compressible bytes stay raw", [UInt8](repeating: 0x61, count: 63), .raw),
        ("compressible text", Array(String(repeating: "the quick brown fox jumps over the lazy dog\n", count: 5_000).utf8), .zlib),
        ("repeated JSON", Array(String(repeating: "{\"f1\": 0.87, \"precision\": 0.91, \"model\": \"fraud\"}\n", count: 20_000).utf8), .zlib),
        ("incompressible", [UInt8](randomBytes(300_000, seed: 11)), .raw),
        ("exactly 1 MiB random", [UInt8](randomBytes(mib, seed: 12)), .raw),
        ("1 MiB - 1 random", [UInt8](randomBytes(mib - 1, seed: 13)), .raw),
        ("1 MiB + 1 random", [UInt8](randomBytes(mib + 1, seed: 14)), .raw),
        ("5 MiB random", [UInt8](randomBytes(5 * mib, seed: 15)), .raw),
        ("5 MiB + 12345 random", [UInt8](randomBytes(5 * mib + 12_345, seed: 16)), .raw),
        ("exactly 2 MiB compressible", Array(String(repeating: "abcdefgh", count: (2 * mib) / 8).utf8), .zlib),
        ("3 MiB + 7 compressible", Array(String(repeating: "weights ", count: (3 * mib + 7) / 8).utf8) + Array("1234567".utf8), .zlib),
    ]

    static func checkStoredLayout(_ store: ObjectStore, _ id: ObjectID, size: Int, encoding: Encoding) throws {
        let p = store.path(of: id)
        #expect(p == store.root + "/" + id.hex.prefix(2) + "/" + id.hex.dropFirst(2))
        #expect(id.hex.prefix(2).count == 2 && id.hex.dropFirst(2).count == 62)
        #expect(try mode(p) == 0o444)
        let bytes = try fileBytes(p)
        let header = Array("MREG1 \(encoding.rawValue) \(size)\n".utf8)
        #expect(Array(bytes.prefix(header.count)) == header, "header is \(String(decoding: bytes.prefix(40), as: UTF8.self).debugDescription)")
    }

    // MARK: - Round trips

    @Test("putFile round trip: id is sha256sum, header, mode, layout, get and stream", arguments: 0..<contents.count)
    func putFileRoundTrip(index: Int) throws {
        let c = Self.contents[index]
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        let file = t.write("input.bin", Data(c.data))
        let stored = try store.putFile(at: file)
        #expect(stored.id.hex == (try Self.sha256sum(file)), "\(c.name)")
        #expect(stored.id == ObjectID.of(c.data))
        #expect(stored.size == UInt64(c.data.count))
        #expect(stored.written)
        if let want = c.encoding { #expect(stored.encoding == want, "\(c.name)") }
        try Self.checkStoredLayout(store, stored.id, size: c.data.count, encoding: stored.encoding)
        #expect(store.contains(stored.id))
        #expect(Self.tmpEntries(t).isEmpty)

        #expect(try store.get(stored.id) == c.data)
        var streamed: [UInt8] = []
        var largestChunk = 0
        let info = try store.stream(stored.id) { chunk in
            largestChunk = max(largestChunk, chunk.count)
            streamed.append(contentsOf: chunk)
        }
        #expect(streamed == c.data)
        #expect(largestChunk <= ObjectStore.bufferSize)
        #expect(info.size == UInt64(c.data.count))
        #expect(info.encoding == stored.encoding)
        let onDisk = try FileManager.default.attributesOfItem(atPath: store.path(of: stored.id))[.size] as? Int
        #expect(info.storedSize == UInt64(onDisk ?? -1))
        let verified = try store.verify(stored.id)
        #expect(verified.size == UInt64(c.data.count))
    }

    @Test("put round trip: id is sha256sum of the same bytes, header, mode, get", arguments: 0..<contents.count)
    func putRoundTrip(index: Int) throws {
        let c = Self.contents[index]
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        let id = try store.put(c.data)
        let same = t.write("same.bin", Data(c.data))
        #expect(id.hex == (try Self.sha256sum(same)), "\(c.name)")
        #expect(id.description == "sha256:" + id.hex)
        let info = try store.verify(id)
        if let want = c.encoding { #expect(info.encoding == want, "\(c.name)") }
        try Self.checkStoredLayout(store, id, size: c.data.count, encoding: info.encoding)
        #expect(try store.get(id) == c.data)
        #expect(Self.tmpEntries(t).isEmpty)
        // The same bytes as a file are the same object, already present.
        let again = try store.putFile(at: same)
        #expect(again.id == id)
        #expect(!again.written)
        #expect(try store.scan().objects == [id])
    }

    // MARK: - Encoding

    @Test("random bytes are stored raw byte for byte; text is stored as zlib and smaller")
    func encodingChoice() throws {
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        let random = [UInt8](randomBytes(200_000, seed: 21))
        let text = Array(String(repeating: "model card: precision and recall on holdout\n", count: 4_000).utf8)

        let rawFile = try store.putFile(at: t.write("r.bin", Data(random)))
        let zFile = try store.putFile(at: t.write("t.txt", Data(text)))
        #expect(rawFile.encoding == .raw)
        #expect(zFile.encoding == .zlib)
        // A raw object is the header and then exactly the bytes.
        #expect(try Self.fileBytes(store.path(of: rawFile.id)) == Array("MREG1 raw \(random.count)\n".utf8) + random)
        let zBytes = try Self.fileBytes(store.path(of: zFile.id))
        let zHeader = Array("MREG1 zlib \(text.count)\n".utf8)
        #expect(Array(zBytes.prefix(zHeader.count)) == zHeader)
        #expect(zBytes.count < text.count / 5)
        // The payload is one zlib stream (RFC 1950: CMF 0x78).
        #expect(zBytes[zHeader.count] == 0x78)

        let rawMem = try store.put([UInt8](randomBytes(5_000, seed: 22)))
        let zMem = try store.put(Array(String(repeating: "{\"a\":1}", count: 500).utf8))
        #expect(try store.verify(rawMem).encoding == .raw)
        #expect(try store.verify(zMem).encoding == .zlib)
        #expect(Array(try Self.fileBytes(store.path(of: rawMem)).prefix(15)) == Array("MREG1 raw 5000\n".utf8))
        #expect(Array(try Self.fileBytes(store.path(of: zMem)).prefix(16)) == Array("MREG1 zlib 3500\n".utf8))
    }

    // MARK: - Deduplication

    @Test("the same bytes twice: the second putFile writes nothing and one file remains")
    func dedupFiles() throws {
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        for (i, data) in [[UInt8](randomBytes(50_000, seed: 31)), Array(String(repeating: "abc", count: 50_000).utf8),
                          [UInt8](randomBytes(2 * Self.mib + 3, seed: 32))].enumerated() {
            let a = try store.putFile(at: t.write("a\(i)", Data(data)))
            let b = try store.putFile(at: t.write("b\(i)", Data(data)))
            #expect(a.written)
            #expect(!b.written)
            #expect(a.id == b.id)
            #expect(b.size == UInt64(data.count))
            let fan = store.directory(of: a.id)
            #expect(try FileManager.default.contentsOfDirectory(atPath: fan).filter { a.id.hex.hasPrefix(String(fan.suffix(2)) + $0) }.count == 1)
            #expect(Self.tmpEntries(t).isEmpty)
        }
        #expect(try store.scan().objects.count == 3)
    }

    @Test("put of present bytes returns the same id and keeps one file")
    func dedupMemory() throws {
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        let bytes = Array("{\"type\":\"mreg.version\"}".utf8)
        let a = try store.put(bytes)
        let before = try Self.fileBytes(store.path(of: a))
        let b = try store.put(bytes)
        #expect(a == b)
        #expect(try Self.fileBytes(store.path(of: a)) == before)
        #expect(try store.scan() == ([a], []))
        #expect(Self.tmpEntries(t).isEmpty)
    }

    @Test("a batch makes objects visible only on commit and leaves tmp empty")
    func batch() throws {
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        let batch = ObjectBatch(store: store)
        let data = [UInt8](randomBytes(10_000, seed: 41))
        let s = try store.putFile(at: t.write("f", Data(data)), batch: batch)
        #expect(s.written)
        #expect(!store.contains(s.id))
        // The same bytes again in the same batch are not written twice.
        let s2 = try store.putFile(at: t.write("g", Data(data)), batch: batch)
        #expect(!s2.written)
        try batch.commit()
        #expect(store.contains(s.id))
        #expect(try store.get(s.id) == data)
        #expect(Self.tmpEntries(t).isEmpty)
    }

    // MARK: - Refusing bad input files

    @Test("putFile refuses a symbolic link, a directory and a missing file as invalid input")
    func putFileRefusals() throws {
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        let target = t.write("real.bin", "x")
        t.symlink("link.bin", to: target)
        let dir = t.mkdir("adir")
        for path in [t.join("link.bin"), dir, t.join("missing.bin")] {
            let e = #expect(throws: MregError.self) { try store.putFile(at: path) }
            #expect(e?.kind == .invalidInput)
            #expect(e?.message.contains(path) == true, "\(e?.message ?? "")")
        }
        #expect(try store.scan().objects.isEmpty)
        #expect(Self.tmpEntries(t).isEmpty)
    }

    // MARK: - Corruption

    enum Kind: String, CaseIterable, Sendable {
        case rawFile, zlibFile, rawMultiMiB, rawSmall, zlibSmall
    }

    enum Damage: String, CaseIterable, Sendable {
        case flipPayloadByte, flipLastByte, truncate, truncateToHeader, truncateInHeader, emptyFile
        case trailingGarbage, trailingZero, badMagic, badEncoding, nonNumericSize, negativeSize, emptySize
        case sizeTooSmall, sizeTooLarge, sizeZero, hugeSize, twentyDigitSize, crlf, extraSpace, noNewline
        case symlinkToIntactCopy, directory, missing
    }

    static func makeObject(_ kind: Kind, _ store: ObjectStore, _ t: TemporaryDirectory) throws -> (ObjectID, [UInt8], Encoding) {
        switch kind {
        case .rawFile:
            let d = [UInt8](randomBytes(400_000, seed: 51))
            return (try store.putFile(at: t.write("in", Data(d))).id, d, .raw)
        case .zlibFile:
            let d = Array(String(repeating: "abc def ghi ", count: 40_000).utf8)
            return (try store.putFile(at: t.write("in", Data(d))).id, d, .zlib)
        case .rawMultiMiB:
            let d = [UInt8](randomBytes(2 * mib + 999, seed: 52))
            return (try store.putFile(at: t.write("in", Data(d))).id, d, .raw)
        case .rawSmall:
            let d = Array("{\"f1\":0.87,\"recall\":0.7}".utf8)
            return (try store.put(d), d, .raw)
        case .zlibSmall:
            let d = Array(String(repeating: "{\"path\":\"weights.bin\",\"size\":12}", count: 30).utf8)
            return (try store.put(d), d, .zlib)
        }
    }

    static let damageCases: [(Kind, Damage)] = Kind.allCases.flatMap { k in Damage.allCases.map { (k, $0) } }

    @Test("a damaged object makes get, stream and verify throw an operational error naming the id", arguments: damageCases)
    func corruption(kind: Kind, damage: Damage) throws {
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        let (id, data, encoding) = try Self.makeObject(kind, store, t)
        #expect(try store.verify(id).encoding == encoding)
        let p = store.path(of: id)
        let original = try Self.fileBytes(p)
        let headerEnd = original.firstIndex(of: 10)! + 1
        let payload = Array(original[headerEnd...])
        func header(_ text: String) -> [UInt8] { Array(text.utf8) }
        let enc = encoding.rawValue
        var bytes = original
        switch damage {
        case .flipPayloadByte: bytes[headerEnd + payload.count / 2] ^= 0xff
        case .flipLastByte: bytes[bytes.count - 1] ^= 0xff
        case .truncate: bytes = Array(bytes.prefix(headerEnd + payload.count / 2))
        case .truncateToHeader: bytes = Array(bytes.prefix(headerEnd))
        case .truncateInHeader: bytes = Array(bytes.prefix(8))
        case .emptyFile: bytes = []
        case .trailingGarbage: bytes += [0xde, 0xad, 0xbe, 0xef]
        case .trailingZero: bytes += [0]
        case .badMagic: bytes = header("MREG2 \(enc) \(data.count)\n") + payload
        case .badEncoding: bytes = header("MREG1 gzip \(data.count)\n") + payload
        case .nonNumericSize: bytes = header("MREG1 \(enc) 12x4\n") + payload
        case .negativeSize: bytes = header("MREG1 \(enc) -\(data.count)\n") + payload
        case .emptySize: bytes = header("MREG1 \(enc) \n") + payload
        case .sizeTooSmall: bytes = header("MREG1 \(enc) \(data.count - 1)\n") + payload
        case .sizeTooLarge: bytes = header("MREG1 \(enc) \(data.count + 1)\n") + payload
        case .sizeZero: bytes = header("MREG1 \(enc) 0\n") + payload
        case .hugeSize: bytes = header("MREG1 \(enc) 9999999999999999999\n") + payload
        case .twentyDigitSize: bytes = header("MREG1 \(enc) 18446744073709551615\n") + payload
        case .crlf: bytes = header("MREG1 \(enc) \(data.count)\r\n") + payload
        case .extraSpace: bytes = header("MREG1  \(enc) \(data.count)\n") + payload
        case .noNewline: bytes = header("MREG1 \(enc) \(data.count)") + payload
        case .symlinkToIntactCopy, .directory, .missing: break
        }
        switch damage {
        case .symlinkToIntactCopy:
            // A link to a perfectly good copy is still refused: objects are never followed links.
            let copy = t.write("intact-copy", Data(original))
            try FileManager.default.removeItem(atPath: p)
            try FileManager.default.createSymbolicLink(atPath: p, withDestinationPath: copy)
        case .directory:
            try FileManager.default.removeItem(atPath: p)
            try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: false)
        case .missing:
            try FileManager.default.removeItem(atPath: p)
        default:
            #expect(bytes != original)
            try Self.overwrite(p, bytes)
        }

        let checks: [(String, () throws -> Void)] = [
            ("get", { _ = try store.get(id) }),
            ("verify", { _ = try store.verify(id) }),
            ("stream", { try store.stream(id) { _ in } }),
        ]
        for (what, call) in checks {
            let error = #expect(throws: MregError.self, "\(what) of \(kind) with \(damage)") { try call() }
            #expect(error?.kind == .operational, "\(what): \(error?.message ?? "")")
            #expect(error?.message.contains(id.description) == true, "\(what): \(error?.message ?? "")")
        }
    }

    @Test("a raw object read through get with a limit below its size is refused before reading")
    func sizeLimit() throws {
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        let id = try store.put([UInt8](randomBytes(1_000, seed: 61)))
        let e = #expect(throws: MregError.self) { try store.get(id, limit: 999) }
        #expect(e?.kind == .operational)
        #expect(e?.message.contains(id.description) == true)
        #expect(try store.get(id, limit: 1_000).count == 1_000)
    }

    // MARK: - Bounded inflation

    static func plant(_ t: TemporaryDirectory, _ store: ObjectStore, _ id: ObjectID, _ bytes: [UInt8]) {
        t.mkdir("objects/\(id.hex.prefix(2))")
        t.write("objects/\(id.hex.prefix(2))/\(id.hex.dropFirst(2))", Data(bytes))
    }

    @Test("a zlib object that inflates far beyond its declared size is refused without producing more",
          arguments: [0, 1, 10, 4_096])
    func zlibBomb(declared: Int) throws {
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        // The id is that of the declared prefix, so only the size bound can catch it.
        let id = ObjectID.of([UInt8](repeating: 0, count: declared))
        let bomb = try ObjectStore.deflateAll([UInt8](repeating: 0, count: 10 << 20), level: 9)
        #expect(bomb.count < 20_000)
        Self.plant(t, store, id, Array("MREG1 zlib \(declared)\n".utf8) + bomb)
        var delivered = 0
        let e = #expect(throws: MregError.self) { try store.stream(id) { delivered += $0.count } }
        #expect(e?.kind == .operational)
        #expect(e?.message.contains(id.description) == true, "\(e?.message ?? "")")
        #expect(e?.message.contains("more than its declared \(declared) bytes") == true, "\(e?.message ?? "")")
        #expect(delivered <= declared)
        #expect(throws: MregError.self) { try store.get(id) }
        #expect(throws: MregError.self) { try store.verify(id) }
    }

    @Test("a hand-made zlib object with the right size and bytes reads back")
    func handMadeZlib() throws {
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        let data = [UInt8](repeating: 7, count: 3 * Self.mib + 5)
        let id = ObjectID.of(data)
        Self.plant(t, store, id, Array("MREG1 zlib \(data.count)\n".utf8) + (try ObjectStore.deflateAll(data, level: 9)))
        #expect(try store.get(id) == data)
    }

    @Test("a hand-made empty zlib object reads back as no bytes")
    func emptyZlib() throws {
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        let id = ObjectID.of([UInt8]())
        Self.plant(t, store, id, Array("MREG1 zlib 0\n".utf8) + (try ObjectStore.deflateAll([], level: 6)))
        #expect(try store.get(id) == [])
        #expect(try store.verify(id).encoding == .zlib)
    }

    @Test("a zlib object followed by a second zlib stream is refused")
    func twoStreams() throws {
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        let data = Array(String(repeating: "abc", count: 1_000).utf8)
        let id = ObjectID.of(data)
        let z = try ObjectStore.deflateAll(data, level: 6)
        Self.plant(t, store, id, Array("MREG1 zlib \(data.count)\n".utf8) + z + z)
        let e = #expect(throws: MregError.self) { try store.get(id) }
        #expect(e?.kind == .operational)
        #expect(e?.message.contains(id.description) == true)
    }

    // MARK: - Listing

    @Test("scan lists objects sorted and every stray; a missing root lists nothing")
    func scan() throws {
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        #expect(try store.scan() == ([], []))
        var ids: [ObjectID] = []
        for i in 0..<20 { ids.append(try store.put(Array("object \(i)".utf8))) }
        let fan = String(ids[0].hex.prefix(2))
        t.write("objects/zz", "stray file at the top")
        t.mkdir("objects/AB")
        t.mkdir("objects/abc")
        t.write("objects/\(fan)/not-hex", "stray in a fan-out directory")
        t.write("objects/\(fan)/\(String(repeating: "a", count: 61))", "too short")
        // A link with a valid fan-out name is a stray too (never followed).
        let unused = try #require((0..<256).map { String(format: "%02x", $0) }.first { f in !ids.contains { $0.hex.hasPrefix(f) } })
        t.symlink("objects/\(unused)", to: t.join("objects/\(fan)"))
        let (objects, strays) = try store.scan()
        #expect(objects == ids.sorted())
        #expect(Set(strays) == Set([t.join("objects/zz"), t.join("objects/AB"), t.join("objects/abc"),
                                    t.join("objects/\(fan)/not-hex"), t.join("objects/\(fan)/\(String(repeating: "a", count: 61))"),
                                    t.join("objects/\(unused)")]))
        let gone = ObjectStore(root: t.join("nowhere"), tmpDir: t.join("tmp"))
        #expect(try gone.scan() == ([], []))
    }

    @Test("objects(withPrefix:) finds exactly the objects whose hex starts with the prefix")
    func prefixes() throws {
        let t = TemporaryDirectory()
        let store = Self.makeStore(t)
        var ids: [ObjectID] = []
        for i in 0..<60 { ids.append(try store.put(Array("v\(i)".utf8))) }
        t.write("objects/\(ids[0].hex.prefix(2))/garbage", "x")
        #expect(try store.objects(withPrefix: "") == ids.sorted())
        for id in ids {
            for n in [1, 2, 3, 8, 64] {
                let prefix = String(id.hex.prefix(n))
                let found = try store.objects(withPrefix: prefix)
                #expect(found.contains(id))
                #expect(found == ids.filter { $0.hex.hasPrefix(prefix) }.sorted(), "prefix \(prefix)")
            }
        }
        let absent = (0..<256).map { String(format: "%02x", $0) }.first { fan in !ids.contains { $0.hex.hasPrefix(fan) } }
        if let absent { #expect(try store.objects(withPrefix: absent + "0").isEmpty) }
        #expect(try store.objects(withPrefix: String(ids[0].hex.prefix(63)) + (ids[0].hex.hasSuffix("0") ? "1" : "0")).isEmpty)
    }
}
