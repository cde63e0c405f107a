/// An error that a user can act on: one line naming the file, field or path and the reason.
///
/// `kind` decides the exit code of the command line (see docs/exit-codes in docs/cli.md).
public struct MregError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Int32, Sendable {
        /// I/O failure, corruption, lock timeout. Exit 1.
        case operational = 1
        /// Usage, malformed file, unknown model or version, unsafe path. Exit 2.
        case invalidInput = 2
        /// A promotion blocked by its gates. Exit 3.
        case blocked = 3
        /// Lost a race to a concurrent update; nothing changed. Exit 4.
        case conflict = 4
        /// `--verify` refused what the registry offers (unsigned, untrusted, expired, replayed). Exit 6.
        case refused = 6
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var exitCode: Int32 { kind.rawValue }
    public var description: String { message }

    /// The one-line error for any error the core throws, or nil for errors it does not know.
    public static func wrap(_ error: Error) -> MregError? {
        if let e = error as? MregError { return e }
        if let f = error as? Sys.Failure { return f.mregError }
        return nil
    }

    static func invalid(_ message: String) -> MregError { MregError(.invalidInput, message) }
    static func io(_ message: String) -> MregError { MregError(.operational, message) }
    static func conflict(_ message: String) -> MregError { MregError(.conflict, message) }
    static func corrupt(_ message: String) -> MregError { MregError(.operational, message) }
}
