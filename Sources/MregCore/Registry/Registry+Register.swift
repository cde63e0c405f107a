#if canImport(Glibc)
import Glibc
#endif

/// What a user asks `register` to store.
public struct RegisterRequest: Sendable {
    public var model: ModelName
    public var paths: [String]
    /// Optional when `predictions` are given.
    public var metricsFile: String?
    public var paramsFile: String?
    public var message: String
    public var labels: [String]
    public var data: [String]
    public var codeRevision: String?
    /// `--predictions FILE` and its options: metrics computed by mreg (Evaluation/).
    public var predictions: PredictionsRequest?
    /// `--reference FILE` (and `--reference-format`): features to profile for monitoring (Monitoring/).
    public var reference: ReferenceRequest?

    public init(model: ModelName, paths: [String], metricsFile: String?, paramsFile: String? = nil, message: String = "",
                labels: [String] = [], data: [String] = [], codeRevision: String? = nil, predictions: PredictionsRequest? = nil) {
        self.model = model
        self.paths = paths
        self.metricsFile = metricsFile
        self.paramsFile = paramsFile
        self.message = message
        self.labels = labels
        self.data = data
        self.codeRevision = codeRevision
        self.predictions = predictions
    }
}

public struct RegisterResult: Sendable {
    public var record: VersionRecord
    public var recordID: ObjectID
    /// Bytes of artifact content that were new to the store.
    public var newBytes: UInt64
    public var files: Int
}

extension Registry {
    /// Stores the files and directories of `request` as the next version of the model.
    ///
    /// Everything the user gave is validated before anything is written. Objects are written
    /// first (unreferenced objects are harmless and `gc` removes them); the version becomes visible
    /// only when the history entry that registers it is committed by moving `HEAD`.
    public func register(_ request: RegisterRequest, progress: ProgressReporter? = nil) throws -> RegisterResult {
        // Validate everything first: nothing is written for bad input.
        let registered = try registeredMetrics(request)  // reported and/or computed (Evaluation/)
        let (metrics, metricsBytes) = (registered.metrics, registered.metricsBytes)
        var params: JSON = .object([:])
        var paramsBytes: [UInt8]?
        if let pf = request.paramsFile {
            let bytes = try readUserFile(pf, what: "params file")
            let json = try UserFile.parse(bytes, path: pf, what: "params file")
            guard case .object = json else { throw MregError.invalid("params file \(pf): expected an object of parameters, found \(json.typeName)") }
            try Self.checkParams(json, path: pf)
            try ParamsLimits.check(json, path: pf)
            params = json
            paramsBytes = bytes
        }
        let labels = try Self.parseLabels(request.labels)
        try Self.checkLineage(request)
        try TextRules.checkOneLine(request.message, what: "--message", limit: TextRules.messageLimit)
        let referenceProfile = try request.reference.map(Self.profileReference)
        let files = try ArtifactWalker.collect(request.paths, registryRoot: root)
        if files.isEmpty { throw MregError.invalid("nothing to register: the paths given hold no files") }

        let gcGuard = try RegistryLock.shared(root)
        defer { withExtendedLifetime(gcGuard) {} }

        var artifacts: [Artifact] = []
        var newBytes: UInt64 = 0
        let cache = StatCache(registryRoot: root)
        // Many files: one syncfs for all instead of two fsyncs each (see ObjectBatch).
        let batch = files.count > Self.batchThreshold ? ObjectBatch(store: store) : nil
        progress?.start(total: files.reduce(0) { $0 + $1.size }, what: "register \(request.model)")
        for f in files {
            if let st = Sys.linkStatus(f.source), (st.st_mode & S_IFMT) == S_IFREG, let id = cache.lookup(st, in: store) {
                store.freshen(id)
                artifacts.append(Artifact(path: f.path, object: id, size: UInt64(st.st_size), executable: st.st_mode & 0o100 != 0))
                progress?.advance(by: UInt64(st.st_size))
                continue
            }
            let stored = try store.putFile(at: f.source, batch: batch, progress: progress.map { p in { p.advance(by: $0) } })
            if stored.written { newBytes += stored.size }
            if let st = stored.status { cache.record(st, stored.id) }
            artifacts.append(Artifact(path: f.path, object: stored.id, size: stored.size, executable: f.executable))
        }
        try batch?.commit()
        progress?.finish()
        cache.save(tmpDir: tmpDir)
        let metricsID = try store.put(metricsBytes)
        if let path = registered.predictionsPath, let e = registered.evaluation { try storePredictions(path, expected: e.predictions) }
        let paramsID = try paramsBytes.map { try store.put($0) }
        let referenceID = try referenceProfile.map { try store.put($0.json.canonicalBytes) }

        var result: (VersionRecord, ObjectID)?
        var indexEntry: String?
        // A register that fails removes the index entry it wrote (above the committed count, it
        // is ignored by readers and removed by gc anyway).
        let abort = {
            guard let indexEntry else { return }
            try? Sys.unlink(indexEntry)
            try? Sys.fsyncDirectory(self.modelDir(request.model) + "/versions")
        }
        try append(request.model, abort: abort) { _, head in
            var state = head?.state ?? ModelState()
            let n = state.versions + 1
            var record = VersionRecord(
                model: request.model, version: n, created: Clock.nowISO(), author: TextRules.fromEnvironment(Sys.userName()),
                message: request.message, labels: labels, metrics: metrics, params: params, artifacts: artifacts,
                metricsFile: metricsID, paramsFile: paramsID,
                lineage: .init(data: request.data, codeRevision: request.codeRevision), evaluation: registered.evaluation)
            record.referenceProfile = referenceID
            let id = try store.put(record.json.canonicalBytes)
            // The index entry is written before the commit; until HEAD moves, readers ignore it
            // (it is past state.versions) and the next writer overwrites it.
            if try Sys.ensureDirectory(modelDir(request.model) + "/versions") { try Sys.fsyncDirectory(modelDir(request.model)) }
            indexEntry = versionIndexPath(request.model, n)
            try Self.writeFileAtomically(versionIndexPath(request.model, n), Array("\(id)\n".utf8), tmpDir: tmpDir)
            state.versions = n
            result = (record, id)
            return (.registered, ["version": .number(Double(n)), "record": .string(id.description),
                                  "message": .string(request.message)], state)
        }
        return RegisterResult(record: result!.0, recordID: result!.1, newBytes: newBytes, files: artifacts.count)
    }

    /// Above this many files, `register` makes objects durable in one batch.
    static let batchThreshold = 16

    func readUserFile(_ path: String, what: String) throws -> [UInt8] {
        try UserFile.bytes(path, what: what)
    }

    /// `key=value` labels: keys `[A-Za-z0-9._-]{1,64}`, values one line of at most 1,024 bytes.
    /// Deepest nesting of parameters that a version record can hold and still be read back.
    static let paramsDepthLimit = 64

    /// Refuses parameters a version record cannot hold: numbers JSON has no spelling for (YAML's
    /// `.nan` and `.inf`) and nesting deeper than `paramsDepthLimit`, naming the key.
    static func checkParams(_ value: JSON, path: String, key: String = "", depth: Int = 0) throws {
        if depth > paramsDepthLimit {
            let shown = key.utf8.count > 60 ? String(key.prefix(60)) + "…" : key
            throw MregError.invalid("params file \(path): nested more than \(paramsDepthLimit) levels deep (at \"\(shown)\")")
        }
        switch value {
        case .number(let n) where !n.isFinite:
            throw MregError.invalid("params file \(path): \"\(key)\" is \(n.isNaN ? "NaN" : "infinite"); a version record holds finite numbers only (quote it to keep it as text)")
        case .object(let o):
            for k in o.keys.sorted() { try checkParams(o[k]!, path: path, key: key.isEmpty ? k : key + "." + k, depth: depth + 1) }
        case .array(let a):
            for (i, v) in a.enumerated() { try checkParams(v, path: path, key: "\(key)[\(i)]", depth: depth + 1) }
        default:
            break
        }
    }

    static func parseLabels(_ items: [String]) throws -> [String: String] {
        if items.count > InputLimits.labels {
            throw MregError.invalid("\(items.count) labels given; the limit is \(InputLimits.labels) per version")
        }
        var labels: [String: String] = [:]
        for item in items {
            guard let eq = item.firstIndex(of: "=") else { throw MregError.invalid("--label \(ModelName.show(item)): expected key=value") }
            let key = String(item[..<eq])
            let value = String(item[item.index(after: eq)...])
            guard !key.isEmpty, key.utf8.count <= 64,
                  key.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 46 || $0 == 95 || $0 == 45 }) else {
                throw MregError.invalid("--label \(ModelName.show(item)): the key must be 1-64 characters of A-Z a-z 0-9 . _ -")
            }
            try TextRules.checkOneLine(value, what: "--label \(key): the value", limit: InputLimits.labelValueBytes)
            if labels[key] != nil { throw MregError.invalid("--label \(key) is given twice") }
            labels[key] = value
        }
        return labels
    }

    /// `--data` and `--code-revision`: non-empty single lines of plain text.
    static func checkLineage(_ request: RegisterRequest) throws {
        if request.data.count > InputLimits.dataItems {
            throw MregError.invalid("\(request.data.count) --data identifiers given; the limit is \(InputLimits.dataItems) per version")
        }
        for d in request.data {
            try TextRules.checkOneLine(d, what: "--data \(ModelName.show(String(d.prefix(40))))", limit: TextRules.identifierLimit, allowEmpty: false)
        }
        if let rev = request.codeRevision {
            try TextRules.checkOneLine(rev, what: "--code-revision", limit: TextRules.identifierLimit, allowEmpty: false)
        }
    }
}

/// Turns the paths given to `register` into a sorted list of regular files with their paths
/// inside the version. A file argument contributes its base name; a directory argument contributes
/// its contents, relative to itself. Symbolic links, devices, FIFOs and sockets are refused.
enum ArtifactWalker {
    struct File {
        var source: String
        var path: String
        var size: UInt64
        var executable: Bool
    }

    static func collect(_ paths: [String], registryRoot: String) throws -> [File] {
        if paths.isEmpty { throw MregError.invalid("give at least one file or directory to register") }
        var files: [File] = []
        var seen: [String: String] = [:]
        func add(_ f: File) throws {
            if let other = seen[f.path] {
                throw MregError.invalid("\(f.source) and \(other) would both be stored as \"\(f.path)\"")
            }
            seen[f.path] = f.source
            files.append(f)
        }
        for p in paths {
            guard let st = Sys.linkStatus(p) else {
                throw MregError.invalid("\(p): no such file or directory")
            }
            if let real = Sys.realpath(p), real == registryRoot || real.hasPrefix(registryRoot + "/") {
                throw MregError.invalid("\(p) is inside the registry \(registryRoot); register files from elsewhere")
            }
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                var base = p
                while base.hasSuffix("/") { base.removeLast() }
                base = String(base.split(separator: "/").last ?? Substring(base))
                guard ArtifactPath.isSafe(base) else { throw MregError.invalid("\(p): the file name is not a safe artifact path") }
                try add(File(source: p, path: base, size: UInt64(st.st_size), executable: st.st_mode & 0o100 != 0))
            case S_IFDIR:
                try walk(dir: p, prefix: "", into: add, registryRoot: registryRoot)
            default:
                throw MregError.invalid("\(p): \(kind(st.st_mode)) cannot be registered; give regular files or directories")
            }
        }
        if let (x, y) = ArtifactPath.conflict(in: files.map(\.path)) {
            let source = { (path: String) in files.first { $0.path == path }?.source ?? path }
            throw MregError.invalid("\(source(x)) would be stored as \"\(x)\" and \(source(y)) as \"\(y)\": "
                                    + "\"\(x)\" cannot be both a file and a directory")
        }
        return files.sorted { $0.path < $1.path }
    }

    private static func walk(dir: String, prefix: String, into add: (File) throws -> Void, registryRoot: String) throws {
        let names: [String]
        do { names = try Sys.listDirectory(dir) } catch let f as Sys.Failure {
            throw MregError.invalid("\(dir): cannot list: \(f.reason)")
        }
        for name in names.sorted() {
            let full = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            let rel = prefix.isEmpty ? name : prefix + "/" + name
            if full.utf8.count >= pathLimit || rel.utf8.count >= pathLimit {
                throw MregError.invalid("\(ModelName.show(String(full.prefix(60))))…: the path is \(full.utf8.count) bytes long, over the system limit of \(pathLimit - 1) (PATH_MAX)")
            }
            guard ArtifactPath.isSafe(rel) else {
                let reason = name.utf8.count > 255 ? "the name is longer than 255 bytes"
                    : "the name is not a safe artifact path (control characters or backslash)"
                throw MregError.invalid("\(ModelName.show(full)): \(reason)")
            }
            guard let st = try entryStatus(full, name: name) else { throw MregError.invalid("\(ModelName.show(full)): vanished while being listed") }
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                try add(File(source: full, path: rel, size: UInt64(st.st_size), executable: st.st_mode & 0o100 != 0))
            case S_IFDIR:
                if let real = Sys.realpath(full), real == registryRoot { continue }
                try walk(dir: full, prefix: rel, into: add, registryRoot: registryRoot)
            default:
                throw MregError.invalid("\(full): \(kind(st.st_mode)) cannot be registered; give regular files or directories")
            }
        }
    }

    /// The status of a listed entry, or nil when it is gone; names and paths mreg cannot store
    /// are refused with their own reason before any system call fails on them.
    private static func entryStatus(_ full: String, name: String) throws -> FileStatus? {
        // Names are read as UTF-8, invalid sequences replaced by U+FFFD; the entry is then not
        // found under the replaced name.
        let status = Sys.linkStatus(full)
        if status == nil, name.unicodeScalars.contains("\u{FFFD}") {
            throw MregError.invalid("\(ModelName.show(full)): the file name is not valid UTF-8; artifact paths must be UTF-8 text (rename it)")
        }
        return status
    }

    /// PATH_MAX on Linux, with its terminating NUL.
    static let pathLimit = 4096

    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFLNK: return "a symbolic link"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFDIR: return "a directory"
        default: return "a special file"
        }
    }
}

/// Progress for long operations; the command line shows it on a terminal only.
public protocol ProgressReporter: AnyObject {
    func start(total: UInt64, what: String)
    func advance(by bytes: UInt64)
    func finish()
}
