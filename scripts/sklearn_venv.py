"""The virtual environment with numpy and scikit-learn that the evaluation scripts run in.

`ensure()` makes `.venv-fixtures` at the repository's top (pip install scikit-learn numpy) the
first time, and re-executes the calling script with its interpreter; inside it, it returns.
`ensure(extra=["scipy"])` also installs the packages a script needs beyond those.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv-fixtures")


def ensure(extra=()):
    python = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(python):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([python, "-m", "pip", "install", "-q", "scikit-learn", "numpy"])
    for package in extra:
        if subprocess.call([python, "-c", "import " + package], stderr=subprocess.DEVNULL) != 0:
            subprocess.check_call([python, "-m", "pip", "install", "-q", package])
    os.execv(python, [python] + sys.argv)
