import Yams

/// Reads YAML into `JSON` with YAML 1.2 core-schema scalars, so manifests and policies have one
/// shape whichever syntax a user wrote them in.
enum YAML {
    /// - Parameter source: the file name, for errors.
    static func parse(_ text: String, source: String) throws -> JSON {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw MregError.invalid("\(source): not valid YAML: \(Self.describe(e))")
        } catch {
            throw MregError.invalid("\(source): not valid YAML: \(error)")
        }
        guard let node else { return .null }
        return try convert(node, source: source, depth: 0)
    }

    static func describe(_ e: YamlError) -> String {
        switch e {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return "line \(mark.line), column \(mark.column): \(problem)"
        case let .duplicatedKeysInMapping(duplicates, _):
            return "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", "))"
        case let .reader(problem, _, _, _):
            return problem
        default:
            return "\(e)".split(separator: "\n").first.map(String.init) ?? "parse error"
        }
    }

    static func location(_ node: Node) -> String {
        guard let m = node.mark else { return "" }
        return "line \(m.line), column \(m.column): "
    }

    /// The value of a YAML 1.2 core-schema float, `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    /// (the finite forms), or nil when `text` is not one.
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

    private static func convert(_ node: Node, source: String, depth: Int) throws -> JSON {
        guard depth < 100 else { throw MregError.invalid("\(source): \(location(node))nested too deeply") }
        switch node {
        case .scalar(let s):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case Tag.Name.null: return .null
            case Tag.Name.bool: return .bool(node.bool ?? false)
            case Tag.Name.int:
                if let i = node.int { return .number(Double(i)) }
                if let f = node.float { return .number(f) }
                return .string(s.string)
            case Tag.Name.float:
                guard let f = node.float ?? coreFloat(s.string) else { return .string(s.string) }
                return .number(f)  // NaN and infinities are refused by the caller, which names the key.
            case Tag.Name.str where s.style == .plain:
                // The core schema reads some plain floats (`-.5`) that Yams leaves as strings.
                if let f = coreFloat(s.string) { return .number(f) }
                return .string(s.string)
            default:
                return .string(s.string)
            }
        case .mapping(let m):
            var out: [String: JSON] = [:]
            for (k, v) in m {
                guard case .scalar(let ks) = k else {
                    throw MregError.invalid("\(source): \(location(k))keys must be plain strings")
                }
                if out[ks.string] != nil {
                    throw MregError.invalid("\(source): \(location(k))duplicate key \"\(ks.string)\"")
                }
                out[ks.string] = try convert(v, source: source, depth: depth + 1)
            }
            return .object(out)
        case .sequence(let seq):
            return .array(try seq.map { try convert($0, source: source, depth: depth + 1) })
        case .alias:
            throw MregError.invalid("\(source): \(location(node))aliases are not supported")
        }
    }
}

/// Reads a user's JSON or YAML file: `.json` is parsed as strict JSON, `.yaml`/`.yml` as YAML, and
/// anything else as JSON when it starts with `{` or `[`, YAML otherwise.
enum UserFile {
    static func read(_ path: String, what: String) throws -> JSON {
        try parse(bytes(path, what: what), path: path, what: what)
    }

    /// The bytes of a file a user named, with errors that name it and say why (exit 2).
    static func bytes(_ path: String, what: String) throws -> [UInt8] {
        do { return try Sys.readFile(path, limit: 16 << 20, pipes: true) } catch let f as Sys.Failure {
            switch f.errno {
            case Sys.Failure.notRegularFile: throw MregError.invalid("\(what) \(path): not a regular file or a pipe")
            case ENOENT_: throw MregError.invalid("\(what) \(path): no such file")
            case EACCES_: throw MregError.invalid("\(what) \(path): cannot read: permission denied")
            case EISDIR_: throw MregError.invalid("\(what) \(path): is a directory, not a file")
            default: throw f.mregError
            }
        }
    }

    static func parse(_ bytes: [UInt8], path: String, what: String) throws -> JSON {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw MregError.invalid("\(what) \(path): not UTF-8 text")
        }
        if text.allSatisfy({ $0.isWhitespace }) { throw MregError.invalid("\(what) \(path): the file is empty") }
        let lower = path.lowercased()
        let first = text.first(where: { !$0.isWhitespace })
        let isJSON = lower.hasSuffix(".json") || (!lower.hasSuffix(".yaml") && !lower.hasSuffix(".yml") && (first == "{" || first == "["))
        if isJSON {
            do { return try JSON.parse(bytes) } catch let e as JSON.ParseError {
                throw MregError.invalid("\(what) \(path): not valid JSON: \(e)")
            }
        }
        return try YAML.parse(text, source: "\(what) \(path)")
    }
}

#if canImport(Glibc)
import Glibc
private let ENOENT_ = ENOENT
private let EACCES_ = EACCES
private let EISDIR_ = EISDIR
#endif
