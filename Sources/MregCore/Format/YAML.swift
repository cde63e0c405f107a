import Yams

/// The one way mreg reads YAML (metric manifests, params, gate policies).
///
/// The file is read as libyaml's event stream and composed here, not by Yams, so that:
/// - anchors and aliases are refused at the first `&a` or `*a`, before anything is expanded (a
///   400-byte alias bomb never grows);
/// - plain scalars follow the YAML 1.2 core schema as docs/format.md says (`012` is 12; `1:20`,
///   `0b101` and `1_000` are text, not numbers), not YAML 1.1;
/// - every error is one line naming the input, the line and the column, in mreg's words.
enum YAML {
    /// Nesting deeper than this is refused while reading, before libyaml's own limit words it.
    static let depthLimit = 100

    /// Reads YAML into `JSON` with YAML 1.2 core-schema scalars.
    /// - Parameter source: what to call the input in errors (`metrics file m.yaml`).
    static func parse(_ text: String, source: String) throws -> JSON {
        try parse(Array(text.utf8), source: source)
    }

    static func parse(_ bytes: [UInt8], source: String) throws -> JSON {
        var composer = Composer(source: source)
        do {
            try EventReader.read(bytes, source: source) { try composer.take($0) }
        } catch let e as EventReader.SyntaxError {
            throw MregError.invalid("\(source): not valid YAML: \(e.position): \(e.problem)")
        }
        return composer.root ?? .null
    }

    /// A Yams node tree for readers that need node positions (gate policies). The text is read
    /// first as events, so the same refusals (anchors, aliases, tags, depth, several documents)
    /// and the same error wording apply before Yams composes anything.
    static func compose(_ text: String, source: String) throws -> Node? {
        do {
            try EventReader.read(Array(text.utf8), source: source) { _ in }
        } catch let e as EventReader.SyntaxError {
            // Policies put the position first, as their other errors do.
            throw MregError.invalid("\(source): \(e.position): not valid YAML: \(e.problem)")
        }
        return try Yams.compose(yaml: text)
    }

    /// Words for a Yams error (kept for callers that catch Yams errors themselves).
    static func describe(_ e: YamlError) -> String {
        switch e {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return "line \(mark.line), column \(mark.column): \(EventReader.words(problem))"
        case let .duplicatedKeysInMapping(duplicates, _):
            return "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", "))"
        case let .reader(problem, _, _, _):
            return EventReader.words(problem)
        default:
            return "\(e)".split(separator: "\n").first.map(String.init) ?? "parse error"
        }
    }

    /// The value of a plain scalar under the YAML 1.2 core schema: null, a boolean, a number
    /// (decimal, `0o` octal, `0x` hex, floats, `.inf`, `.nan`) or, for anything else, text.
    static func resolvePlain(_ s: String) -> JSON {
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .number(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .number(-.infinity)
        case ".nan", ".NaN", ".NAN": return .number(.nan)
        default: break
        }
        if let n = coreRadixInt(s) { return .number(n) }
        if let f = coreFloat(s) { return .number(f) }
        return .string(s)
    }

    /// `0o[0-7]+` and `0x[0-9a-fA-F]+` (the core schema gives them no sign).
    static func coreRadixInt(_ s: String) -> Double? {
        let b = Array(s.utf8)
        guard b.count > 2, b[0] == UInt8(ascii: "0") else { return nil }
        let radix: Double
        switch b[1] {
        case UInt8(ascii: "o"): radix = 8
        case UInt8(ascii: "x"): radix = 16
        default: return nil
        }
        var v = 0.0
        for c in b[2...] {
            let d: Int
            switch c {
            case 48...57: d = Int(c) - 48
            case 97...102: d = Int(c) - 87
            case 65...70: d = Int(c) - 55
            default: return nil
            }
            guard Double(d) < radix else { return nil }
            v = v * radix + Double(d)
        }
        return v
    }

    /// The value of a YAML 1.2 core-schema float, `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    /// (the finite forms, which include the decimal integers `[-+]?[0-9]+`), or nil when `text`
    /// is not one.
    static func coreFloat(_ text: String) -> Double? {
        let b = Array(text.utf8)
        var i = 0
        func digits() -> Int {
            let start = i
            while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { i += 1 }
            return i - start
        }
        if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") { i += 1 }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return nil }
        } else {
            guard digits() > 0 else { return nil }
            if i < b.count, b[i] == UInt8(ascii: ".") { i += 1; _ = digits() }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") { i += 1 }
            guard digits() > 0 else { return nil }
        }
        guard i == b.count else { return nil }
        return Double(text)
    }

    /// Builds `JSON` from the events, with the core schema and strict keys.
    struct Composer {
        let source: String
        var root: JSON?
        private var stack: [Frame] = []

        init(source: String) { self.source = source }

        private enum Frame {
            case sequence([JSON])
            case mapping([String: JSON], key: String?)
        }

        mutating func take(_ e: EventReader.Event) throws {
            switch e.kind {
            case .scalar(let text, let plain, let tag):
                if case .mapping(_, .none)? = stack.last {
                    // Taken off the stack to be changed: a copy left there would make every
                    // insertion copy the whole mapping.
                    guard case .mapping(let m, _) = stack.removeLast() else { return }
                    if m[text] != nil { throw e.error(source, "duplicate key \(ModelName.show(text)) (each key may appear once)") }
                    stack.append(.mapping(m, key: text))
                    return
                }
                try add(scalar(text, plain: plain, tag: tag, e))
            case .sequenceStart:
                try keyAllowed(e)
                stack.append(.sequence([]))
            case .mappingStart:
                try keyAllowed(e)
                stack.append(.mapping([:], key: nil))
            case .end:
                switch stack.removeLast() {
                case .sequence(let a): try add(.array(a))
                case .mapping(let m, _): try add(.object(m))
                }
            }
        }

        private func keyAllowed(_ e: EventReader.Event) throws {
            if case .mapping(_, .none)? = stack.last { throw e.error(source, "keys must be plain text, not a list or a mapping") }
        }

        private mutating func add(_ v: JSON) throws {
            guard let top = stack.popLast() else {
                root = v
                return
            }
            switch consume top {
            case .sequence(var a):
                a.append(v)
                stack.append(.sequence(a))
            case .mapping(var m, let key?):
                m[key] = v
                stack.append(.mapping(m, key: nil))
            case .mapping(let m, .none):
                stack.append(.mapping(m, key: nil))  // keys are taken in `take`
            }
        }

        private func scalar(_ text: String, plain: Bool, tag: String?, _ e: EventReader.Event) throws -> JSON {
            switch tag {
            case nil: return plain ? resolvePlain(text) : .string(text)
            case "!", "tag:yaml.org,2002:str": return .string(text)
            case "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float":
                let v = resolvePlain(text)
                let want = String(tag!.dropFirst("tag:yaml.org,2002:".count))
                let ok: Bool
                switch (want, v) {
                case ("null", .null), ("bool", .bool), ("float", .number): ok = true
                case ("int", .number(let n)): ok = n.rounded() == n
                default: ok = false
                }
                if !ok { throw e.error(source, "\(ModelName.show(text)) is not a YAML 1.2 \(want)") }
                return v
            default:
                throw e.error(source, "tag \(ModelName.show(tag!)) is not supported")
            }
        }
    }
}
