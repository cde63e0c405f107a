import CMregSys
import Foundation
import Testing
import _MregTestSupport

/// Writing outside the registry: `fetch --out` never follows a link (even one swapped in while it
/// runs), never writes into a registry however it is reached, handles file names as bytes, and is
/// a verified no-op when `--out` already holds the version; `init` never nests registries.
@Suite("Fetch safety")
struct FetchSafetyTests {
    /// A registry with fraud@1: three files in two directories.
    func lab() -> Lab {
        let lab = Lab()
        lab.t.write("m.json", #"{"f1": 0.5}"#)
        lab.t.write("art/w.bin", randomBytes(3000, seed: 7))
        lab.t.write("art/sub/x.bin", randomBytes(2000, seed: 8))
        lab.t.write("art/sub/deeper/run.sh", "#!/bin/sh\necho hi\n", executable: true)
        #expect(lab.run(["register", "fraud", "art", "--metrics", "m.json"]).status == 0)
        return lab
    }

    /// The files of fraud@1 as fetched, relative to the fetched directory.
    static let expected = ["w.bin", "sub/x.bin", "sub/deeper/run.sh"]

    func expectFetched(_ lab: Lab, _ dir: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let got = TreeSnapshot(dir).entries.filter { $0.value.hasPrefix(FileAttributeType.typeRegular.rawValue) }
        #expect(Set(got.keys) == Set(Self.expected), "\(dir): \(got)", sourceLocation: sourceLocation)
        #expect(FileManager.default.contents(atPath: dir + "/w.bin") == randomBytes(3000, seed: 7), sourceLocation: sourceLocation)
        #expect(FileManager.default.contents(atPath: dir + "/sub/x.bin") == randomBytes(2000, seed: 8), sourceLocation: sourceLocation)
    }

    /// Runs `sh -c script` (for `unshare` and `mount`); the exit status and output.
    func shell(_ script: String, cwd: String) -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        p.environment = ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "MREG_USER": "tester", "MREG_LOCK_TIMEOUT": "5"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try! p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    // MARK: - Item 1: a link swapped into --out's path while fetches run

    @Test("a link swapped in and out of a parent of --out while fetches run never redirects one (with and without --force)")
    func swappedParent() throws {
        let lab = lab()
        let t = lab.t
        t.mkdir("A/B/out")
        t.write("A/B/out/old.txt", "old contents")
        // The decoy: what the link points to, with a B/out of its own that --force must not touch.
        t.write("elsewhere/B/keep.txt", "not yours")
        t.write("elsewhere/B/out/precious.txt", "not yours either")
        t.symlink("L", to: t.join("elsewhere"))
        let decoy = TreeSnapshot(t.join("elsewhere"))
        let registry = lab.snapshot()

        // The swapper: exchanges A and the link L (renameat2 RENAME_EXCHANGE) until told to stop,
        // for at most 120 seconds.
        final class Flag: @unchecked Sendable { var stop = false; var swaps = 0 }
        let flag = Flag()
        let dirfd = open(t.path, O_RDONLY | O_DIRECTORY)
        defer { close(dirfd) }
        let deadline = Date().addingTimeInterval(120)
        let swapper = Thread {
            while !flag.stop && (flag.swaps % 1024 != 0 || Date() < deadline) {
                if mreg_rename_exchange(dirfd, "A", "L") == 0 { flag.swaps += 1 }
            }
        }
        swapper.start()

        let count = 120
        let results = UnsafeMutableBufferPointer<CommandResult?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        nonisolated(unsafe) let slots = results
        let cwd = t.path, registryPath = lab.registry
        DispatchQueue.concurrentPerform(iterations: count) { i in
            // Half relative to the working directory, half absolute; half --force into A/B/out.
            let base = i % 2 == 0 ? "A/B" : cwd + "/A/B"
            let args = i % 4 < 2 ? ["fetch", "fraud@1", "--out", "\(base)/new\(i)"]
                                 : ["fetch", "fraud@1", "--force", "--out", "\(base)/out"]
            slots[i] = Mreg.run(args, cwd: cwd, registry: registryPath)
        }
        flag.stop = true
        while !swapper.isFinished { usleep(1000) }
        // Leave A the real directory.
        var st = stat()
        if lstat(t.join("A"), &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK {
            #expect(mreg_rename_exchange(dirfd, "A", "L") == 0)
        }

        #expect(flag.swaps > 0)
        #expect(TreeSnapshot(t.join("elsewhere")) == decoy, "something was written or removed outside --out")
        #expect(lab.snapshot() == registry)
        var succeeded = 0, failed = 0
        for i in 0..<count {
            let r = results[i]!
            if r.status == 0 {
                succeeded += 1
                if i % 4 < 2 { expectFetched(lab, t.join("A/B/new\(i)")) }
            } else {
                failed += 1
                #expect(r.status == 2, "\(r)")
                #expect(r.stderr.hasPrefix("mreg: error: --out ") && r.stderr.contains("symbolic link"), "\(r)")
                #expect(!t.exists("A/B/new\(i)"), "a failed fetch left its directory")
            }
        }
        #expect(succeeded + failed == count)
        // Every --force that succeeded went into the real A/B/out, and no temporary tree is left.
        if (0..<count).contains(where: { $0 % 4 >= 2 && results[$0]!.status == 0 }) { expectFetched(lab, t.join("A/B/out")) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.join("A/B")).allSatisfy { !$0.contains("mreg-fetch") })
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.join("elsewhere/B")).sorted() == ["keep.txt", "out"])
    }

    // MARK: - Item 2: the registry by device and inode

    @Test("--out inside the registry through a bind mount, /proc/self/root or .. is refused, even with --force")
    func registryByIdentity() throws {
        let lab = lab()
        let t = lab.t
        let before = lab.snapshot()
        for out in [lab.registry + "/objects", t.join("x/../reg/models/fraud"), "/proc/self/root" + lab.registry + "/objects"] {
            t.mkdir("x")
            let r = lab.run(["fetch", "fraud@1", "--force", "--out", out])
            #expect(r.status == 2, "\(out): \(r)")
            #expect(r.stderr.contains("inside the registry") || r.stderr.contains("symbolic link"), "\(r)")
        }
        // Bind mounts of the whole registry and of one of its directories, in a private mount
        // namespace (needs root or unprivileged user namespaces; reported and skipped otherwise).
        t.mkdir("bind")
        t.mkdir("bindobj")
        let mreg = "'\(Mreg.binary)' fetch fraud@1 --registry '\(lab.registry)' --force --out"
        let (status, output) = shell("""
            unshare -m sh -c "mount --bind reg bind && mount --bind reg/objects bindobj || exit 99
            for out in bind/objects bind/models bind bindobj/zz bind/tmp; do \(mreg) \\$out; echo \\"exit \\$?\\"; done
            '\(Mreg.binary)' init bind/models/inner; echo \\"exit \\$?\\""
            """, cwd: t.path)
        if status == 99 || output.contains("unshare failed") || output.contains("Operation not permitted") {
            print("skipped: bind mounts are not available here: \(output)")
        } else {
            let exits = output.split(separator: "\n").filter { $0.hasPrefix("exit ") }
            #expect(exits == Array(repeating: "exit 2", count: 6), "\(output)")
            #expect(output.components(separatedBy: "inside the registry").count - 1 == 6, "\(output)")
        }
        #expect(lab.snapshot() == before, "the registry changed")
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.join("bind")).isEmpty)
    }

    @Test("--out that contains the registry is refused with --force")
    func outContainsRegistry() {
        let lab = lab()
        let before = lab.snapshot()
        let r = lab.run(["fetch", "fraud@1", "--force", "--out", lab.t.path])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("inside the registry"), "\(r)")
        #expect(lab.snapshot() == before)
    }

    // MARK: - Item 3: no registry inside a registry

    @Test("init refuses a registry inside a registry, at any depth and however the path is spelled")
    func nestedInit() throws {
        let lab = lab()
        let t = lab.t
        t.mkdir("reg/models/deep/er")
        t.symlink("link", to: lab.registry)
        for path in ["reg/models/x", "reg/objects/zz", "reg/models/deep/er/x", "reg/tmp", "link/models/y", "x/../reg/objects/q"] {
            t.mkdir("x")
            let before = lab.snapshot()
            let r = Mreg.run(["init", path], cwd: t.path)
            #expect(r.status == 2, "\(path): \(r)")
            #expect(r.stderr.hasPrefix("mreg: error: cannot create a registry at \(path): it is inside the registry \(lab.registry)"), "\(r)")
            #expect(r.stderr.contains("cannot be nested"), "\(r)")
            #expect(lab.snapshot() == before, "\(path): the registry changed")
        }
        // The default ./.registry from a directory inside a registry, too.
        let r = Mreg.run(["init"], cwd: t.join("reg/models/deep"))
        #expect(r.status == 2, "\(r)")
        #expect(!t.exists("reg/models/deep/.registry"))
        // Beside a registry is fine.
        #expect(Mreg.run(["init", "reg2"], cwd: t.path).status == 0)
    }

    // MARK: - Item 13: names are bytes

    /// Creates a file whose name is these bytes (not UTF-8) under `dir`.
    func makeFile(_ dir: String, _ name: [UInt8]) {
        let path = Array(dir.utf8) + [UInt8(ascii: "/")] + name + [0]
        let fd = path.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) } }
        #expect(fd >= 0)
        close(fd)
    }

    @Test("fetch --force removes an old tree that holds names which are not UTF-8; nothing hidden is left")
    func nonUTF8Names() throws {
        let lab = lab()
        let t = lab.t
        t.mkdir("out/\u{00e9}t\u{00e9}")
        makeFile(t.join("out"), [0xff, 0xfe, 0x2e, 0x62])
        let sub = Array(t.join("out").utf8) + [UInt8(ascii: "/"), 0xc3, 0x28, 0]
        #expect(sub.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { mkdir($0.baseAddress!, 0o755) } } == 0)
        makeFile(t.join("out/\u{00e9}t\u{00e9}"), [0x80])
        let r = lab.run(["fetch", "fraud@1", "--force", "--out", "out"])
        #expect(r.status == 0, "\(r)")
        expectFetched(lab, t.join("out"))
        let left = try FileManager.default.contentsOfDirectory(atPath: t.path)
        #expect(left.allSatisfy { !$0.contains("mreg-fetch") }, "\(left)")
        // The fetched directory holds exactly the version: nothing of the old tree.
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.join("out")).sorted() == ["sub", "w.bin"])

        // --out itself not UTF-8: the directory made has exactly those bytes, not U+FFFD in their place.
        let (status, output) = shell("""
            '\(Mreg.binary)' fetch fraud@1 --registry '\(lab.registry)' --out "$(printf 'o\\377ut')" || exit 1
            test -f "$(printf 'o\\377ut')/w.bin" && echo raw-name-made
            test -e "$(printf 'o\\357\\277\\275ut')" || echo no-replacement-name
            """, cwd: t.path)
        #expect(status == 0, "\(output)")
        #expect(output.contains("raw-name-made") && output.contains("no-replacement-name"), "\(output)")
    }

    // MARK: - A fetch into a directory that already holds the version

    @Test("fetch into --out that already holds exactly the version is a verified no-op; any difference is not")
    func upToDate() throws {
        let lab = lab()
        let t = lab.t
        #expect(lab.run(["fetch", "fraud@1", "--out", "out"]).status == 0)
        let inode = try FileManager.default.attributesOfItem(atPath: t.join("out/w.bin"))[.systemFileNumber] as? Int
        let again = lab.run(["fetch", "fraud@1", "--out", "out"])
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.contains("already up to date"), "\(again)")
        #expect(try FileManager.default.attributesOfItem(atPath: t.join("out/w.bin"))[.systemFileNumber] as? Int == inode, "rewritten")
        let json = lab.run(["fetch", "fraud@1", "--out", "out", "--json"])
        #expect(json.json["up_to_date"] as? Bool == true, "\(json)")

        // Each difference makes it an ordinary non-empty --out: refused without --force.
        var bytes = try #require(t.read("out/sub/x.bin"))
        bytes[10] ^= 1
        let changes: [(String, () -> Void, () -> Void)] = [
            ("one flipped byte", { t.write("out/sub/x.bin", bytes) }, { t.write("out/sub/x.bin", randomBytes(2000, seed: 8)) }),
            ("a mode", { chmod(t.join("out/w.bin"), 0o755) }, { chmod(t.join("out/w.bin"), 0o644) }),
            ("an extra file", { t.write("out/sub/extra", "x") }, { unlink(t.join("out/sub/extra")) }),
            ("an extra directory", { t.mkdir("out/empty") }, { rmdir(t.join("out/empty")) }),
            ("a missing file", { unlink(t.join("out/w.bin")) }, { t.write("out/w.bin", randomBytes(3000, seed: 7)) }),
            ("a link for a file", { unlink(t.join("out/w.bin")); symlink(t.join("art/w.bin"), t.join("out/w.bin")) },
             { unlink(t.join("out/w.bin")); t.write("out/w.bin", randomBytes(3000, seed: 7)) }),
        ]
        for (what, change, undo) in changes {
            change()
            let r = lab.run(["fetch", "fraud@1", "--out", "out"])
            #expect(r.status == 2, "\(what): \(r)")
            #expect(r.stderr.contains("does not hold exactly fraud@1"), "\(what): \(r)")
            undo()
            #expect(lab.run(["fetch", "fraud@1", "--out", "out"]).stdout.contains("already up to date"), "\(what) undone")
        }
        // With --force, a differing --out is replaced.
        t.write("out/sub/x.bin", bytes)
        #expect(lab.run(["fetch", "fraud@1", "--force", "--out", "out"]).status == 0)
        expectFetched(lab, t.join("out"))
    }
}
