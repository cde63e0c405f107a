import ArgumentParser
import MregCore

struct Key: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make signing keys (OpenSSH Ed25519) and show their fingerprints.",
        discussion: "mreg reads and writes the key files of `ssh-keygen -t ed25519 -N ''`; keys made either way work for promote --sign, rollback --sign and sign --key. See docs/signing.md.",
        subcommands: [Generate.self, Fingerprint.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new key: FILE (private, mode 0600) and FILE.pub, as ssh-keygen does.")

        @Option(name: .long, help: ArgumentHelp("The private key file to create (FILE.pub is written beside it).", valueName: "file"))
        var out: String

        @Option(name: .long, help: ArgumentHelp("The key's comment (default USER@HOST, as ssh-keygen).", valueName: "text"))
        var comment: String?

        @Flag(name: .long, help: "Print machine-readable JSON.")
        var json = false

        func run() throws {
            let key = SSHPrivateKey.generate(comment: comment ?? SSHPrivateKey.defaultComment)
            try SigningFiles.writeKeyPair(key, to: out)
            if json {
                Output.json(.object(["private": .string(out), "public": .string(out + ".pub"),
                                     "fingerprint": .string(key.publicKey.fingerprint), "comment": .string(key.comment)]))
            } else {
                Output.line("wrote \(out) and \(out).pub: \(key.publicKey.fingerprint) \(key.comment)")
                Output.line("allowed_signers line for a deploy host: \(key.comment.isEmpty ? "NAME" : key.comment) namespaces=\"mreg\" \(key.publicKey.openSSH)")
            }
        }
    }

    struct Fingerprint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a key's fingerprint as `ssh-keygen -l -f FILE` does (private or .pub file).")

        @Argument(help: ArgumentHelp("A private key file or a .pub file.", valueName: "file"))
        var file: String

        func run() throws {
            let (key, comment) = try SSHPrivateKey.loadPublic(file)
            Output.line("256 \(key.fingerprint) \(comment.isEmpty ? "no comment" : comment) (ED25519)")
        }
    }
}
