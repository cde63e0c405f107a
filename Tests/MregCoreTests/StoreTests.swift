import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

@Suite("Object store")
struct StoreTests {
    func makeStore(_ t: TemporaryDirectory) -> ObjectStore {
        t.mkdir("objects")
        return ObjectStore(root: t.join("objects"), tmpDir: t.join("tmp"))
    }

    func sha256sum(_ path: String) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [path]
        let out = Pipe()
        p.standardOutput = out
        try! p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }

    func header(_ store: ObjectStore, _ id: ObjectID) -> String {
        let data = FileManager.default.contents(atPath: store.path(of: id))!
        return String(decoding: data.prefix(while: { $0 != 10 }), as: UTF8.self)
    }

    static let contents: [(String, Data)] = [
        ("empty", Data()),
        ("one byte", Data([7])),
        ("small text", Data("hello, registry\n".utf8)),
        ("compressible", Data(String(repeating: "{\"f1\": 0.87, \"name\": \"fraud\"}\n", count: 40_000).utf8)),
        ("incompressible", randomBytes(300_000, seed: 3)),
        ("multi-MiB, not a multiple of the buffer", randomBytes(5 * 1_048_576 + 12_345, seed: 4)),
        ("multi-MiB compressible", Data(String(repeating: "token ", count: 700_000).utf8)),
    ]

    @Test("files round-trip and are named by the sha256sum of their bytes", arguments: 0..<contents.count)
    func fileRoundTrip(index: Int) throws {
        let (_, data) = Self.contents[index]
        let t = TemporaryDirectory()
        let store = makeStore(t)
        let file = t.write("f.bin", data)
        let stored = try store.putFile(at: file)
        #expect(stored.id.hex == sha256sum(file))
        #expect(stored.size == UInt64(data.count))
        #expect(stored.written)
        #expect(Data(try store.get(stored.id)) == data)
        let attrs = try FileManager.default.attributesOfItem(atPath: store.path(of: stored.id))
        #expect((attrs[.posixPermissions] as? Int) == 0o444)
        #expect(store.path(of: stored.id).hasSuffix("/objects/\(stored.id.hex.prefix(2))/\(stored.id.hex.dropFirst(2))"))
        #expect(header(store, stored.id) == "MREG1 \(stored.encoding.rawValue) \(data.count)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.join("tmp")).isEmpty)
        // Streaming delivers the same bytes.
        var streamed = Data()
        try store.stream(stored.id) { streamed.append(contentsOf: $0) }
        #expect(streamed == data)
    }

    @Test("listing a directory returns every name exactly, at every size up to a few thousand entries")
    func listDirectory() throws {
        // readdir's entries are only as long as their names: copying a whole dirent read past the
        // last one and crashed fsck on a registry of 100,000 versions (it depends on where the
        // buffer ends, so this cannot force it). Grow one directory and list it at many sizes,
        // with names as long as an object's.
        let t = TemporaryDirectory()
        t.mkdir("d")
        var expected: [String] = []
        for i in 0..<1_500 {
            let name = String(format: "%062x", i)
            FileManager.default.createFile(atPath: t.join("d/\(name)"), contents: nil)
            expected.append(name)
            if i % 7 == 0 || i > 1_400 {
                #expect(try Sys.listDirectory(t.join("d")).sorted() == expected, "at \(i + 1) entries")
            }
        }
        let unicode = "modèle-权重-\u{1F600}"
        FileManager.default.createFile(atPath: t.join("d/\(unicode)"), contents: nil)
        #expect(try Sys.listDirectory(t.join("d")).contains(unicode))
    }

    @Test("in-memory objects round-trip", arguments: 0..<contents.count)
    func memoryRoundTrip(index: Int) throws {
        let (_, data) = Self.contents[index]
        let t = TemporaryDirectory()
        let store = makeStore(t)
        let id = try store.put(Array(data))
        #expect(id == ObjectID.of(Array(data)))
        #expect(Data(try store.get(id)) == data)
    }

    @Test("random bytes are stored raw, text compressed")
    func encodingChoice() throws {
        let t = TemporaryDirectory()
        let store = makeStore(t)
        let raw = try store.putFile(at: t.write("r.bin", randomBytes(400_000, seed: 9)))
        let text = try store.putFile(at: t.write("t.txt", String(repeating: "model card text ", count: 30_000)))
        #expect(raw.encoding == .raw)
        #expect(text.encoding == .zlib)
        let onDisk = try FileManager.default.attributesOfItem(atPath: store.path(of: text.id))[.size] as! Int
        #expect(onDisk < 480_000 / 10)
    }

    @Test("the same bytes are stored once")
    func dedup() throws {
        let t = TemporaryDirectory()
        let store = makeStore(t)
        let a = try store.putFile(at: t.write("a.bin", randomBytes(10_000, seed: 1)))
        let b = try store.putFile(at: t.write("b.bin", randomBytes(10_000, seed: 1)))
        #expect(a.id == b.id && a.written && !b.written)
        #expect(try store.scan().objects == [a.id])
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.join("tmp")).isEmpty)
    }

    enum Damage: String, CaseIterable {
        case flipByte, truncate, trailingGarbage, badMagic, badEncoding, badSize, sizeTooSmall, sizeTooLarge, symlink
    }

    static let damageCases: [(Damage, Bool)] = Damage.allCases.flatMap { [($0, false), ($0, true)] }

    @Test("corruption is detected on read, naming the object", arguments: damageCases)
    func corruption(damage: Damage, compressible: Bool) throws {
        let t = TemporaryDirectory()
        let store = makeStore(t)
        let data = compressible ? Data(String(repeating: "abc ", count: 100_000).utf8) : randomBytes(400_000, seed: 5)
        let stored = try store.putFile(at: t.write("f", data))
        #expect(stored.encoding == (compressible ? .zlib : .raw))
        let p = store.path(of: stored.id)
        chmod(p, 0o644)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: p))
        let headerEnd = bytes.firstIndex(of: 10)! + 1
        let payload = bytes[headerEnd...]
        let h = "MREG1 \(stored.encoding.rawValue) \(data.count)\n"
        switch damage {
        case .flipByte: bytes[headerEnd + payload.count / 2] ^= 0x40
        case .truncate: bytes = bytes.prefix(headerEnd + payload.count - 100)
        case .trailingGarbage: bytes.append(contentsOf: [1, 2, 3])
        case .badMagic: bytes = Data(h.replacingOccurrences(of: "MREG1", with: "MREG2").utf8) + payload
        case .badEncoding: bytes = Data(h.replacingOccurrences(of: stored.encoding.rawValue, with: "gzip").utf8) + payload
        case .badSize: bytes = Data("MREG1 \(stored.encoding.rawValue) 12x4\n".utf8) + payload
        case .sizeTooSmall: bytes = Data("MREG1 \(stored.encoding.rawValue) \(data.count - 1)\n".utf8) + payload
        case .sizeTooLarge: bytes = Data("MREG1 \(stored.encoding.rawValue) \(data.count + 1)\n".utf8) + payload
        case .symlink: break
        }
        if damage == .symlink {
            let elsewhere = t.write("copy", bytes)
            try FileManager.default.removeItem(atPath: p)
            try FileManager.default.createSymbolicLink(atPath: p, withDestinationPath: elsewhere)
        } else {
            try bytes.write(to: URL(fileURLWithPath: p))
        }
        let error = #expect(throws: MregError.self) { try store.verify(stored.id) }
        #expect(error?.kind == .operational)
        #expect(error?.message.contains(stored.id.hex) == true, "\(error?.message ?? "")")
    }

    @Test("a compressed object is never inflated beyond its declared size")
    func boundedInflate() throws {
        let t = TemporaryDirectory()
        let store = makeStore(t)
        let id = ObjectID.of([UInt8](repeating: 0, count: 10))
        let bomb = try ObjectStore.deflateAll([UInt8](repeating: 0, count: 10 << 20), level: 9)
        t.mkdir("objects/\(id.hex.prefix(2))")
        t.write("objects/\(id.hex.prefix(2))/\(id.hex.dropFirst(2))", Data("MREG1 zlib 10\n".utf8) + Data(bomb))
        var delivered = 0
        let error = #expect(throws: MregError.self) { try store.stream(id) { delivered += $0.count } }
        #expect(error?.message.contains("more than its declared 10 bytes") == true)
        #expect(delivered <= 10)
    }

    @Test("scan lists objects and strays; prefixes find objects")
    func scanAndPrefix() throws {
        let t = TemporaryDirectory()
        let store = makeStore(t)
        let id = try store.put(Array("x".utf8))
        t.write("objects/zz", "stray")
        t.write("objects/\(id.hex.prefix(2))/nothex", "stray")
        let (objects, strays) = try store.scan()
        #expect(objects == [id])
        #expect(strays.count == 2)
        #expect(try store.objects(withPrefix: String(id.hex.prefix(8))) == [id])
        #expect(try store.objects(withPrefix: "ffffffff").filter { $0 != id }.isEmpty)
    }
}
