import Foundation
import Testing
@testable import MregCore
import _MregTestSupport

/// Unit tests of the registry core (Registry/): create and open, register, resolve, records,
/// fetch, fsck and gc, and artifact path rules.
@Suite("Registry core unit")
struct RegistryCoreTests {
    // MARK: - Helpers

    static let fraud = try! ModelName("fraud")

    /// A model directory with a raw file, a compressible file, an executable, a nested file and an
    /// empty file. Returns the directory and its files (relative path → (bytes, executable)).
    static func modelTree(_ t: TemporaryDirectory, _ dir: String, seed: UInt64 = 1, large: Bool = false)
        -> (String, [String: (Data, Bool)]) {
        var files: [String: (Data, Bool)] = [
            "weights.bin": (randomBytes(large ? (1 << 20) + 4_321 : 70_000, seed: seed), false),
            "config.json": (Data(String(repeating: "{\"layers\": [64, 32, 1], \"seed\": \(seed)}\n", count: large ? 40_000 : 200).utf8), false),
            "bin/predict.sh": (Data("#!/bin/sh\necho predict \(seed)\n".utf8), true),
            "sub/dir/deep.txt": (Data("deep \(seed)\n".utf8), false),
            "empty.txt": (Data(), false),
        ]
        if large { files["vocab.txt"] = (Data(String(repeating: "token\(seed) ", count: 300_000).utf8), false) }
        for (rel, (data, exec)) in files { t.write("\(dir)/\(rel)", data, executable: exec) }
        return (t.join(dir), files)
    }

    static func metrics(_ t: TemporaryDirectory, _ name: String, _ text: String = "{\"f1\": 0.87, \"precision\": 0.91}") -> String {
        t.write(name, text)
    }

    static func register(_ r: Registry, _ t: TemporaryDirectory, _ paths: [String], model: ModelName = fraud,
                         metrics text: String = "{\"f1\": 0.87}") throws -> RegisterResult {
        let mf = t.write("metrics-\(UUID().uuidString).json", text)
        return try r.register(RegisterRequest(model: model, paths: paths, metricsFile: mf))
    }

    static func fileBytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    static func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    /// Every regular file under a directory, relative, sorted.
    static func files(under dir: String) -> [String] {
        let e = FileManager.default.enumerator(atPath: dir)
        var out: [String] = []
        while let rel = e?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + rel, isDirectory: &isDir), !isDir.boolValue { out.append(rel) }
        }
        return out.sorted()
    }

    // MARK: - Create and open

    @Test("create makes an empty registry that open finds; bad places are refused")
    func createOpen() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        for sub in ["objects", "tmp", "models"] { #expect(t.exists("reg/\(sub)")) }
        #expect(t.read("reg/config") == Data("{\"format\":\"mreg-registry\",\"version\":1}\n".utf8))
        let opened = try Registry.open(explicit: t.join("reg"))
        #expect(opened.root == r.root)
        #expect(try opened.modelNames().isEmpty)

        let again = #expect(throws: MregError.self) { try Registry.create(at: t.join("reg")) }
        #expect(again?.kind == .invalidInput)
        t.write("full/x", "x")
        #expect(throws: MregError.self) { try Registry.create(at: t.join("full")) }
        let missing = #expect(throws: MregError.self) { try Registry.open(explicit: t.join("nowhere")) }
        #expect(missing?.kind == .invalidInput)
        #expect(missing?.message.contains(t.join("nowhere")) == true)
        t.mkdir("plain")
        let plain = #expect(throws: MregError.self) { try Registry.open(explicit: t.join("plain")) }
        #expect(plain?.kind == .invalidInput)
        #expect(plain?.message.contains("config") == true)
        #expect(plain?.message.contains("run `mreg init") == true, "an empty directory can be made a registry")
        let full = #expect(throws: MregError.self) { try Registry.open(explicit: t.join("full")) }
        #expect(full?.message.contains("it holds other files") == true, "\(full?.message ?? "")")
        #expect(full?.message.contains("run `mreg init") == false, "init would refuse a non-empty directory")
    }

    // MARK: - Register and resolve

    @Test("register then resolve by number, latest and id prefix")
    func registerResolve() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        let (dir1, _) = Self.modelTree(t, "m1", seed: 1)
        let v1 = try Self.register(r, t, [dir1])
        #expect(v1.record.version == 1)
        #expect(v1.record.name == "fraud@1")
        #expect(v1.files == 5)
        #expect(try r.modelNames() == [Self.fraud])

        for ref: VersionRef in [.number(Self.fraud, 1), .latest(Self.fraud), .id(String(v1.recordID.hex.prefix(8))),
                                .id(v1.recordID.hex), try VersionRef("fraud@1"), try VersionRef("sha256:" + v1.recordID.hex.prefix(12))] {
            let found = try r.resolve(ref)
            #expect(found.recordID == v1.recordID, "\(ref)")
            #expect(found.version == 1)
            #expect(found.model == Self.fraud)
            #expect(found.name == "fraud@1")
        }

        let (dir2, _) = Self.modelTree(t, "m2", seed: 2)
        let v2 = try Self.register(r, t, [dir2])
        #expect(v2.record.version == 2)
        #expect(v2.recordID != v1.recordID)
        #expect(try r.resolve(.latest(Self.fraud)).recordID == v2.recordID)
        #expect(try r.resolve(.number(Self.fraud, 1)).recordID == v1.recordID)
        #expect(try r.resolve(.id(String(v2.recordID.hex.prefix(8)))).version == 2)

        // Unknown versions, models and ids are invalid input.
        for ref: VersionRef in [.number(Self.fraud, 3), .number(try ModelName("nobody"), 1), .latest(try ModelName("nobody")),
                                .id("00000000"), .champion(Self.fraud, .production, back: 0)] {
            let e = #expect(throws: MregError.self, "\(ref)") { try r.resolve(ref) }
            #expect(e?.kind == .invalidInput, "\(ref): \(e?.message ?? "")")
        }
        // An artifact object's id is not a version record id.
        let artifactID = v1.record.artifacts[0].object
        let e = #expect(throws: MregError.self) { try r.resolve(.id(artifactID.hex)) }
        #expect(e?.kind == .invalidInput)
    }

    @Test("the stored record round-trips: relative sorted paths, executable bits, sizes, metrics, provenance")
    func recordRoundTrip() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        let (dir, files) = Self.modelTree(t, "model", seed: 7)
        let single = t.write("extra/model.onnx", randomBytes(3_000, seed: 8))
        let manifest = "{\"metrics\": {\"f1\": 0.871, \"test\": {\"latency\": 11.2}}, \"lower_is_better\": [\"test.latency\"], \"eval_set\": {\"name\": \"holdout\"}}"
        let mf = t.write("metrics.json", manifest)
        let pf = t.write("params.json", "{\"learning_rate\": 0.1, \"depth\": 6}")
        let result = try r.register(RegisterRequest(
            model: Self.fraud, paths: [dir, single], metricsFile: mf, paramsFile: pf, message: "first model",
            labels: ["team=risk", "stage=exp"], data: ["s3://data/tx-2026-09"], codeRevision: "4e1c2a9"))

        let stored = try r.record(result.recordID)
        #expect(stored == result.record)
        #expect(try r.record(of: r.resolve(.number(Self.fraud, 1))) == result.record)
        let rec = stored
        #expect(rec.model == Self.fraud)
        #expect(rec.version == 1)
        #expect(rec.message == "first model")
        #expect(rec.labels == ["team": "risk", "stage": "exp"])
        #expect(rec.lineage.data == ["s3://data/tx-2026-09"])
        #expect(rec.lineage.codeRevision == "4e1c2a9")
        #expect(rec.params["learning_rate"] == .number(0.1))
        #expect(rec.metrics == (try MetricManifest.parse(Array(manifest.utf8), path: mf)))
        // The files as given are kept byte for byte for provenance.
        #expect(try r.store.get(rec.metricsFile) == Array(manifest.utf8))
        #expect(try r.store.get(try #require(rec.paramsFile)) == Self.fileBytes(pf))

        let expectedPaths = (Array(files.keys) + ["model.onnx"]).sorted()
        #expect(rec.artifacts.map(\.path) == expectedPaths)
        #expect(rec.artifacts.map(\.path) == rec.artifacts.map(\.path).sorted())
        for a in rec.artifacts {
            #expect(!a.path.hasPrefix("/") && !a.path.contains(t.path) && ArtifactPath.isSafe(a.path), "\(a.path)")
            let data = a.path == "model.onnx" ? try Data(contentsOf: URL(fileURLWithPath: single)) : files[a.path]!.0
            #expect(a.size == UInt64(data.count), "\(a.path)")
            #expect(a.object == ObjectID.of([UInt8](data)), "\(a.path)")
            #expect(a.executable == (a.path == "bin/predict.sh"), "\(a.path)")
            #expect(try r.store.get(a.object) == [UInt8](data))
        }
        #expect(rec.totalSize == rec.artifacts.reduce(0) { $0 + $1.size })
        #expect(result.files == expectedPaths.count)
        // The record is canonical JSON: its id is the hash of its canonical bytes.
        #expect(ObjectID.of(rec.json.canonicalBytes) == result.recordID)
        #expect(try r.store.get(result.recordID) == rec.json.canonicalBytes)
    }

    @Test("versions count up from 1 per model")
    func versionsCountUp() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        var ids: [ObjectID] = []
        for i in 1...5 {
            let f = t.write("v\(i)/w.bin", "weights \(i)")
            let res = try Self.register(r, t, [f], metrics: "{\"f1\": 0.\(i)}")
            #expect(res.record.version == i)
            ids.append(res.recordID)
        }
        let other = try ModelName("churn")
        let o = try Self.register(r, t, [t.write("o/w.bin", "other")], model: other)
        #expect(o.record.version == 1)
        #expect(try r.modelNames() == [other, Self.fraud])
        let (_, head) = try r.headEntry(Self.fraud)
        #expect(head.state.versions == 5)
        let all = try r.versions(Self.fraud, state: head.state)
        #expect(all.map(\.0.version) == [5, 4, 3, 2, 1])
        #expect(all.map(\.0.recordID) == ids.reversed())
        #expect(all.map(\.1.metrics["f1"]) == [0.5, 0.4, 0.3, 0.2, 0.1])
        for (i, id) in ids.enumerated() { #expect(try r.resolve(.number(Self.fraud, i + 1)).recordID == id) }
        #expect(throws: MregError.self) { try r.resolve(.number(Self.fraud, 6)) }
    }

    @Test("re-registering the same files stores no new artifact bytes")
    func reRegisterDedup() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        let (dir, files) = Self.modelTree(t, "model", seed: 3)
        let first = try Self.register(r, t, [dir])
        #expect(first.newBytes == UInt64(files.values.reduce(0) { $0 + $1.0.count }))
        let objectsAfterFirst = Set(try r.store.scan().objects)

        let second = try Self.register(r, t, [dir])
        #expect(second.newBytes == 0)
        #expect(second.record.version == 2)
        #expect(second.record.artifacts == first.record.artifacts)

        // A copy elsewhere (new inodes, so no stat cache) dedups by content.
        try FileManager.default.copyItem(atPath: dir, toPath: t.join("copy"))
        let third = try Self.register(r, t, [t.join("copy")])
        #expect(third.newBytes == 0)
        #expect(third.record.artifacts == first.record.artifacts)
        // Only records, manifests and history entries were added; no artifact object twice.
        let added = Set(try r.store.scan().objects).subtracting(objectsAfterFirst)
        #expect(added.isDisjoint(with: first.record.artifacts.map(\.object)))
        #expect(added.count <= 6)
    }

    @Test("bad input to register changes nothing")
    func registerBadInput() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        _ = try Self.register(r, t, [t.write("ok/w.bin", "w")])
        let before = TreeSnapshot(t.join("reg"))
        let (dir, _) = Self.modelTree(t, "model", seed: 4)
        let badMetrics = t.write("bad.json", "{\"f1\": \"high\"}")
        let cases: [RegisterRequest] = [
            RegisterRequest(model: Self.fraud, paths: [dir], metricsFile: badMetrics),
            RegisterRequest(model: Self.fraud, paths: [dir], metricsFile: t.join("missing.json")),
            RegisterRequest(model: Self.fraud, paths: [t.join("missing-dir")], metricsFile: Self.metrics(t, "m.json")),
            RegisterRequest(model: Self.fraud, paths: [dir], metricsFile: Self.metrics(t, "m2.json"), labels: ["no-equals"]),
            RegisterRequest(model: Self.fraud, paths: [], metricsFile: Self.metrics(t, "m3.json")),
            RegisterRequest(model: Self.fraud, paths: [t.join("reg/objects")], metricsFile: Self.metrics(t, "m4.json")),
        ]
        for req in cases {
            let e = #expect(throws: MregError.self) { try r.register(req) }
            #expect(e?.kind == .invalidInput, "\(e?.message ?? "")")
        }
        t.symlink("model/link", to: t.join("model/weights.bin"))
        let e = #expect(throws: MregError.self) { try Self.register(r, t, [dir]) }
        #expect(e?.message.contains("symbolic link") == true, "\(e?.message ?? "")")
        #expect(TreeSnapshot(t.join("reg")) == before)
    }

    @Test("more than 16 files are stored as a batch: duplicates once, all readable, fsck ok")
    func batchRegister() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        var expected: [String: Data] = [:]
        for i in 0..<40 {
            // Every fourth file repeats the content of file 0.
            let data = i % 4 == 0 ? Data("shared shard\n".utf8) : randomBytes(2_000 + i, seed: UInt64(100 + i))
            expected[String(format: "shards/shard-%03d.bin", i)] = data
            t.write(String(format: "model/shards/shard-%03d.bin", i), data)
        }
        let res = try Self.register(r, t, [t.join("model")])
        #expect(res.files == 40)
        let unique = Set(expected.values)
        #expect(res.newBytes == UInt64(unique.reduce(0) { $0 + $1.count }))
        #expect(res.record.artifacts.map(\.path) == expected.keys.sorted())
        #expect((try? FileManager.default.contentsOfDirectory(atPath: t.join("reg/tmp")).filter { $0.hasPrefix("obj-") }) == [])
        _ = try r.fetch(.latest(Self.fraud), out: t.join("out"), force: false)
        for (rel, data) in expected { #expect(t.read("out/" + rel) == data, "\(rel)") }
        let report = try r.fsck()
        #expect(report.ok, "\(report.problems)")
    }

    @Test("registering a directory that holds the registry leaves the registry out")
    func registryInsideTree() throws {
        let t = TemporaryDirectory()
        t.mkdir("work")
        let r = try Registry.create(at: t.join("work/.registry"))
        t.write("work/model.bin", "weights")
        let mf = t.write("m.json", "{\"f1\": 0.5}")
        let res = try r.register(RegisterRequest(model: Self.fraud, paths: [t.join("work")], metricsFile: mf))
        #expect(res.record.artifacts.map(\.path) == ["model.bin"])
    }

    @Test("params with values JSON cannot hold (YAML .nan, .inf) are refused by key or stored readably")
    func paramsNonFinite() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        let pf = t.write("params.yaml", "learning_rate: 0.1\nmax_depth: .inf\ndropout: .nan\n")
        let req = RegisterRequest(model: Self.fraud, paths: [t.write("a/w.bin", "w")], metricsFile: Self.metrics(t, "m.json"), paramsFile: pf)
        let result: RegisterResult
        do {
            result = try r.register(req)
        } catch let e as MregError {
            // Refusing is fine, as invalid input naming the file and a key.
            #expect(e.kind == .invalidInput, "\(e.message)")
            #expect(e.message.contains(pf), "\(e.message)")
            #expect(e.message.contains("max_depth") || e.message.contains("dropout"), "\(e.message)")
            return
        }
        // Accepting is fine only if the version can be read back.
        #expect(throws: Never.self, "the record of a registered version must be readable") { _ = try r.record(result.recordID) }
        let report = try r.fsck()
        #expect(report.ok, "\(report.problems)")
    }

    @Test("params nested as deeply as the parser accepts still give a readable record")
    func paramsDeeplyNested() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        // 199 levels: the deepest a user's JSON file may be (JSON.parse refuses 200 and more).
        let depth = 199
        let text = String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)
        let pf = t.write("params.json", text)
        #expect(throws: Never.self) { _ = try JSON.parse(Array(text.utf8)) }
        let req = RegisterRequest(model: Self.fraud, paths: [t.write("a/w.bin", "w")], metricsFile: Self.metrics(t, "m.json"), paramsFile: pf)
        let result: RegisterResult
        do {
            result = try r.register(req)
        } catch let e as MregError {
            #expect(e.kind == .invalidInput, "\(e.message)")
            #expect(e.message.contains(pf), "\(e.message)")
            return
        }
        #expect(throws: Never.self, "the record of a registered version must be readable") { _ = try r.record(result.recordID) }
        let report = try r.fsck()
        #expect(report.ok, "\(report.problems)")
    }

    @Test("a version with many artifacts (a record over 1 MiB) resolves by id prefix")
    func resolveLargeRecordByID() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        // 5,000 files with realistic checkpoint-style paths make a record of about 1.3 MB.
        let dirName = "checkpoints/epoch-0042/optimizer-state-and-sharded-model-weights"
        for i in 0..<5_000 {
            t.write(String(format: "model/\(dirName)/shard-%05d-of-05000.safetensors", i), "\(i)")
        }
        let res = try Self.register(r, t, [t.join("model")])
        let recordSize = try r.store.get(res.recordID).count
        #expect(recordSize > 1 << 20)
        #expect(try r.record(res.recordID).artifacts.count == 5_000)
        let found = try r.resolve(.id(String(res.recordID.hex.prefix(8))))
        #expect(found.recordID == res.recordID)
        #expect(found.version == 1)
    }

    // MARK: - Fetch

    @Test("fetch writes byte-identical files with their modes, and nothing else", arguments: [false, true])
    func fetch(large: Bool) throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        let (dir, files) = Self.modelTree(t, "model", seed: 5, large: large)
        let reg = try Self.register(r, t, [dir])
        let out = t.join("out/fraud-1")
        t.mkdir("out")
        let result = try r.fetch(.number(Self.fraud, 1), out: out, force: false)
        #expect(result.out == out)
        #expect(result.files == files.count)
        #expect(result.bytes == UInt64(files.values.reduce(0) { $0 + $1.0.count }))
        #expect(result.version.recordID == reg.recordID)
        #expect(Self.files(under: out) == files.keys.sorted())
        for (rel, (data, exec)) in files {
            #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/" + rel)) == data, "\(rel)")
            #expect(try Self.mode(out + "/" + rel) == (exec ? 0o755 : 0o644), "\(rel)")
        }
        // Nothing but the result beside it (the temporary directory was renamed into place).
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.join("out")) == ["fraud-1"])

        // A non-empty target is refused without --force and left alone; with force it is replaced.
        t.write("out/fraud-1/stale.txt", "old")
        let e = #expect(throws: MregError.self) { try r.fetch(.latest(Self.fraud), out: out, force: false) }
        #expect(e?.kind == .invalidInput)
        #expect(t.read("out/fraud-1/stale.txt") == Data("old".utf8))
        _ = try r.fetch(.latest(Self.fraud), out: out, force: true)
        #expect(Self.files(under: out) == files.keys.sorted())
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.join("out")) == ["fraud-1"])
    }

    @Test("fetch refuses a symbolic link as --out and an --out inside the registry")
    func fetchRefusals() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        _ = try Self.register(r, t, [t.write("a/w.bin", "w")])
        t.mkdir("real")
        t.symlink("link", to: t.join("real"))
        for out in [t.join("link"), t.join("link/inner"), t.join("reg/out")] {
            let e = #expect(throws: MregError.self, "\(out)") { try r.fetch(.latest(Self.fraud), out: out, force: true) }
            #expect(e?.kind == .invalidInput, "\(out): \(e?.message ?? "")")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.join("real")).isEmpty)
        #expect(!t.exists("reg/out"))
    }

    @Test("fetch into a directory whose name is long but valid (240 bytes)")
    func fetchLongName() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        _ = try Self.register(r, t, [t.write("a/w.bin", "weights")])
        let leaf = String(repeating: "n", count: 240)
        let result = try r.fetch(.latest(Self.fraud), out: t.join(leaf), force: false)
        #expect(result.files == 1)
        #expect(t.read(leaf + "/w.bin") == Data("weights".utf8))
    }

    @Test("fetch never writes into the registry, however --out spells it", arguments: ["x/../reg/objects/FAN", "x//../reg/objects/FAN", "..//reg/objects/FAN", "x/../reg/models"])
    func fetchIntoRegistry(spelling: String) throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        let reg = try Self.register(r, t, [t.write("a/w.bin", randomBytes(5_000, seed: 77))])
        t.mkdir("x")
        let fan = String(reg.record.artifacts[0].object.hex.prefix(2))
        var rel = spelling.replacingOccurrences(of: "FAN", with: fan)
        if rel.hasPrefix("..//") { rel = "x/" + rel }
        let out = t.path + "/" + rel
        let before = TreeSnapshot(t.join("reg"))
        let e = #expect(throws: MregError.self, "--out \(out)") { try r.fetch(.latest(Self.fraud), out: out, force: true) }
        #expect(e?.kind == .invalidInput, "\(e?.message ?? "")")
        #expect(TreeSnapshot(t.join("reg")) == before)
        let report = try? r.fsck()
        #expect(report?.ok == true, "\(report?.problems ?? ["fsck failed"])")
    }

    // MARK: - fsck and gc

    static func populated(_ t: TemporaryDirectory) throws -> Registry {
        let r = try Registry.create(at: t.join("reg"))
        let (dir1, _) = Self.modelTree(t, "m1", seed: 1)
        let (dir2, _) = Self.modelTree(t, "m2", seed: 2)
        _ = try Self.register(r, t, [dir1])
        _ = try Self.register(r, t, [dir2], metrics: "{\"f1\": 0.9}")
        let pf = t.write("p.json", "{\"depth\": 3}")
        _ = try r.register(RegisterRequest(model: try ModelName("churn"), paths: [dir1], metricsFile: Self.metrics(t, "c.json"), paramsFile: pf))
        return r
    }

    @Test("fsck is ok on a fresh registry and after registering")
    func fsckFresh() throws {
        let t = TemporaryDirectory()
        let empty = try Registry.create(at: t.join("empty"))
        let e = try empty.fsck()
        #expect(e.ok, "\(e.problems)")
        #expect(e.objects == 0)
        let r = try Self.populated(t)
        let report = try r.fsck()
        #expect(report.ok, "\(report.problems)")
        #expect(report.objects == (try r.store.scan().objects.count))
        #expect(report.models == 2)
        #expect(report.versions == 3)
        #expect(report.entries == 3)
    }

    @Test("fsck reports a problem naming the object after a byte of any object is flipped")
    func fsckEveryObject() throws {
        let t = TemporaryDirectory()
        let r = try Self.populated(t)
        let objects = try r.store.scan().objects
        #expect(objects.count >= 15)
        for id in objects {
            let p = r.store.path(of: id)
            let original = try Self.fileBytes(p)
            let headerEnd = original.firstIndex(of: 10)! + 1
            var damaged = original
            // A payload byte in the middle; for an empty object, the header's last byte.
            let at = original.count > headerEnd ? headerEnd + (original.count - headerEnd) / 2 : headerEnd - 1
            damaged[at] ^= 0xff
            #expect(chmod(p, 0o644) == 0)
            try Data(damaged).write(to: URL(fileURLWithPath: p))
            let report = try r.fsck()
            #expect(!report.ok, "flipping a byte of \(id) went unnoticed")
            #expect(report.problems.contains { $0.contains(id.hex) }, "\(id): \(report.problems)")
            try Data(original).write(to: URL(fileURLWithPath: p))
            #expect(chmod(p, 0o444) == 0)
        }
        let after = try r.fsck()
        #expect(after.ok, "\(after.problems)")
    }

    @Test("fsck reports a missing object and a stray file")
    func fsckMissingAndStray() throws {
        let t = TemporaryDirectory()
        let r = try Self.populated(t)
        let rec = try r.record(r.resolve(.latest(Self.fraud)).recordID)
        let victim = rec.artifacts[0].object
        try FileManager.default.removeItem(atPath: r.store.path(of: victim))
        let report = try r.fsck()
        #expect(!report.ok)
        #expect(report.problems.contains { $0.contains(victim.hex) && $0.contains("missing") }, "\(report.problems)")
        let t2 = TemporaryDirectory()
        let r2 = try Self.populated(t2)
        t2.write("reg/objects/stray.txt", "x")
        let report2 = try r2.fsck()
        #expect(report2.problems.contains { $0.contains("stray.txt") }, "\(report2.problems)")
    }

    @Test("gc with no grace removes unreferenced objects and keeps everything reachable")
    func gc() throws {
        let t = TemporaryDirectory()
        let r = try Self.populated(t)
        let reachable = Set(try r.store.scan().objects)
        let orphanBytes = try r.store.put(Array("nothing references this".utf8))
        let orphanFile = try r.store.putFile(at: t.write("orphan.bin", randomBytes(5_000, seed: 99))).id
        #expect(r.store.contains(orphanBytes) && r.store.contains(orphanFile))

        let dry = try r.gc(grace: 0, dryRun: true)
        #expect(dry.removedObjects == 2)
        #expect(r.store.contains(orphanBytes) && r.store.contains(orphanFile))

        let report = try r.gc(grace: 0)
        #expect(report.removedObjects == 2)
        #expect(report.kept == reachable.count)
        #expect(!r.store.contains(orphanBytes))
        #expect(!r.store.contains(orphanFile))
        #expect(Set(try r.store.scan().objects) == reachable)
        let fsck = try r.fsck()
        #expect(fsck.ok, "\(fsck.problems)")
        // Everything still reads, and a second gc has nothing to do.
        for n in 1...2 { _ = try r.fetch(.number(Self.fraud, n), out: t.join("out\(n)"), force: false) }
        #expect(try r.gc(grace: 0).removedObjects == 0)

        // With a long grace period, a fresh orphan is kept.
        let young = try r.store.put(Array("young orphan".utf8))
        #expect(try r.gc(grace: 3_600).removedObjects == 0)
        #expect(r.store.contains(young))
    }

    @Test("gc walks every history entry even when a later promotion already named it")
    func gcAfterPromotions() throws {
        let t = TemporaryDirectory()
        let r = try Self.populated(t)
        let staging = try StageName("staging")
        _ = try r.promote(.number(Self.fraud, 1), stage: .production)
        _ = try r.promote(.number(Self.fraud, 2), stage: staging)
        _ = try r.promote(.number(Self.fraud, 2), stage: .production)
        let before = Set(try r.store.scan().objects)
        #expect(try r.gc(grace: 0).removedObjects == 0)
        #expect(Set(try r.store.scan().objects) == before)
        let fsck = try r.fsck()
        #expect(fsck.ok, "\(fsck.problems)")
        _ = try r.fetch(.number(Self.fraud, 1), out: t.join("out1"), force: false)
        #expect(try r.log(Self.fraud).count == 5)
    }

    final class RecordingProgress: ProgressReporter {
        var total: UInt64 = 0
        var steps: [UInt64] = []
        var finished = false
        func start(total: UInt64, what: String) { self.total = total }
        func advance(by bytes: UInt64) { steps.append(bytes) }
        func finish() { finished = true }
    }

    @Test("register reports progress while a large file is read, not only when it is done")
    func registerProgress() throws {
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        t.write("m/big.bin", randomBytes((3 << 20) + 5, seed: 7))
        t.write("m/text.txt", String(repeating: "compressible ", count: 200_000))
        t.write("m/empty", "")
        let progress = RecordingProgress()
        let mf = Self.metrics(t, "m.json")
        _ = try r.register(RegisterRequest(model: Self.fraud, paths: [t.join("m")], metricsFile: mf), progress: progress)
        #expect(progress.total == (3 << 20) + 5 + 2_600_000)
        #expect(progress.steps.reduce(0, +) == progress.total)
        #expect(progress.steps.count >= 6, "1 MiB steps: \(progress.steps)")
        #expect(progress.steps.allSatisfy { $0 <= 1 << 20 })
        #expect(progress.finished)
    }

    // MARK: - Artifact paths

    static let safePaths = [
        "a", "model.bin", "dir/file.bin", "a/b/c/d", "...", ".hidden", "a/.b", "a..b", "modèle/权重.bin", "with space.txt",
        String(repeating: "d/", count: 100) + "f", String(repeating: "n", count: 255),
    ]
    static let unsafePaths = [
        "", "/abs", "/", "a/", "a//b", ".", "..", "./a", "a/./b", "a/..", "../a", "a/../b", "a\\b", "..\\a",
        "a\u{0}b", "a\nb", "a\tb", "a\u{7f}", "a\u{1b}[31m", String(repeating: "n", count: 256),
        String(repeating: "d/", count: 2048) + "f",
    ]

    @Test("ArtifactPath.isSafe accepts relative clean paths", arguments: safePaths)
    func safePath(path: String) {
        #expect(ArtifactPath.isSafe(path))
    }

    @Test("ArtifactPath.isSafe refuses absolute, empty, dot, backslash and control-character paths", arguments: unsafePaths)
    func unsafePath(path: String) {
        #expect(!ArtifactPath.isSafe(path), "\(path.debugDescription)")
    }

    @Test("paths that cannot share one tree: a path twice, or a file that is another's directory")
    func pathConflicts() throws {
        #expect(ArtifactPath.conflict(in: ["a", "b/c", "b/d", "bb", "b.c/x"]) == nil)
        #expect(ArtifactPath.conflict(in: ["a", "a"])! == ("a", "a"))
        #expect(ArtifactPath.conflict(in: ["sub", "sub/x"])! == ("sub", "sub/x"))
        #expect(ArtifactPath.conflict(in: ["sub/x/y", "sub"])! == ("sub", "sub/x/y"))
        #expect(ArtifactPath.conflict(in: ["a/b/c", "a/b"])! == ("a/b", "a/b/c"))
        // register refuses such a tree before storing anything.
        let t = TemporaryDirectory()
        let r = try Registry.create(at: t.join("reg"))
        t.write("one/sub", "file")
        t.write("two/sub/x", "under a directory")
        let error = #expect(throws: MregError.self) { try Self.register(r, t, [t.join("one/sub"), t.join("two")]) }
        #expect(error?.kind == .invalidInput)
        #expect(error?.message.contains("\"sub\" cannot be both a file and a directory") == true, "\(error?.message ?? "")")
        #expect(try r.store.scan().objects.isEmpty)
    }
}
