import CYaml

/// libyaml's parser as a stream of the events mreg accepts.
///
/// Everything YAML allows but mreg refuses is refused here, at the event that shows it, with the
/// input's name, line and column: anchors and aliases (before any expansion), tags other than the
/// core ones, nesting deeper than `YAML.depthLimit`, and a second document.
enum EventReader {
    struct Event {
        enum Kind {
            /// `plain`: written without quotes or block indicators, so the core schema resolves it.
            case scalar(String, plain: Bool, tag: String?)
            case sequenceStart
            case mappingStart
            /// The end of the innermost sequence or mapping.
            case end
        }

        var kind: Kind
        /// From 1.
        var line: Int
        /// From 1, in Unicode scalars.
        var column: Int

        func error(_ source: String, _ reason: String) -> MregError {
            MregError.invalid("\(source): line \(line), column \(column): \(reason)")
        }
    }

    /// libyaml's refusal of the text: where, and what in mreg's words.
    struct SyntaxError: Error {
        /// "line 2, column 1" or "byte 17" (for encoding errors, found before lines are counted).
        var position: String
        var problem: String
    }

    /// Reads `bytes` (UTF-8) and hands each accepted event to `take`, in order.
    ///
    /// - Throws: `MregError` for what mreg refuses, `SyntaxError` for what is not YAML.
    static func read(_ bytes: [UInt8], source: String, _ take: (Event) throws -> Void) throws {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw MregError.invalid("\(source): out of memory reading YAML") }
        defer { yaml_parser_delete(&parser) }
        // libyaml reads from the buffer for the whole loop: keep one pointer valid throughout.
        let input = bytes.isEmpty ? [10] : bytes
        try input.withUnsafeBufferPointer { buffer in
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var depth = 0
            var documents = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { throw failure(parser) }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                let column = Int(event.start_mark.column) + 1
                func refuse(_ reason: String) -> MregError {
                    Event(kind: .end, line: line, column: column).error(source, reason)
                }
                func checkAnchor(_ anchor: UnsafeMutablePointer<yaml_char_t>?) throws {
                    guard let anchor else { return }
                    throw refuse("anchors and aliases are not supported (found the anchor &\(text(anchor)); write the value out)")
                }
                func tagText(_ tag: UnsafeMutablePointer<yaml_char_t>?) throws -> String? {
                    guard let tag else { return nil }
                    let t = text(tag)
                    if t == "!" || ["str", "null", "bool", "int", "float", "seq", "map"].contains(where: { t == "tag:yaml.org,2002:" + $0 }) { return t }
                    throw refuse("tag \(ModelName.show(t)) is not supported (only the YAML 1.2 core tags are)")
                }
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return
                case YAML_DOCUMENT_START_EVENT:
                    documents += 1
                    if documents > 1 { throw refuse("not valid YAML: a second document starts here; give one document per file") }
                case YAML_ALIAS_EVENT:
                    throw refuse("anchors and aliases are not supported (found the alias *\(text(event.data.alias.anchor)); write the value out)")
                case YAML_SCALAR_EVENT:
                    let s = event.data.scalar
                    try checkAnchor(s.anchor)
                    let tag = try tagText(s.tag)
                    if let tag, !["!", "tag:yaml.org,2002:str", "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool",
                                  "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"].contains(tag) {
                        throw refuse("tag \(ModelName.show(tag)) does not apply to a scalar")
                    }
                    let value = s.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: s.length), as: UTF8.self) } ?? ""
                    try take(Event(kind: .scalar(value, plain: s.style == YAML_PLAIN_SCALAR_STYLE && tag == nil, tag: tag),
                                   line: line, column: column))
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let isSequence = event.type == YAML_SEQUENCE_START_EVENT
                    try checkAnchor(isSequence ? event.data.sequence_start.anchor : event.data.mapping_start.anchor)
                    let tag = try tagText(isSequence ? event.data.sequence_start.tag : event.data.mapping_start.tag)
                    if let tag, tag != "!", tag != (isSequence ? "tag:yaml.org,2002:seq" : "tag:yaml.org,2002:map") {
                        throw refuse("tag \(ModelName.show(tag)) does not apply to a \(isSequence ? "list" : "mapping")")
                    }
                    depth += 1
                    if depth > YAML.depthLimit { throw refuse("nested more than \(YAML.depthLimit) levels deep") }
                    try take(Event(kind: isSequence ? .sequenceStart : .mappingStart, line: line, column: column))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    depth -= 1
                    try take(Event(kind: .end, line: line, column: column))
                default:
                    break  // stream start, document end
                }
            }
        }
    }

    private static func text(_ p: UnsafeMutablePointer<yaml_char_t>) -> String {
        String(cString: UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self))
    }

    /// A libyaml error: where, and what, in mreg's words.
    static func failure(_ parser: yaml_parser_t) -> SyntaxError {
        let problem = parser.problem.map { String(cString: $0) } ?? "parse error"
        switch parser.error {
        case YAML_MEMORY_ERROR:
            return SyntaxError(position: "byte \(parser.problem_offset)", problem: "too large to read")
        case YAML_READER_ERROR:
            return SyntaxError(position: "byte \(parser.problem_offset)", problem: words(problem))
        default:
            let m = parser.problem_mark
            return SyntaxError(position: "line \(m.line + 1), column \(m.column + 1)", problem: words(problem))
        }
    }

    /// libyaml's wording where it speaks of its own API or internals, in a user's terms.
    static func words(_ problem: String) -> String {
        if problem.contains("yaml_set_max_nest_level") || problem.lowercased().contains("maximum nesting level") {
            return "nested too deeply"
        }
        if problem.contains("control characters are not allowed") { return "control characters are not allowed in YAML text" }
        if problem.hasPrefix("found character that cannot start any token") { return "found a character that cannot start any token (a tab used for indentation?)" }
        return problem
    }
}
