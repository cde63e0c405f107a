#!/usr/bin/env python3
"""mreg benchmarks: one command, own data, figures with ratios to the physical limit.

    python3 scripts/benchmark.py [--quick] [--full] [--scaling] [--peers] [--keep]

Builds a release mreg (static standard library) unless $MREG names a binary, generates its data
under /tmp/mreg-bench, and prints Markdown tables. Every reference (openssl, sha256sum, cp, gzip)
is measured in the same run on the same warm files, so ratios hold on a shared, noisy machine.
--quick: 256 MiB instead of 1 GiB, smaller metadata registries (about 2 minutes).
--full: also 10,000 and 100,000 versions for the metadata scaling figures (about 15 more minutes;
the versions are made by mreg-populate, which registers in one process through the same code).
--scaling: only the scaling table, at 100, 1,000, 10,000 and 100,000 versions.
--peers: only the peers table: dvc, git, gto and MLflow beside mreg in the same run, 1 GiB (256 MiB
with --quick) and 1,000 versions; scripts/bench_peers.py installs them into .venv-bench. The full
run includes it.
"""
import json, os, shutil, statistics, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_peers

QUICK = "--quick" in sys.argv
FULL = "--full" in sys.argv
SCALING = "--scaling" in sys.argv
PEERS = "--peers" in sys.argv
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = "/tmp/mreg-bench"
REPS = 3

def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, capture_output=True, text=True, **kw).stdout

def run(argv, env=None, cwd=None):
    """Runs argv; returns (seconds, peak RSS in MiB). Output is discarded."""
    e = dict(os.environ, **(env or {}))
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=e, cwd=cwd)
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    err = p.stderr.read().decode()
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{err}")
    return dt, usage.ru_maxrss / 1024

def median(f, reps=REPS):
    results = [f() for _ in range(reps)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)

def rm(path):
    if os.path.exists(path):
        subprocess.run(["chmod", "-R", "u+w", path])
        shutil.rmtree(path, ignore_errors=True)

def mreg_binary():
    if os.environ.get("MREG"):
        return os.environ["MREG"]
    print("building release mreg (static stdlib)...", file=sys.stderr)
    subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return os.path.join(sh(["swift", "build", "-c", "release", "--static-swift-stdlib", "--show-bin-path"], cwd=ROOT).strip(), "mreg")

def populate_binary(mreg):
    """mreg-populate beside the mreg binary, or $MREG_POPULATE."""
    return os.environ.get("MREG_POPULATE") or os.path.join(os.path.dirname(mreg), "mreg-populate")

def ms(argv, reps=10):
    """Median wall time of a command, in milliseconds."""
    return statistics.median(run(argv)[0] for _ in range(reps)) * 1000

def scaling(mreg, counts):
    print("## Scaling with the number of versions of one model\n")
    print("| versions | generate (s) | resolve NAME@N/2 (ms) | resolve NAME@production (ms) | show NAME@N/2 (ms) | check NAME@N (ms) | log NAME -n 20 (ms) | list NAME -n 20 (ms) | list NAME (ms) | fsck (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    populate = populate_binary(mreg)
    for count in counts:
        path = os.path.join(WORK, f"reg-scale-{count}")
        rm(path); run([mreg, "init", path])
        print(f"generating {count:,} versions with {populate}...", file=sys.stderr)
        gen = run([populate, path, "fraud", str(count)])[0]
        run([mreg, "promote", "--registry", path, "fraud@1"])
        fsck = run([mreg, "fsck", "--registry", path])[0]
        print(f"| {count:,} | {gen:.0f} | {ms([mreg, 'resolve', '--registry', path, f'fraud@{count // 2}']):.1f} | "
              f"{ms([mreg, 'resolve', '--registry', path, 'fraud@production']):.1f} | "
              f"{ms([mreg, 'show', '--registry', path, f'fraud@{count // 2}']):.1f} | "
              f"{ms([mreg, 'check', '--registry', path, f'fraud@{count}']):.1f} | "
              f"{ms([mreg, 'log', '--registry', path, 'fraud', '-n', '20']):.1f} | "
              f"{ms([mreg, 'list', '--registry', path, 'fraud', '-n', '20']):.1f} | "
              f"{ms([mreg, 'list', '--registry', path, 'fraud'], reps=3):.0f} | {fsck:.1f} |")
        rm(path)

def machine():
    cpu = sh("lscpu | grep 'Model name' | sed 's/.*: *//'").strip()
    mem = sh("free -g | awk '/Mem/ {print $2}'").strip()
    fs = sh("df -T /tmp | awk 'NR==2 {print $2}'").strip()
    print(f"machine: {sh('nproc').strip()} cores, {cpu}, {mem} GiB, /tmp on {fs}; files warm in the page cache\n")

def main():
    mreg = mreg_binary()
    rm(WORK)
    os.makedirs(WORK)
    if SCALING:
        print(f"# mreg metadata scaling ({time.strftime('%Y-%m-%d')})\n")
        scaling(mreg, [100, 1000, 10000, 100000])
        rm(WORK)
        return
    if PEERS:
        print(f"# mreg and its peers ({time.strftime('%Y-%m-%d')}, {'quick' if QUICK else 'full size'})\n")
        machine()
        reps = int(os.environ.get("PEER_REPS", "3"))
        bench_peers.peers(mreg, WORK, 256 if QUICK else 1024, 1000, populate_binary(mreg), reps=reps, meta_reps=reps)
        rm(WORK)
        return
    m = os.path.join(WORK, "m.json")
    open(m, "w").write('{"f1": 0.5, "auc": 0.7}')
    size_mib = 256 if QUICK else 1024
    print(f"# mreg benchmarks ({time.strftime('%Y-%m-%d')}, {'quick' if QUICK else 'full size'})\n")
    machine()

    # 1. One large incompressible file.
    big = os.path.join(WORK, "big.bin")
    sh(f"head -c {size_mib}M /dev/urandom > {big}")
    sh(f"cat {big} > /dev/null")
    ossl = median(lambda: run(["openssl", "dgst", "-sha256", big]))
    s256 = median(lambda: run(["sha256sum", big]))
    def cp():
        dst = os.path.join(WORK, "copy.bin")
        r = run(["cp", big, dst]); os.remove(dst); return r
    cpt = median(cp)
    def cpsync():
        dst = os.path.join(WORK, "copy.bin")
        r = run(["sh", "-c", f"cp {big} {dst} && sync {dst}"]); os.remove(dst); return r
    cpst = median(cpsync)
    def fresh_register():
        reg = os.path.join(WORK, "reg-big"); rm(reg); run([mreg, "init", reg])
        return run([mreg, "register", "--registry", reg, "big", big, "--metrics", m])
    regt = median(fresh_register)
    reg = os.path.join(WORK, "reg-big")
    rehit = median(lambda: run([mreg, "register", "--registry", reg, "big", big, "--metrics", m]))
    remiss = median(lambda: run([mreg, "register", "--registry", reg, "big", big, "--metrics", m], env={"MREG_NO_STAT_CACHE": "1"}))
    def fetch():
        out = os.path.join(WORK, "out"); rm(out)
        return run([mreg, "fetch", "--registry", reg, "big@1", "--out", out])
    fetcht = median(fetch)
    limit = ossl[0] + cpt[0]
    gib = size_mib / 1024
    print(f"## One {size_mib} MiB incompressible file\n")
    print("| operation | time (s) | GiB/s | peak RSS (MiB) | ratio |")
    print("|---|---|---|---|---|")
    print(f"| openssl dgst -sha256 | {ossl[0]:.2f} | {gib/ossl[0]:.2f} | {ossl[1]:.0f} | |")
    print(f"| sha256sum | {s256[0]:.2f} | {gib/s256[0]:.2f} | {s256[1]:.0f} | |")
    print(f"| cp | {cpt[0]:.2f} | {gib/cpt[0]:.2f} | {cpt[1]:.0f} | |")
    print(f"| cp + sync (fsync of the copy: what durability costs) | {cpst[0]:.2f} | {gib/cpst[0]:.2f} | | |")
    print(f"| **mreg register** (new registry, fsync included) | {regt[0]:.2f} | {gib/regt[0]:.2f} | {regt[1]:.0f} | {regt[0]/limit:.2f} × (openssl + cp), {regt[0]/(ossl[0]+cpst[0]):.2f} × (openssl + cp + sync) |")
    print(f"| mreg register, unchanged file (stat cache) | {rehit[0]:.3f} | | {rehit[1]:.0f} | {rehit[0]/limit:.3f} × (openssl + cp) |")
    print(f"| mreg register, unchanged bytes, no stat cache | {remiss[0]:.2f} | {gib/remiss[0]:.2f} | {remiss[1]:.0f} | {remiss[0]/limit:.2f} × (openssl + cp) |")
    print(f"| **mreg fetch** (verified, fsync included) | {fetcht[0]:.2f} | {gib/fetcht[0]:.2f} | {fetcht[1]:.0f} | {fetcht[0]/cpt[0]:.2f} × cp, {fetcht[0]/cpst[0]:.2f} × (cp + sync), {fetcht[0]/ossl[0]:.2f} × openssl (a verified copy cannot beat the hash) |")
    print()
    os.remove(big)
    rm(reg)

    # 1b. The same tasks with the peers (dvc, git, gto, MLflow), in this run.
    bench_peers.peers(mreg, WORK, size_mib, 200 if QUICK else 1000, populate_binary(mreg))

    # 2. Many small files.
    n = 2000 if QUICK else 10000
    tree = os.path.join(WORK, "tree")
    os.makedirs(tree)
    for i in range(n):
        d = os.path.join(tree, f"d{i // 500}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i}.bin"), "wb") as f:
            f.write(os.urandom(4096))
    def cpr():
        dst = os.path.join(WORK, "tree-copy"); rm(dst); r = run(["cp", "-r", tree, dst]); rm(dst); return r
    cprt = median(cpr)
    def cprs():
        dst = os.path.join(WORK, "tree-copy"); rm(dst); r = run(["sh", "-c", f"cp -r {tree} {dst} && sync -f {dst}"]); rm(dst); return r
    cprst = median(cprs)
    catssl = median(lambda: run(["sh", "-c", f"find {tree} -type f -print0 | xargs -0 cat | openssl dgst -sha256"]))
    def reg_tree():
        r = os.path.join(WORK, "reg-tree"); rm(r); run([mreg, "init", r])
        return run([mreg, "register", "--registry", r, "tree", tree, "--metrics", m])
    tr = median(reg_tree)
    print(f"## {n:,} files of 4 KiB\n")
    print("| operation | time (s) | files/s | peak RSS (MiB) | ratio |")
    print("|---|---|---|---|---|")
    print(f"| cp -r | {cprt[0]:.2f} | {n/cprt[0]:,.0f} | {cprt[1]:.0f} | |")
    print(f"| cp -r + sync -f (syncfs) | {cprst[0]:.2f} | {n/cprst[0]:,.0f} | | |")
    print(f"| cat all \\| openssl dgst | {catssl[0]:.2f} | {n/catssl[0]:,.0f} | | |")
    print(f"| **mreg register** | {tr[0]:.2f} | {n/tr[0]:,.0f} | {tr[1]:.0f} | {tr[0]/(cprt[0]+catssl[0]):.2f} × (cp -r + hash), {tr[0]/(cprst[0]+catssl[0]):.2f} × (cp -r + sync + hash) |")
    print()
    rm(tree); rm(os.path.join(WORK, "reg-tree"))

    # 3. Compression where it pays.
    sample_mib = 16 if QUICK else 64
    gen = f"""
import numpy, pickle, json, random, sys
n = {sample_mib} << 20
kind = sys.argv[1]
rng = numpy.random.default_rng(1)
if kind == 'weights':
    data = rng.standard_normal(n // 4).astype(numpy.float32).tobytes()
elif kind == 'pickle':
    trees = [{{'feature': int(rng.integers(0, 50)), 'threshold': float(rng.random()), 'left': i * 2 + 1, 'right': i * 2 + 2,
              'value': [float(x) for x in rng.random(3)]}} for i in range(n // 180)]
    data = pickle.dumps({{'trees': trees, 'classes': ['ok', 'fraud'], 'n_features': 50}})
elif kind == 'json':
    data = json.dumps([{{'id': i, 'name': f'feature_{{i % 97}}', 'mean': float(rng.random()), 'std': float(rng.random())}}
                       for i in range(n // 80)]).encode()
else:
    data = '\\n'.join(f'{{i}},{{rng.integers(0, 10**6)}},{{rng.random():.6f}},merchant_{{i % 1000}},US' for i in range(n // 40)).encode()
open(sys.argv[2], 'wb').write(data[:n])
"""
    print(f"## Compression ({sample_mib} MiB samples)\n")
    print("| content | mreg encoding | on disk / raw | mreg register (s) | gzip -1 on disk / raw | gzip -1 (s) | sha256sum (s) |")
    print("|---|---|---|---|---|---|---|")
    for kind in ["weights", "pickle", "json", "text"]:
        f = os.path.join(WORK, f"{kind}.bin")
        subprocess.run([sys.executable, "-c", gen, kind, f], check=True)
        raw = os.path.getsize(f)
        def reg_one():
            r = os.path.join(WORK, "reg-c"); rm(r); run([mreg, "init", r])
            return run([mreg, "register", "--registry", r, "c", f, "--metrics", m])
        rt = median(reg_one)
        r = os.path.join(WORK, "reg-c")
        out = json.loads(sh([mreg, "show", "--registry", r, "c@1", "--json"]))
        oid = out["artifacts"][0]["object"][7:]
        obj = os.path.join(r, "objects", oid[:2], oid[2:])
        header = open(obj, "rb").readline().decode().split()
        gz = median(lambda: run(["sh", "-c", f"gzip -1 -c {f} > {f}.gz"]))
        gzsize = os.path.getsize(f + ".gz")
        shat = median(lambda: run(["sha256sum", f]))
        print(f"| {kind} | {header[1]} | {os.path.getsize(obj)/raw:.3f} | {rt[0]:.2f} | {gzsize/raw:.3f} | {gz[0]:.2f} | {shat[0]:.2f} |")
        os.remove(f); os.remove(f + ".gz"); rm(r)
    print("\n(dvc add stores files raw: on disk / raw = 1.000.)\n")

    # 4. Metadata latency.
    def make_registry(path, versions, others, per_other):
        rm(path); run([mreg, "init", path])
        art = os.path.join(WORK, "tiny"); os.makedirs(art, exist_ok=True)
        open(os.path.join(art, "w.bin"), "w").write("w")
        env = dict(os.environ, MREG_NO_STAT_CACHE="0")
        for i in range(versions):
            open(m, "w").write('{"f1": %f, "auc": 0.7}' % (0.5 + i / (10 * versions)))
            subprocess.run([mreg, "register", "--registry", path, "fraud", art, "--metrics", m], check=True, stdout=subprocess.DEVNULL, env=env)
        for j in range(others):
            for _ in range(per_other):
                subprocess.run([mreg, "register", "--registry", path, f"model-{j}", art, "--metrics", m], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([mreg, "promote", "--registry", path, "fraud@1"], check=True, stdout=subprocess.DEVNULL)
    versions = 200 if QUICK else 1000
    others = 20 if QUICK else 99
    per = 5 if QUICK else 10
    meta = os.path.join(WORK, "reg-meta")
    print(f"generating a registry of {versions} versions of one model and {others} models of {per} versions...", file=sys.stderr)
    make_registry(meta, versions, others, per)
    mid = versions // 2
    rows = [
        ("mreg --version", [mreg, "--version"]),
        ("/bin/true (process start)", ["/bin/true"]),
        (f"resolve fraud@{mid}", [mreg, "resolve", "--registry", meta, f"fraud@{mid}"]),
        ("resolve fraud (latest)", [mreg, "resolve", "--registry", meta, "fraud"]),
        ("resolve fraud@production", [mreg, "resolve", "--registry", meta, "fraud@production"]),
        (f"show fraud@{mid}", [mreg, "show", "--registry", meta, f"fraud@{mid}"]),
        (f"check fraud@{versions}", [mreg, "check", "--registry", meta, f"fraud@{versions}"]),
        ("promote fraud@1 (already champion: evaluates, writes nothing)", [mreg, "promote", "--registry", meta, "fraud@1"]),
        (f"list ({others + 1} models)", [mreg, "list", "--registry", meta]),
        (f"list fraud ({versions} versions)", [mreg, "list", "--registry", meta, "fraud"]),
        ("log fraud -n 20", [mreg, "log", "--registry", meta, "fraud", "-n", "20"]),
    ]
    print(f"## Metadata latency ({versions} versions of one model, {others + 1} models; median of 10)\n")
    print("| command | ms |")
    print("|---|---|")
    for name, argv in rows:
        print(f"| {name} | {ms(argv):.1f} |")
    # A promotion that writes: alternate between two champions.
    def promote_pair():
        a = run([mreg, "promote", "--registry", meta, f"fraud@{versions}", "--override", "bench"])
        b = run([mreg, "rollback", "--registry", meta, "fraud", "--reason", "bench"])
        return a[0], b[0]
    pairs = [promote_pair() for _ in range(5)]
    print(f"| promote fraud@{versions} --override (writes an entry) | {statistics.median(p[0] for p in pairs) * 1000:.1f} |")
    print(f"| rollback (writes an entry) | {statistics.median(p[1] for p in pairs) * 1000:.1f} |")
    t0 = time.perf_counter(); run([mreg, "fsck", "--registry", meta]); fsck_s = time.perf_counter() - t0
    print(f"| fsck (whole registry) | {fsck_s * 1000:.0f} |")
    print()
    rm(meta)

    scaling(mreg, [100, 1000] + ([10000, 100000] if FULL else []))
    if "--keep" not in sys.argv:
        rm(WORK)

if __name__ == "__main__":
    main()
