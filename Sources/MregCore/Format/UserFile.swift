/// Reads a user's JSON or YAML file: `.json` is parsed as strict JSON, `.yaml`/`.yml` as YAML, and
/// anything else as JSON when it starts with `{` or `[`, YAML otherwise.
enum UserFile {
    /// The largest file a user may give as metrics, params or a policy.
    static let sizeLimit = 16 << 20

    static func read(_ path: String, what: String) throws -> JSON {
        try parse(bytes(path, what: what), path: path, what: what)
    }

    /// The bytes of a file a user named, with errors that name it and say why (exit 2).
    static func bytes(_ path: String, what: String) throws -> [UInt8] {
        do { return try Sys.readFile(path, limit: sizeLimit, pipes: true) } catch let f as Sys.Failure {
            switch f.errno {
            case Sys.Failure.notRegularFile: throw MregError.invalid("\(what) \(path): not a regular file or a pipe")
            case ENOENT_: throw MregError.invalid("\(what) \(path): no such file")
            case EACCES_: throw MregError.invalid("\(what) \(path): cannot read: permission denied")
            case EISDIR_: throw MregError.invalid("\(what) \(path): is a directory, not a file")
            default: throw f.mregError
            }
        } catch let e as MregError where e.kind == .invalidInput {
            // The only invalid-input refusal of readFile is its size limit.
            throw MregError.invalid("\(what) \(path): larger than 16 MiB, the limit for a \(what) (docs/cli.md, Limits)")
        }
    }

    static func parse(_ bytes: [UInt8], path: String, what: String) throws -> JSON {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw MregError.invalid("\(what) \(path): not UTF-8 text")
        }
        if text.allSatisfy({ $0.isWhitespace }) { throw MregError.invalid("\(what) \(path): the file is empty") }
        let lower = path.lowercased()
        let hasBOM = bytes.starts(with: [0xEF, 0xBB, 0xBF])
        let first = text.unicodeScalars.first(where: { !$0.properties.isWhitespace && $0 != "\u{FEFF}" })
        let isJSON = lower.hasSuffix(".json") || (!lower.hasSuffix(".yaml") && !lower.hasSuffix(".yml") && (first == "{" || first == "["))
        if isJSON {
            if hasBOM {
                throw MregError.invalid("\(what) \(path): starts with a byte-order mark (U+FEFF), which JSON does not allow; save it as UTF-8 without a BOM")
            }
            do { return try JSON.parse(bytes) } catch let e as JSON.ParseError {
                throw MregError.invalid("\(what) \(path): not valid JSON: \(e)")
            }
        }
        // YAML 1.2 allows a byte-order mark at the start of a stream; libyaml skips it.
        return try YAML.parse(bytes, source: "\(what) \(path)")
    }
}

#if canImport(Glibc)
import Glibc
private let ENOENT_ = ENOENT
private let EACCES_ = EACCES
private let EISDIR_ = EISDIR
#endif
