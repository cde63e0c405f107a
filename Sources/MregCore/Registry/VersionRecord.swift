/// One file of a version's artifact tree.
public struct Artifact: Equatable, Sendable {
    /// Relative path with `/` separators; never absolute, never `.` or `..` components.
    public var path: String
    public var object: ObjectID
    public var size: UInt64
    public var executable: Bool

    var json: JSON {
        .object(["path": .string(path), "object": .string(object.description), "size": .number(Double(size)),
                 "executable": .bool(executable)])
    }
}

/// The immutable record of `NAME@N`, stored as a canonical JSON object (see docs/format.md).
public struct VersionRecord: Equatable, Sendable {
    public var model: ModelName
    public var version: Int
    public var created: String
    public var author: String
    public var message: String
    public var labels: [String: String]
    public var metrics: MetricSet
    public var params: JSON
    public var artifacts: [Artifact]
    /// Object ids of the files the user gave, as given (provenance).
    public var metricsFile: ObjectID
    public var paramsFile: ObjectID?
    public var lineage: Lineage
    /// What `register --predictions` computed (nil for reported metrics only).
    public var evaluation: Evaluation?
    /// `register --reference FILE`: the profile object of the reference features (Monitoring/).
    public var referenceProfile: ObjectID?

    public struct Lineage: Equatable, Sendable {
        public var data: [String]
        public var codeRevision: String?
    }

    public static let type = "mreg.version"
    /// The largest record mreg reads (about a million artifacts).
    public static let sizeLimit: UInt64 = 256 << 20

    public var name: String { "\(model)@\(version)" }
    public var totalSize: UInt64 { artifacts.reduce(0) { $0 + $1.size } }

    /// Why the artifact paths cannot form one tree (a path twice, or `sub` and `sub/x`), or nil.
    /// register never writes such a record; one written by hand or by an older mreg still reads
    /// (so list, show and gc work), but fetch refuses it and fsck reports it.
    public var pathConflict: String? {
        guard let (x, y) = ArtifactPath.conflict(in: artifacts.map(\.path)) else { return nil }
        return x == y ? "artifact path \(ModelName.show(x)) appears twice"
                      : "artifact paths \(ModelName.show(x)) and \(ModelName.show(y)) conflict: \(ModelName.show(x)) would be a file and a directory"
    }

    public var json: JSON {
        var lineageJSON: [String: JSON] = ["data": .array(lineage.data.map { .string($0) })]
        if let rev = lineage.codeRevision { lineageJSON["code_revision"] = .string(rev) }
        var o: [String: JSON] = [
            "type": .string(Self.type), "format": .number(1),
            "model": .string(model.value), "version": .number(Double(version)),
            "created": .string(created), "author": .string(author), "message": .string(message),
            "labels": .object(labels.mapValues { .string($0) }),
            "metrics": metrics.json, "params": params,
            "artifacts": .array(artifacts.map(\.json)),
            "metrics_file": .string(metricsFile.description),
            "lineage": .object(lineageJSON),
        ]
        if let paramsFile { o["params_file"] = .string(paramsFile.description) }
        if let evaluation { o["evaluation"] = evaluation.json }
        if let referenceProfile { o["reference_profile"] = .string(referenceProfile.description) }
        return .object(o)
    }

    /// Reads a record, checking every field; `source` names it in errors (exit 1: corruption).
    public init(json: JSON, source: String) throws {
        func fail(_ what: String) -> MregError { MregError.corrupt("\(source): \(what)") }
        guard json["type"]?.string == Self.type else { throw fail("not a version record") }
        guard json["format"]?.int == 1 else { throw fail("unsupported record format") }
        guard let m = json["model"]?.string, let model = try? ModelName(m) else { throw fail("bad model name") }
        guard let v = json["version"]?.int, v >= 1 else { throw fail("bad version number") }
        self.model = model
        self.version = v
        self.created = json["created"]?.string ?? ""
        self.author = json["author"]?.string ?? ""
        self.message = json["message"]?.string ?? ""
        var labels: [String: String] = [:]
        for (k, val) in json["labels"]?.object ?? [:] {
            guard let s = val.string else { throw fail("label \(k) is not a string") }
            labels[k] = s
        }
        self.labels = labels
        guard let metricsJSON = json["metrics"] else { throw fail("metrics missing") }
        do { self.metrics = try MetricSet(json: metricsJSON, source: source) } catch let e as MregError {
            throw MregError.corrupt(e.message)
        }
        self.params = json["params"] ?? .object([:])
        guard let arts = json["artifacts"]?.array else { throw fail("artifacts missing") }
        var artifacts: [Artifact] = []
        for a in arts {
            guard let path = a["path"]?.string, ArtifactPath.isSafe(path) else {
                throw fail("artifact path \(ModelName.show(a["path"]?.string ?? "?")) is not a safe relative path")
            }
            guard let idText = a["object"]?.string, let id = ObjectID(idText) else { throw fail("artifact \(path): bad object id") }
            guard let size = a["size"]?.int, size >= 0 else { throw fail("artifact \(path): bad size") }
            artifacts.append(Artifact(path: path, object: id, size: UInt64(size), executable: a["executable"]?.bool ?? false))
        }
        self.artifacts = artifacts
        guard let mf = json["metrics_file"]?.string, let mfid = ObjectID(mf) else { throw fail("metrics_file missing") }
        self.metricsFile = mfid
        if let pf = json["params_file"]?.string {
            guard let id = ObjectID(pf) else { throw fail("bad params_file") }
            self.paramsFile = id
        }
        let lin = json["lineage"]
        self.lineage = Lineage(data: (lin?["data"]?.array ?? []).compactMap(\.string), codeRevision: lin?["code_revision"]?.string)
        if let e = json["evaluation"] { self.evaluation = try Evaluation(json: e, source: source) }
        if let r = json["reference_profile"] {
            guard let text = r.string, let id = ObjectID(text) else { throw fail("bad reference_profile") }
            self.referenceProfile = id
        }
    }

    init(model: ModelName, version: Int, created: String, author: String, message: String, labels: [String: String],
         metrics: MetricSet, params: JSON, artifacts: [Artifact], metricsFile: ObjectID, paramsFile: ObjectID?, lineage: Lineage,
         evaluation: Evaluation? = nil) {
        self.model = model
        self.version = version
        self.created = created
        self.author = author
        self.message = message
        self.labels = labels
        self.metrics = metrics
        self.params = params
        self.artifacts = artifacts
        self.metricsFile = metricsFile
        self.paramsFile = paramsFile
        self.lineage = lineage
        self.evaluation = evaluation
    }

    /// Every object this record references.
    var referencedObjects: [ObjectID] {
        artifacts.map(\.object) + [metricsFile] + (paramsFile.map { [$0] } ?? [])
            + (evaluation.map { [$0.predictions] } ?? [])
            + (referenceProfile.map { [$0] } ?? [])
    }
}

/// Rules for artifact paths inside a version: relative, `/`-separated, no empty, `.` or `..`
/// components, no NUL or control characters, at most 4,096 bytes.
enum ArtifactPath {
    static func isSafe(_ path: String) -> Bool {
        guard !path.isEmpty, path.utf8.count <= 4096, !path.hasPrefix("/") else { return false }
        for c in path.split(separator: "/", omittingEmptySubsequences: false) {
            if c.isEmpty || c == "." || c == ".." || c.utf8.count > 255 { return false }
        }
        return path.unicodeScalars.allSatisfy { $0.value >= 32 && $0.value != 127 && $0 != "\\" }
    }

    /// The first two paths of a version that cannot both exist in one tree: the same path twice,
    /// or a file that is also a directory of another (`sub` and `sub/x`). Nil when none.
    static func conflict(in paths: [String]) -> (String, String)? {
        var files: [String: String] = [:]
        var directories: [String: String] = [:]  // directory → a path under it
        for p in paths {
            if files[p] != nil { return (p, p) }
            if let under = directories[p] { return (p, under) }
            files[p] = p
            var dir = Substring(p)
            while let slash = dir.lastIndex(of: "/") {
                dir = dir[..<slash]
                if let file = files[String(dir)] { return (file, p) }
                if directories[String(dir)] != nil { break }
                directories[String(dir)] = p
            }
        }
        return nil
    }
}
