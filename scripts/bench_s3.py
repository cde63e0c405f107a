#!/usr/bin/env python3
"""Benchmark of mreg on S3 beside aws-cli and dvc (docs/benchmarks.md, "Remotes: push, resolve and
promote on S3").

    source /work/wt/s3.env                 # or: source "$(scripts/s3-server.sh start)"
    python3 scripts/bench_s3.py            # 1 GiB, 10,000 x 4 KiB, latency; 3 interleaved rounds
    python3 scripts/bench_s3.py --big-mib 256 --small 2000 --rounds 1     # quicker
    MREG=/path/to/mreg python3 scripts/bench_s3.py

Against the S3 server of MREG_TEST_S3_ENDPOINT (keys MREG_TEST_S3_ACCESS_KEY / _SECRET_KEY,
region MREG_TEST_S3_REGION), in a bucket of its own, in the same run:

- one 1 GiB file of random bytes: `mreg push --to s3://…` of a local registry holding it as one
  version, `mreg register --registry s3://…` of the file directly, `aws s3 cp` (aws-cli's defaults:
  8 MiB parts, 10 in flight), `dvc push` (its defaults), and the ceiling: `curl -T` of the same
  file in one PUT (no payload hash, no multipart);
- 10,000 files of 4 KiB of random bytes in 100 directories: `mreg push` of a local registry
  holding them as one version of a model (the realistic way such a registry arises: a model
  directory of many small files), `mreg register --registry s3://…` of the directory, `aws s3
  sync`, `dvc push` of the directory (dvc add'ed once beforehand);
- `mreg resolve NAME@production` and `mreg promote` on an S3 registry: median of --latency-runs;
- the HTTP requests of each mreg command, counted by a small TCP proxy between mreg and the
  server (requests lines seen in the client's stream, by method).

Rounds are interleaved (mreg, aws, dvc, mreg, aws, dvc, …) so that the noisy shared machine hits
each alike; each round writes under a fresh prefix (nothing is already there) and removes it
afterwards. Wall time from a monotonic clock, peak RSS from GNU time (`%M`, the largest process).
aws-cli and dvc are installed into .venv-bench-s3 by this script (pip, from PyPI).
"""
import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = "/tmp/mreg-bench-s3"
VENV = os.path.join(ROOT, ".venv-bench-s3")


def ensure_venv():
    """aws and dvc from .venv-bench-s3, made on first use."""
    bindir = os.path.join(VENV, "bin")
    if not (os.path.exists(os.path.join(bindir, "aws")) and os.path.exists(os.path.join(bindir, "dvc"))):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([os.path.join(bindir, "pip"), "install", "-q", "awscli", "dvc[s3]"], check=True)
    return bindir


def run(args, env, cwd=None, check=True):
    """Runs a command; returns (wall s, peak RSS MiB, stdout)."""
    rss_file = os.path.join(WORK, ".rss")
    start = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + args, env=env, cwd=cwd, capture_output=True)
    wall = time.monotonic() - start
    if check and p.returncode != 0:
        sys.exit("failed (exit %d): %s\n%s%s" % (p.returncode, " ".join(args), p.stdout.decode()[-2000:], p.stderr.decode()[-2000:]))
    with open(rss_file) as f:
        rss = int(f.read().strip().splitlines()[-1])
    return wall, rss / 1024, p.stdout.decode()


def random_file(path, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 8 << 20)
            f.write(os.urandom(n))
            left -= n


class CountingProxy:
    """A TCP proxy to the server that counts HTTP request lines in what clients send, by method.
    SigV4 signs the Host header the client sends, which the proxy passes on unchanged."""

    LINE = re.compile(rb"(GET|PUT|POST|HEAD|DELETE) /[^ \r\n]* HTTP/1\.1\r\n")

    def __init__(self, host, port):
        self.target = (host, port)
        self.counts = {}
        self.lock = threading.Lock()
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def reset(self):
        with self.lock:
            counts, self.counts = self.counts, {}
        return counts

    def accept(self):
        while True:
            client, _ = self.server.accept()
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self.pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self.pipe, args=(upstream, client, False), daemon=True).start()

    def pipe(self, src, dst, count):
        carry = b""
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                if count:
                    text = carry + data
                    for m in self.LINE.finditer(text):
                        if m.end() > len(carry):
                            with self.lock:
                                method = m.group(1).decode()
                                self.counts[method] = self.counts.get(method, 0) + 1
                    carry = text[-2048:]
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def show_counts(counts):
    total = sum(counts.values())
    return "%d (%s)" % (total, ", ".join("%s %d" % kv for kv in sorted(counts.items())))


def main():
    global WORK
    ap = argparse.ArgumentParser()
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--small", type=int, default=10000, help="number of 4 KiB files")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--latency-runs", type=int, default=10)
    ap.add_argument("--skip", action="append", default=[], help="big, small, latency, dvc, counts")
    ap.add_argument("--bucket", help="an existing bucket to work in, under a prefix of this run (default: a new bucket)")
    ap.add_argument("--work", default=None, help="scratch directory, removed first (default %s)" % WORK)
    a = ap.parse_args()
    if a.work:
        WORK = a.work
    mreg = os.environ.get("MREG") or os.path.join(ROOT, ".build", "release", "mreg")
    if not os.path.exists(mreg):
        sys.exit("build first: swift build -c release --product mreg (or set MREG)")
    endpoint = os.environ.get("MREG_TEST_S3_ENDPOINT")
    if not endpoint:
        sys.exit("no S3 server: source the env of scripts/s3-server.sh (MREG_TEST_S3_ENDPOINT, …)")
    key, secret = os.environ["MREG_TEST_S3_ACCESS_KEY"], os.environ["MREG_TEST_S3_SECRET_KEY"]
    region = os.environ.get("MREG_TEST_S3_REGION", "us-east-1")
    bindir = ensure_venv()
    aws, dvc = os.path.join(bindir, "aws"), os.path.join(bindir, "dvc")

    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    env = dict(os.environ, MREG_USER="bench", MREG_HOST="bench", AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
               AWS_REGION=region, AWS_DEFAULT_REGION=region, AWS_ENDPOINT_URL=endpoint,
               MREG_CACHE=os.path.join(WORK, "cache"), DVC_NO_ANALYTICS="1",
               PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    env.pop("MREG_REGISTRY", None)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        env.pop(name, None)
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(WORK, "no-aws-config")
    awsx = [aws, "--endpoint-url", endpoint]
    if a.bucket:
        # An existing bucket, used under a prefix of this run (a SeaweedFS with many buckets can
        # run out of volume slots for a new one: HTTP 500 on its first PUT).
        bucket, run_prefix = a.bucket, "mreg-bench-s3-%d/" % int(time.time())
    else:
        bucket, run_prefix = "mreg-bench-s3-%d" % int(time.time()), ""
        run(awsx + ["s3api", "create-bucket", "--bucket", bucket], env)
    s3 = "s3://" + bucket + ("/" + run_prefix.rstrip("/") if run_prefix else "")

    def rm(prefix):
        run(awsx + ["s3", "rm", "--recursive", "--quiet", "%s/%s" % (s3, prefix)], env, check=False)

    def fresh_cache():
        shutil.rmtree(env["MREG_CACHE"], ignore_errors=True)

    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    versions = {
        "aws": subprocess.run([aws, "--version"], capture_output=True, text=True, env=env).stdout.strip()
        or subprocess.run([aws, "--version"], capture_output=True, text=True, env=env).stderr.strip(),
        "dvc": subprocess.run([dvc, "--version"], capture_output=True, text=True, env=env).stdout.strip(),
        "curl": subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split("\n")[0],
    }
    print("machine: %s, %d cores, load average at start %s" % (platform.platform(), os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg())))
    print("commit %s, mreg %s, %s, dvc %s, bucket %s at %s" % (commit, mreg, versions["aws"], versions["dvc"], bucket, endpoint))
    results = {"commit": commit, "versions": versions, "load_start": os.getloadavg(), "bucket": bucket}
    with open(os.path.join(WORK, "m.json"), "w") as f:
        f.write('{"accuracy": 0.9}')
    metrics = os.path.join(WORK, "m.json")

    def dvc_repo(name, target):
        """A dvc project in WORK/dvc-NAME that tracks `target` (moved in), with remote `store`."""
        repo = os.path.join(WORK, "dvc-" + name)
        os.makedirs(repo)
        run([dvc, "init", "--no-scm", "-q"], env, cwd=repo)
        run([dvc, "config", "core.analytics", "false"], env, cwd=repo)
        if os.path.isdir(target):
            shutil.copytree(target, os.path.join(repo, "data"))
        else:
            os.makedirs(os.path.join(repo, "data"))
            shutil.copy(target, os.path.join(repo, "data"))
        run([dvc, "add", "-q", "data"], env, cwd=repo)
        run([dvc, "remote", "add", "-d", "store", s3 + "/dvc-unused"], env, cwd=repo)
        run([dvc, "remote", "modify", "store", "endpointurl", endpoint], env, cwd=repo)
        run([dvc, "remote", "modify", "--local", "store", "access_key_id", key], env, cwd=repo)
        run([dvc, "remote", "modify", "--local", "store", "secret_access_key", secret], env, cwd=repo)
        return repo

    def table(title, rows, reference):
        print("\n" + title)
        ref = statistics.median(rows[reference]["wall"]) if reference in rows else None
        for name, r in rows.items():
            med = statistics.median(r["wall"])
            extra = ""
            if r.get("bytes"):
                extra += ", %.1f MB/s" % (r["bytes"] / med / 1e6)
            if ref:
                extra += ", %.2fx the time of %s" % (med / ref, reference)
            print("  %-34s median %7.2f s (runs %s), peak RSS %.0f MiB%s" % (
                name, med, " ".join("%.2f" % w for w in r["wall"]), max(r["rss"]), extra))

    def record(rows, name, measured, size=0):
        wall, rss, _ = measured
        r = rows.setdefault(name, {"wall": [], "rss": [], "bytes": size})
        r["wall"].append(wall)
        r["rss"].append(rss)

    proxy = None
    if "counts" not in a.skip:
        host, port = endpoint.split("://", 1)[1].split(":")
        proxy = CountingProxy(host, int(port.rstrip("/")))
    counted_env = dict(env, AWS_ENDPOINT_URL="http://127.0.0.1:%d" % proxy.port) if proxy else None

    # -- one big file -------------------------------------------------------------------------
    if "big" not in a.skip:
        size = a.big_mib << 20
        src = os.path.join(WORK, "big", "model.bin")
        random_file(src, size)
        reg = os.path.join(WORK, "reg-big")
        run([mreg, "init", reg], env)
        reg_wall = run([mreg, "register", "big", src, "--metrics", metrics, "--registry", reg], env)
        print("\nlocal register of %d MiB: %.2f s, %.0f MiB" % (a.big_mib, reg_wall[0], reg_wall[1]))
        repo = dvc_repo("big", src) if "dvc" not in a.skip else None
        rows = {}
        for r in range(a.rounds):
            p = "r%d" % r
            fresh_cache()
            run([mreg, "init", "%s/%s/push" % (s3, p)], env)
            record(rows, "mreg push", run([mreg, "push", "--to", "%s/%s/push" % (s3, p), "--registry", reg], env), size)
            record(rows, "aws s3 cp", run(awsx + ["s3", "cp", "--quiet", src, "%s/%s/aws/model.bin" % (s3, p)], env), size)
            if repo:
                run([dvc, "remote", "modify", "store", "url", "%s/%s/dvc" % (s3, p)], env, cwd=repo)
                record(rows, "dvc push", run([dvc, "push", "-q"], env, cwd=repo), size)
            fresh_cache()
            run([mreg, "init", "%s/%s/direct" % (s3, p)], env)
            record(rows, "mreg register --registry s3://", run([mreg, "register", "big", src, "--metrics", metrics,
                                                                "--registry", "%s/%s/direct" % (s3, p)], env), size)
            record(rows, "curl -T (one PUT, unsigned payload)", run([
                "curl", "-sS", "-f", "-o", "/dev/null", "--aws-sigv4", "aws:amz:%s:s3" % region, "--user", "%s:%s" % (key, secret),
                "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-T", src, "%s/%s/%s%s/curl/model.bin" % (endpoint, bucket, run_prefix, p)], env), size)
            rm(p)
        table("one %d MiB file of random bytes up, %d rounds" % (a.big_mib, a.rounds), rows, "aws s3 cp")
        results["big"] = rows
        if proxy:
            fresh_cache()
            run([mreg, "init", "%s/count/push" % s3], env)
            proxy.reset()
            run([mreg, "push", "--to", "%s/count/push" % s3, "--registry", reg], counted_env)
            results["big_push_requests"] = proxy.reset()
            print("  requests of mreg push (via the counting proxy): %s" % show_counts(results["big_push_requests"]))
            rm("count")
        shutil.rmtree(os.path.join(WORK, "big"))
        shutil.rmtree(reg)
        if repo:
            shutil.rmtree(repo)

    # -- many small files ---------------------------------------------------------------------
    if "small" not in a.skip:
        src = os.path.join(WORK, "small")
        for i in range(a.small):
            random_file(os.path.join(src, "d%03d" % (i % 100), "f%05d.bin" % i), 4096)
        reg = os.path.join(WORK, "reg-small")
        run([mreg, "init", reg], env)
        reg_wall = run([mreg, "register", "small", src, "--metrics", metrics, "--registry", reg], env)
        print("\nlocal register of %d x 4 KiB: %.2f s, %.0f MiB" % (a.small, reg_wall[0], reg_wall[1]))
        repo = dvc_repo("small", src) if "dvc" not in a.skip else None
        rows = {}
        for r in range(a.rounds):
            p = "s%d" % r
            fresh_cache()
            run([mreg, "init", "%s/%s/push" % (s3, p)], env)
            record(rows, "mreg push", run([mreg, "push", "--to", "%s/%s/push" % (s3, p), "--registry", reg], env))
            record(rows, "aws s3 sync", run(awsx + ["s3", "sync", "--quiet", src, "%s/%s/aws" % (s3, p)], env))
            if repo:
                run([dvc, "remote", "modify", "store", "url", "%s/%s/dvc" % (s3, p)], env, cwd=repo)
                record(rows, "dvc push", run([dvc, "push", "-q"], env, cwd=repo))
            fresh_cache()
            run([mreg, "init", "%s/%s/direct" % (s3, p)], env)
            record(rows, "mreg register --registry s3://", run([mreg, "register", "small", src, "--metrics", metrics,
                                                                "--registry", "%s/%s/direct" % (s3, p)], env))
            rm(p)
        table("%d files of 4 KiB of random bytes up, %d rounds" % (a.small, a.rounds), rows, "dvc push" if repo else "aws s3 sync")
        results["small"] = rows
        if proxy:
            fresh_cache()
            run([mreg, "init", "%s/count/push" % s3], env)
            proxy.reset()
            run([mreg, "push", "--to", "%s/count/push" % s3, "--registry", reg], counted_env)
            results["small_push_requests"] = proxy.reset()
            print("  requests of mreg push (via the counting proxy): %s" % show_counts(results["small_push_requests"]))
            rm("count")
        shutil.rmtree(src)
        shutil.rmtree(reg)
        if repo:
            shutil.rmtree(repo)

    # -- resolve and promote latency ----------------------------------------------------------
    if "latency" not in a.skip:
        url = "%s/latency" % s3
        fresh_cache()
        model = os.path.join(WORK, "w.bin")
        random_file(model, 4096)
        run([mreg, "init", url], env)
        for _ in range(2):
            run([mreg, "register", "fraud", model, "--metrics", metrics, "--registry", url], env)
        run([mreg, "promote", "fraud@1", "--stage", "production", "--registry", url], env)
        rows = {}
        for i in range(a.latency_runs):
            record(rows, "mreg resolve fraud@production", run([mreg, "resolve", "fraud@production", "--registry", url], env))
            record(rows, "mreg promote (alternating @2/@1)", run([mreg, "promote", "fraud@%d" % (2 - i % 2), "--stage", "production",
                                                                 "--override", "bench", "--registry", url], env))
        table("latency on S3 (a model with 2 versions; promotions with --override, the gates pass nothing equal; warm local cache), %d runs" % a.latency_runs, rows, None)
        results["latency"] = rows
        if proxy:
            for name, cmd in (("resolve", ["resolve", "fraud@production"]), ("promote", ["promote", "fraud@%d" % (2 - a.latency_runs % 2), "--stage", "production", "--override", "bench"])):
                proxy.reset()
                run([mreg] + cmd + ["--registry", url], counted_env)
                results[name + "_requests"] = proxy.reset()
                print("  requests of mreg %s: %s" % (name, show_counts(results[name + "_requests"])))
        rm("latency")

    results["load_end"] = os.getloadavg()
    print("\nload average at end %s" % " ".join("%.2f" % x for x in results["load_end"]))
    with open(os.path.join(WORK, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    if not a.bucket:
        run(awsx + ["s3", "rb", "--force", s3], env, check=False)
    print("results in %s/results.json" % WORK)


if __name__ == "__main__":
    main()
