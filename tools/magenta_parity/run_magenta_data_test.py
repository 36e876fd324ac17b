"""Runs Magenta's own converter tests (magenta/models/music_vae/data_test.py) against musicvae_tf.

    python tools/magenta_parity/run_magenta_data_test.py --magenta_path /path/to/magenta-checkout
    python tools/magenta_parity/run_magenta_data_test.py --magenta_path ... -k Groove

Run it with the project's Python (musicvae_tf, TensorFlow, note-seq and pytest installed), not
Magenta's venv: the test file is Magenta's, everything it tests is this port. A temporary folder
gets a copy of data_test.py and three stand-in modules, nothing else of Magenta:
  magenta/models/music_vae/data.py      -> musicvae_tf.converters + musicvae_tf.data's pipeline
  magenta/models/music_vae/configs.py   -> musicvae_tf.configs (Config)
  magenta/contrib/training.py           -> musicvae_tf.hparams (HParams)
GetDatasetTest is left out (it mocks TF1 file functions the port does not call; see DESELECTED). The folder is deleted afterwards. Extra arguments go to pytest. Not run in CI (needs a Magenta
checkout).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

DATA_TEST = os.path.join("magenta", "models", "music_vae", "data_test.py")

STAND_INS = {
    "magenta/__init__.py": "",
    "magenta/contrib/__init__.py": "",
    "magenta/contrib/training.py": "from musicvae_tf.hparams import HParams  # noqa: F401\n",
    "magenta/models/__init__.py": "",
    "magenta/models/music_vae/__init__.py": "",
    "magenta/models/music_vae/configs.py": "from musicvae_tf.configs import *  # noqa: F401,F403\n"
                                           "from musicvae_tf.configs import Config  # noqa: F401\n",
    "magenta/models/music_vae/data.py": "from musicvae_tf.converters import *  # noqa: F401,F403\n"
                                        "from musicvae_tf.converters import np_onehot  # noqa: F401\n"
                                        "from musicvae_tf.data.dataset import *  # noqa: F401,F403\n",
}
# GetDatasetTest mocks TF1's tf.gfile.Glob and tf.compat.v1 Dataset methods, which the port's TF2
# pipeline does not call, so it would read a file named "some_file". tests/data_pipeline checks the
# same thing (get_dataset with hparams that have no max_seq_len) on real files.
DESELECTED = ["data_test.py::GetDatasetTest"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--magenta_path", required=True, help="checkout of github.com/magenta/magenta")
    args, pytest_args = parser.parse_known_args(argv)
    source = os.path.join(os.path.abspath(args.magenta_path), DATA_TEST)
    if not os.path.isfile(source):
        parser.error(f"no {DATA_TEST} under --magenta_path {args.magenta_path}")
    folder = tempfile.mkdtemp(prefix="magenta_data_test_")
    try:
        for relative, text in STAND_INS.items():
            path = os.path.join(folder, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as handle:
                handle.write(text)
        shutil.copy(source, os.path.join(folder, "data_test.py"))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([folder, os.environ.get("PYTHONPATH", "")]))
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", folder,
                   os.path.join(folder, "data_test.py")] + [f"--deselect={d}" for d in DESELECTED] + pytest_args
        return subprocess.run(command, cwd=folder, env=env, check=False).returncode
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
