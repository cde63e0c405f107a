"""Peers side by side with mreg, measured in the same run: dvc, git, gto and MLflow.

Used by scripts/benchmark.py (`--peers` runs this section alone). The peers are installed with pip
into .venv-bench (made here, ignored by git); one that does not install is skipped with a note.
Each row is the median of interleaved runs: mreg and the peers take turns, so a busy machine slows
them alike. The ratio column is the peer's time over mreg's for the same task.
"""
import os, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv-bench")
PY = os.path.join(VENV, "bin", "python")
ENV = dict(os.environ, DVC_NO_ANALYTICS="1", GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
           GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com", MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false",
           PYTHONWARNINGS="ignore", MLFLOW_ALLOW_FILE_STORE="true")
ENV.pop("MREG_REGISTRY", None)
ENV["PATH"] = os.path.join(VENV, "bin") + ":" + ENV.get("PATH", "/usr/bin:/bin")


def install():
    """Makes .venv-bench with dvc, gto and mlflow; returns ({tool: executable}, [notes])."""
    notes = []
    if not os.path.exists(PY):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    have = {}
    for pkg in ["dvc", "gto", "mlflow"]:
        exe = os.path.join(VENV, "bin", pkg)
        if not os.path.exists(exe):
            print(f"installing {pkg} into {VENV}...", file=sys.stderr)
            r = subprocess.run([PY, "-m", "pip", "install", "-q", pkg], capture_output=True, text=True)
            if r.returncode != 0 or not os.path.exists(exe):
                last = (r.stderr.strip().splitlines() or ["no output"])[-1]
                notes.append(f"{pkg} skipped: it did not install ({last})")
                continue
        version = subprocess.run([PY, "-c", f"import importlib.metadata as m; print(m.version('{pkg}'))"],
                                 capture_output=True, text=True).stdout.strip()
        have[pkg] = (exe, version)
    return have, notes


def timed(cmd, cwd=None):
    """Seconds of one run of a shell command (a string) or argv; raises on failure."""
    t0 = time.perf_counter()
    r = subprocess.run(cmd, shell=isinstance(cmd, str), cwd=cwd, env=ENV, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{cmd if isinstance(cmd, str) else ' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
    return dt


def sh(cmd, cwd=None):
    return subprocess.run(cmd, shell=True, cwd=cwd, env=ENV, check=True, capture_output=True, text=True).stdout.strip()


def rm(path):
    if os.path.lexists(path):
        subprocess.run(["chmod", "-R", "u+w", path])
        shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)


class Table:
    """Rows of (task, tool, how, samples in seconds); mreg's row of a task is the reference."""

    def __init__(self):
        self.rows = []
        self.notes = []

    def measure(self, tasks, reps):
        """tasks: [(task, tool, how, setup-or-None, run)]; runs them interleaved, `reps` rounds."""
        samples = {i: [] for i in range(len(tasks))}
        for _ in range(reps):
            for i, (task, tool, how, setup, fn) in enumerate(tasks):
                if samples[i] is None:
                    continue
                try:
                    if setup:
                        setup()
                    samples[i].append(fn())
                except Exception as e:  # a peer that fails is reported, not fatal
                    self.notes.append(f"{tool} ({how}) failed: {e}")
                    samples[i] = None
        for i, (task, tool, how, _, _) in enumerate(tasks):
            if samples[i]:
                self.rows.append((task, tool, how, statistics.median(samples[i]), len(samples[i])))
                print(f"  {task} | {tool} | {how}: {self.rows[-1][3]:.3f} s", file=sys.stderr, flush=True)

    def markdown(self):
        out = ["| task | tool | how | time | runs | × mreg |", "|---|---|---|---|---|---|"]
        ref = {task: t for task, tool, _, t, _ in self.rows if tool == "mreg"}
        for task, tool, how, t, n in self.rows:
            shown = f"{t:.2f} s" if t >= 1 else f"{t * 1000:.0f} ms"
            ratio = "1" if tool == "mreg" else (f"{t / ref[task]:.2f}" if task in ref else "")
            out.append(f"| {task} | {tool} | {how} | {shown} | {n} | {ratio} |")
        return "\n".join(out)


MLFLOW_STORE = """
import mlflow, sys
from mlflow import MlflowClient
mlflow.set_tracking_uri(sys.argv[1])
with mlflow.start_run() as run:
    mlflow.log_artifact(sys.argv[2], artifact_path="model")
# register_model("runs:/…") wants an MLflow-format model since MLflow 3; a plain file is
# registered as a version whose source is the run's artifact directory.
c = MlflowClient()
c.create_registered_model("big")
c.create_model_version("big", source=run.info.artifact_uri + "/model", run_id=run.info.run_id)
"""

MLFLOW_FETCH = """
import mlflow, sys
mlflow.set_tracking_uri(sys.argv[1])
mlflow.artifacts.download_artifacts(artifact_uri="models:/big/1", dst_path=sys.argv[2])
"""

MLFLOW_POPULATE = """
import mlflow, sys
from mlflow import MlflowClient
mlflow.set_tracking_uri(sys.argv[1])
c = MlflowClient()
c.create_registered_model("fraud")
for i in range(int(sys.argv[2])):
    c.create_model_version("fraud", source=sys.argv[3], run_id=None)
c.set_registered_model_alias("fraud", "production", "1")
"""

MLFLOW_WHICH = """
import mlflow, sys
from mlflow import MlflowClient
mlflow.set_tracking_uri(sys.argv[1])
print(MlflowClient().get_model_version_by_alias("fraud", "production").version)
"""

MLFLOW_PROMOTE = """
import mlflow, sys
from mlflow import MlflowClient
mlflow.set_tracking_uri(sys.argv[1])
MlflowClient().set_registered_model_alias("fraud", "production", sys.argv[2])
"""


def peers(mreg, work, size_mib, versions, populate, reps=3, meta_reps=3):
    """Prints the peers table: 1 file of `size_mib` stored and fetched back, and the production
    champion of a model with `versions` versions looked up and changed."""
    have, notes = install()
    t = Table()
    t.notes += notes
    os.makedirs(work, exist_ok=True)
    big = os.path.join(work, "peer-big.bin")
    m = os.path.join(work, "peer-m.json")
    open(m, "w").write('{"f1": 0.5}')
    sh(f"head -c {size_mib}M /dev/urandom > {big} && cat {big} > /dev/null")
    size = f"{size_mib / 1024:g} GiB" if size_mib >= 1024 else f"{size_mib} MiB"

    # Storing the file.
    reg = os.path.join(work, "peer-reg")
    dvcrepo, gitrepo, mlstore = (os.path.join(work, d) for d in ("peer-dvc", "peer-git", "peer-mlflow"))

    def fresh_reg():
        rm(reg); timed([mreg, "init", reg])

    def fresh_dvc():
        rm(dvcrepo); os.makedirs(dvcrepo)
        sh("git init -q && dvc init -q && dvc config core.autostage false", cwd=dvcrepo)
        shutil.copyfile(big, os.path.join(dvcrepo, "big.bin"))

    def fresh_git():
        rm(gitrepo); os.makedirs(gitrepo); sh("git init -q", cwd=gitrepo)

    store = [(f"store {size}", "mreg", "`mreg register` (hash, compress-or-not, fsync)", fresh_reg,
              lambda: timed([mreg, "register", "--registry", reg, "big", big, "--metrics", m]))]
    if "dvc" in have:
        store.append((f"store {size}", "dvc", "`dvc add` (md5, copy into the cache)", fresh_dvc,
                      lambda: timed([have["dvc"][0], "add", "-q", "big.bin"], cwd=dvcrepo)))
    store.append((f"store {size}", "git", "`git hash-object -w` (sha1, zlib)", fresh_git,
                  lambda: timed(["git", "hash-object", "-w", big], cwd=gitrepo)))
    if "mlflow" in have:
        store.append((f"store {size}", "MLflow", "`log_artifact` + `create_model_version`, file store, interpreter start included",
                      lambda: rm(mlstore), lambda: timed([PY, "-c", MLFLOW_STORE, "file://" + mlstore, big])))
    t.measure(store, reps)

    # Fetching it back (each store from the last round of the step above).
    out = os.path.join(work, "peer-out")
    blob = sh(f"git hash-object {big}")
    fetch = [(f"fetch {size}", "mreg", "`mreg fetch` (verified, fsync, atomic)", lambda: rm(out),
              lambda: timed([mreg, "fetch", "--registry", reg, "big@1", "--out", out]))]
    if "dvc" in have and os.path.exists(os.path.join(dvcrepo, "big.bin.dvc")):
        ws = os.path.join(dvcrepo, "big.bin")
        fetch.append((f"fetch {size}", "dvc", "`dvc checkout` (no verification, no fsync)", lambda: rm(ws),
                      lambda: timed([have["dvc"][0], "checkout", "-q", "big.bin"], cwd=dvcrepo)))
        fetch.append((f"fetch {size}", "dvc", "`dvc checkout && sync big.bin`", lambda: rm(ws),
                      lambda: timed(f"{have['dvc'][0]} checkout -q big.bin && sync big.bin", cwd=dvcrepo)))
    gitout = os.path.join(work, "peer-git-out.bin")
    fetch.append((f"fetch {size}", "git", "`git cat-file blob … > f && sync f`", lambda: rm(gitout),
                  lambda: timed(f"git cat-file blob {blob} > {gitout} && sync {gitout}", cwd=gitrepo)))
    if "mlflow" in have and os.path.exists(mlstore):
        mlout = os.path.join(work, "peer-mlflow-out")
        fetch.append((f"fetch {size}", "MLflow", "`download_artifacts(\"models:/big/1\")`, interpreter start included",
                      lambda: rm(mlout), lambda: timed([PY, "-c", MLFLOW_FETCH, "file://" + mlstore, mlout])))
    t.measure(fetch, reps)
    for p in (big, out, gitout, reg, dvcrepo, gitrepo, mlstore, os.path.join(work, "peer-mlflow-out")):
        rm(p)

    # The production champion of a model with many versions.
    meta = os.path.join(work, "peer-meta")
    rm(meta); timed([mreg, "init", meta])
    if populate and os.path.exists(populate):
        timed([populate, meta, "fraud", str(versions)])
    else:
        art = os.path.join(work, "peer-tiny"); os.makedirs(art, exist_ok=True)
        open(os.path.join(art, "w.bin"), "w").write("w")
        for _ in range(versions):
            timed([mreg, "register", "--registry", meta, "fraud", art, "--metrics", m])
    timed([mreg, "promote", "--registry", meta, "fraud@1"])
    which = [(f"production champion, {versions:,} versions", "mreg", "`mreg resolve fraud@production`", None,
              lambda: timed([mreg, "resolve", "--registry", meta, "fraud@production"]))]
    promoted = {"mreg": 0, "gto": 0, "mlflow": 0}

    def next_version(tool):
        """A version not promoted before: N, N-1, … (gto keeps every version assigned to a stage
        in it, and refuses to assign one that is already there)."""
        promoted[tool] += 1
        return versions + 1 - promoted[tool]

    promote = [(f"promote, {versions:,} versions", "mreg", "`mreg promote fraud@N --override …` (an entry in the history)", None,
                lambda: timed([mreg, "promote", "--registry", meta, f"fraud@{next_version('mreg')}", "--override", "bench"]))]
    gtorepo = os.path.join(work, "peer-gto")
    if "gto" in have:
        rm(gtorepo); os.makedirs(gtorepo)
        # gto registers a version as an annotated tag NAME@vX.Y.Z on its own commit; these are
        # made by one git fast-import (gto register would start Python a thousand times), then
        # the stage is assigned by gto.
        stream = []
        for i in range(1, versions + 1):
            when, msg, tag = 1_700_000_000 + i, f"v{i}", f"Registering artifact fraud version v0.0.{i}"
            stream.append(f"commit refs/heads/main\nmark :{i}\ncommitter bench <bench@example.com> {when} +0000\n"
                          f"data {len(msg)}\n{msg}\ntag fraud@v0.0.{i}\nfrom :{i}\n"
                          f"tagger bench <bench@example.com> {when} +0000\ndata {len(tag)}\n{tag}\n")
        sh("git init -q -b main", cwd=gtorepo)
        subprocess.run(["git", "fast-import", "--quiet"], input="".join(stream), text=True, cwd=gtorepo, check=True)
        sh("git checkout -q main", cwd=gtorepo)
        gto = have["gto"][0]
        # The first assignment as gto makes it (an annotated tag NAME#STAGE#N on the version's
        # commit): gto assign would itself read all 1,000 tags first.
        sh("git tag -a 'fraud#production#1' -m 'Assigning stage production to artifact fraud version v0.0.1' 'fraud@v0.0.1^{}'", cwd=gtorepo)
        which.append((f"production champion, {versions:,} versions", "gto", "`gto show fraud#production --version`", None,
                      lambda: timed([gto, "show", "fraud#production", "--version"], cwd=gtorepo)))
        promote.append((f"promote, {versions:,} versions", "gto", "`gto assign fraud --version … --stage production` (a git tag)", None,
                        lambda: timed([gto, "assign", "fraud", "--version", f"v0.0.{next_version('gto')}", "--stage", "production"], cwd=gtorepo)))
    mlmeta = os.path.join(work, "peer-mlflow-meta")
    if "mlflow" in have:
        rm(mlmeta)
        try:
            timed([PY, "-c", MLFLOW_POPULATE, "file://" + mlmeta, str(versions), "file://" + work])
            which.append((f"production champion, {versions:,} versions", "MLflow", "`get_model_version_by_alias`, interpreter start included", None,
                          lambda: timed([PY, "-c", MLFLOW_WHICH, "file://" + mlmeta])))
            which.append((f"production champion, {versions:,} versions", "MLflow", "of which `python -c 'import mlflow'`", None,
                          lambda: timed([PY, "-c", "import mlflow"])))
            promote.append((f"promote, {versions:,} versions", "MLflow", "`set_registered_model_alias`, interpreter start included", None,
                            lambda: timed([PY, "-c", MLFLOW_PROMOTE, "file://" + mlmeta, str(next_version("mlflow"))])))
        except Exception as e:
            t.notes.append(f"MLflow: making {versions} versions failed: {e}")
    t.measure(which, meta_reps)
    t.measure(promote, meta_reps)
    for p in (meta, gtorepo, mlmeta, os.path.join(work, "peer-tiny")):
        rm(p)

    tools = ", ".join(f"{k} {v[1]}" for k, v in sorted(have.items()))
    print(f"## Peers side by side ({size}, {versions:,} versions; {tools}; medians of interleaved runs)\n")
    print(t.markdown())
    print()
    for n in t.notes:
        print(f"- {n}")
    if t.notes:
        print()
