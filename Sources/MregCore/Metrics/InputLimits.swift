/// The documented limits on what a user gives `register` and `baseline` (docs/cli.md, Limits).
///
/// Each is far above what a real model needs and low enough that `check`, `show` and `diff` stay
/// fast and their output readable: 900,000 metrics once made `check` take 102 s and print 144 MB.
public enum InputLimits {
    /// Metrics in one manifest (after flattening).
    public static let metrics = 10_000
    /// Parameters in one params file (after flattening).
    public static let params = 10_000
    /// Bytes of one flattened parameter name.
    public static let paramKeyBytes = 1024
    /// `--label` options on one version.
    public static let labels = 100
    /// Bytes of one label value.
    public static let labelValueBytes = 1024
    /// `--data` options on one version.
    public static let dataItems = 100
}

/// Checks on parameters beyond what a version record can hold (`Registry.checkParams`).
enum ParamsLimits {
    /// Refuses parameters whose flattened names collide (`{"a.b": 1, "a": {"b": 2}}`: both are
    /// `a.b`, and `diff` would show one of them), names that are not one line, and more than
    /// `InputLimits.params` parameters. Flattening is the one `diff` uses: objects are opened,
    /// lists and empty objects are values.
    static func check(_ json: JSON, path: String) throws {
        var seen: [String: String] = [:]
        try walk(json, name: "", spelled: "", path: path, seen: &seen)
    }

    private static func walk(_ value: JSON, name: String, spelled: String, path: String, seen: inout [String: String]) throws {
        guard case .object(let o) = value, !o.isEmpty || name.isEmpty else {
            if let other = seen[name] {
                throw MregError.invalid("params file \(path): parameter \(ModelName.show(name)) is given twice (as \(other) and as \(spelled)); flattened names must be unique")
            }
            if seen.count >= InputLimits.params {
                throw MregError.invalid("params file \(path): more than \(InputLimits.params) parameters (the limit, counted after flattening)")
            }
            seen[name] = spelled
            return
        }
        for k in o.keys.sorted() {
            try TextRules.checkOneLine(k, what: "params file \(path): the key \(ModelName.show(String(k.prefix(40))))", limit: InputLimits.paramKeyBytes)
            let full = name.isEmpty ? k : name + "." + k
            if full.utf8.count > InputLimits.paramKeyBytes {
                throw MregError.invalid("params file \(path): parameter name \(ModelName.show(String(full.prefix(40)))) is longer than \(InputLimits.paramKeyBytes) bytes")
            }
            let shown = ModelName.show(k)
            try walk(o[k]!, name: full, spelled: spelled.isEmpty ? shown : spelled + " → " + shown, path: path, seen: &seen)
        }
    }
}
