import Foundation
import Testing
import _MregTestSupport

/// gc's exclusive lock against a steady stream of writers holding it shared.
@Suite("gc fairness")
struct GCFairnessTests {
    @Test("20 writers registering in loops: gc gets its lock within the default timeout, every writer succeeds")
    func gcNotStarved() throws {
        let t = TemporaryDirectory("mreg-gcfair")
        #expect(Mreg.run(["init", "reg"], cwd: t.path).status == 0)
        t.write("m.json", #"{"f1": 0.5}"#)
        // Large enough that each register holds the shared lock for most of its run (the file is
        // read and hashed under it; the stat cache is off so that every register reads it).
        t.write("v/w.bin", randomBytes(8 << 20))
        let writers = 20
        // Each writer registers until told to stop (at most 300 times), and records failures.
        let script = """
            i=0
            while [ $i -lt 300 ] && [ ! -e stop ]; do
              "$MREG" register "m$K" v --metrics m.json --registry reg >/dev/null 2>>"err$K" || echo "$i" >>"fail$K"
              i=$((i+1))
              [ $i -eq 2 ] && touch "started$K"
            done
            touch "done$K"
            """
        var procs: [Process] = []
        for k in 0..<writers {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", script]
            p.currentDirectoryURL = URL(fileURLWithPath: t.path)
            p.environment = ["PATH": "/usr/bin:/bin", "MREG": Mreg.binary, "K": String(k), "MREG_USER": "tester",
                             "MREG_HOST": "testhost", "MREG_LOCK_TIMEOUT": "10", "MREG_NO_STAT_CACHE": "1"]
            try p.run()
            procs.append(p)
        }
        defer {
            t.write("stop", "")
            for p in procs { p.waitUntilExit() }
        }
        // Until every writer has registered twice (a condition, not a time: bounded by the loop).
        while (0..<writers).contains(where: { !t.exists("started\($0)") && !t.exists("done\($0)") }) { usleep(20_000) }
        #expect((0..<writers).allSatisfy { !t.exists("done\($0)") }, "a writer finished before gc started; the test needs them running")
        let gc = Mreg.run(["gc"], cwd: t.path, env: ["MREG_LOCK_TIMEOUT": "10"], registry: t.join("reg"))
        #expect(gc.status == 0, "gc under load: \(gc)")
        t.write("stop", "")
        for p in procs { p.waitUntilExit() }
        for k in 0..<writers {
            let errors = String(decoding: t.read("err\(k)") ?? Data(), as: UTF8.self)
            #expect(!t.exists("fail\(k)"), "writer \(k) failed: \(errors)")
        }
        let fsck = Mreg.run(["fsck"], cwd: t.path, registry: t.join("reg"))
        #expect(fsck.status == 0, "\(fsck)")
    }
}
