/// The champion of a stage, as kept in a model's state.
public struct Champion: Equatable, Sendable {
    public var version: Int
    public var record: ObjectID

    var json: JSON { .object(["version": .number(Double(version)), "record": .string(record.description)]) }

    init(version: Int, record: ObjectID) {
        self.version = version
        self.record = record
    }

    init?(json: JSON?) {
        guard let v = json?["version"]?.int, let r = json?["record"]?.string, let id = ObjectID(r) else { return nil }
        self.init(version: v, record: id)
    }
}

/// A model's mutable state after a history entry: everything a ref would otherwise hold.
public struct ModelState: Equatable, Sendable {
    /// Versions registered so far (the latest is `NAME@versions`).
    public var versions: Int = 0
    /// The gate policy object in force, if any.
    public var policy: ObjectID?
    /// Baseline name → metric set object.
    public var baselines: [String: ObjectID] = [:]
    /// Stage → champion.
    public var champions: [String: Champion] = [:]
    /// Stage → the newest entry *before this one* that changed that stage's champion. With the
    /// entry's own `stage`, this lets `NAME@STAGE~K` and `rollback` walk champion changes only.
    public var priorChanges: [String: ObjectID] = [:]
    /// The alert policy object in force (Monitoring/), if any; absent from older states.
    public var alertPolicy: ObjectID?

    var json: JSON {
        var o: [String: JSON] = [
            "versions": .number(Double(versions)),
            "baselines": .object(baselines.mapValues { .string($0.description) }),
            "champions": .object(champions.mapValues(\.json)),
            "prior_changes": .object(priorChanges.mapValues { .string($0.description) }),
        ]
        o["policy"] = policy.map { .string($0.description) } ?? .null
        if let alertPolicy { o["alert_policy"] = .string(alertPolicy.description) }
        return .object(o)
    }

    init() {}

    init(json: JSON, source: String) throws {
        func fail(_ w: String) -> MregError { MregError.corrupt("\(source): state: \(w)") }
        guard let v = json["versions"]?.int, v >= 0 else { throw fail("bad versions") }
        versions = v
        if let p = json["policy"], !p.isNull {
            guard let s = p.string, let id = ObjectID(s) else { throw fail("bad policy id") }
            policy = id
        }
        for (k, val) in json["baselines"]?.object ?? [:] {
            guard let s = val.string, let id = ObjectID(s) else { throw fail("bad baseline \(k)") }
            baselines[k] = id
        }
        for (k, val) in json["champions"]?.object ?? [:] {
            guard let c = Champion(json: val) else { throw fail("bad champion of \(k)") }
            champions[k] = c
        }
        for (k, val) in json["prior_changes"]?.object ?? [:] {
            guard let s = val.string, let id = ObjectID(s) else { throw fail("bad prior change of \(k)") }
            priorChanges[k] = id
        }
        if let p = json["alert_policy"] {
            guard let s = p.string, let id = ObjectID(s) else { throw fail("bad alert policy id") }
            alertPolicy = id
        }
    }
}

/// One entry of a model's append-only, hash-chained history.
///
/// Each entry is an object naming the entry before it (`prev`) and carrying a growing sequence
/// number and the model's state after the event. The model's `HEAD` ref names the newest entry.
public struct HistoryEntry: Equatable, Sendable {
    public enum Event: String, Sendable, CaseIterable {
        case registered
        case policy
        case baseline
        case promoted
        case blocked
        case overridden
        case rolledBack = "rolled_back"
        /// A co-signature of the current champion of a stage (see Signing/); changes no state.
        case signed
        /// `mreg alerts NAME --set FILE` (Monitoring/).
        case alertPolicy = "alert_policy"
        /// `mreg monitor NAME` recorded a new alert state (Monitoring/); changes no state.
        case monitored

        /// Events that change a stage's champion.
        public var changesChampion: Bool { self == .promoted || self == .overridden || self == .rolledBack }
    }

    public var model: ModelName
    public var seq: Int
    public var prev: ObjectID?
    public var time: String
    public var user: String
    public var host: String
    public var event: Event
    /// Event details: version, record, stage, reason, report, policy, baseline, replaced.
    public var details: [String: JSON]
    public var state: ModelState

    public static let type = "mreg.entry"

    public var stage: String? { details["stage"]?.string }
    public var version: Int? { details["version"]?.int }
    public var record: ObjectID? { details["record"]?.string.flatMap(ObjectID.init) }

    public var json: JSON {
        .object([
            "type": .string(Self.type), "format": .number(1),
            "model": .string(model.value), "seq": .number(Double(seq)),
            "prev": prev.map { .string($0.description) } ?? .null,
            "time": .string(time), "user": .string(user), "host": .string(host),
            "event": .string(event.rawValue), "details": .object(details), "state": state.json,
        ])
    }

    public init(json: JSON, source: String) throws {
        func fail(_ w: String) -> MregError { MregError.corrupt("\(source): \(w)") }
        guard json["type"]?.string == Self.type else { throw fail("not a history entry") }
        guard json["format"]?.int == 1 else { throw fail("unsupported entry format") }
        guard let m = json["model"]?.string, let model = try? ModelName(m) else { throw fail("bad model name") }
        guard let seq = json["seq"]?.int, seq >= 1 else { throw fail("bad sequence number") }
        self.model = model
        self.seq = seq
        if let p = json["prev"], !p.isNull {
            guard let s = p.string, let id = ObjectID(s) else { throw fail("bad prev id") }
            prev = id
        }
        guard let ev = json["event"]?.string, let event = Event(rawValue: ev) else { throw fail("unknown event") }
        self.event = event
        time = json["time"]?.string ?? ""
        user = json["user"]?.string ?? ""
        host = json["host"]?.string ?? ""
        details = json["details"]?.object ?? [:]
        guard let st = json["state"] else { throw fail("state missing") }
        state = try ModelState(json: st, source: source)
    }

    init(model: ModelName, seq: Int, prev: ObjectID?, event: Event, details: [String: JSON], state: ModelState) {
        self.model = model
        self.seq = seq
        self.prev = prev
        self.time = Clock.nowISO()
        self.user = TextRules.fromEnvironment(Sys.userName())
        self.host = TextRules.fromEnvironment(Sys.environment("MREG_HOST").flatMap { $0.isEmpty ? nil : $0 } ?? Sys.hostname())
        self.event = event
        self.details = details
        self.state = state
    }

    /// Every object this entry references directly (not through the chain).
    var referencedObjects: [ObjectID] {
        var ids: [ObjectID] = []
        if let prev { ids.append(prev) }
        if let p = state.policy { ids.append(p) }
        if let p = state.alertPolicy { ids.append(p) }
        ids += state.baselines.values
        ids += state.champions.values.map(\.record)
        ids += state.priorChanges.values
        for key in ["record", "policy", "baseline_object", "replaced_record", "alert_policy"] {
            if let s = details[key]?.string, let id = ObjectID(s) { ids.append(id) }
        }
        ids += Registry.signatureIDs(self)  // signature objects (Signing/): gc keeps them, fsck checks them
        return ids
    }
}
