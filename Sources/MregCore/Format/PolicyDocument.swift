import Yams

/// What the YAML policy parsers (the gate policy's `PolicyParser`, the alert policy's
/// `AlertPolicyParser`) share: the document composed with its errors mapped to line and column,
/// one-line errors naming the source, what a node is for "…, not X", and where a one-line text
/// starts on its line.
protocol PolicyDocument {
    var text: String { get }
    var source: String { get }
    /// The file's lines as Unicode scalars (`PolicyDocumentLines.of(text)`).
    var lines: [[Unicode.Scalar]] { get }
}

enum PolicyDocumentLines {
    static func of(_ text: String) -> [[Unicode.Scalar]] {
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map(Array.init)
    }
}

extension PolicyDocument {
    func fail(_ mark: Mark?, _ reason: String) -> MregError {
        guard let m = mark else { return MregError(.invalidInput, "\(source): \(reason)") }
        return MregError(.invalidInput, "\(source): line \(m.line), column \(m.column): \(reason)")
    }

    func fail(_ node: Node?, _ reason: String) -> MregError { fail(node?.mark, reason) }

    /// The document's root node (nil for an empty file); YAML errors with their line and column.
    func composeRoot() throws -> Node? {
        do {
            return try YAML.compose(text, source: source)
        } catch let e as MregError {
            throw e
        } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
            throw fail(context.mark, "duplicate key \(duplicates.map { ModelName.show($0) }.joined(separator: ", ")) (each key may appear once)")
        } catch let YamlError.scanner(_, problem, mark, _), let YamlError.parser(_, problem, mark, _),
                let YamlError.composer(_, problem, mark, _) {
            throw fail(mark, "not valid YAML: \(problem)")
        } catch let e as YamlError {
            throw MregError(.invalidInput, "\(source): not valid YAML: \(YAML.describe(e))")
        } catch {
            throw MregError(.invalidInput, "\(source): not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
    }

    /// "a list", "a mapping", "the text \"x\"": what a node is, for "…, not X".
    func kind(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s): return isNull(node) ? "empty" : "the text \(ModelName.show(s.string))"
        case .alias: return "an alias"
        }
    }

    func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node else { return false }
        return s.string.isEmpty || node.tag.rawValue == Tag.Name.null.rawValue
    }

    /// The column where a one-line text starts, when the file shows it verbatim on the scalar's
    /// line (a plain or quoted scalar); nil when it does not (block or folded scalars, escapes),
    /// and errors then point at the scalar.
    func textColumn(line lineNumber: Int, column: Int, _ style: Node.Scalar.Style, _ trimmed: String) -> Int? {
        guard lineNumber >= 1, lineNumber <= lines.count, column >= 1, !trimmed.isEmpty else { return nil }
        let line = lines[lineNumber - 1]
        var at = column - 1
        switch style {
        case .plain: break
        case .singleQuoted, .doubleQuoted: at += 1
        default: return nil
        }
        while at < line.count, line[at] == " " || line[at] == "\t" { at += 1 }
        let want = Array(trimmed.unicodeScalars)
        guard at + want.count <= line.count, Array(line[at..<(at + want.count)]) == want else { return nil }
        return at + 1
    }
}
