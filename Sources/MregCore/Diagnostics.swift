/// Warnings the core raises while it goes on (a stale lock removed, for instance). The command
/// line prints them on stderr; a library user may collect them.
public enum Diagnostics {
    nonisolated(unsafe) public static var handler: (String) -> Void = { _ in }

    static func warn(_ message: String) { handler(message) }
}
