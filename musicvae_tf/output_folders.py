"""The one "output folder must be new or empty" rule of the tools that write a whole folder
(music_vae_export, music_vae_personalize, music_vae_preprocess): nothing a user made is overwritten.

    check_new_or_empty(output_dir)        # ValueError (one line) unless new or an empty folder
    make_new_or_empty(output_dir)         # the same check, then the (local) folder is created
"""
import os


def _file_system(directory):
    # Remote folders (gs://..., Beam's outputs) through TensorFlow's file system; local ones directly.
    if "://" in os.fspath(directory):
        import tensorflow as tf

        return tf.io.gfile.exists, tf.io.gfile.isdir, tf.io.gfile.listdir
    return os.path.exists, os.path.isdir, os.listdir


def check_new_or_empty(directory, flag="--output_dir", error=ValueError):
    """Raises `error` (one line naming `flag`) when `directory` exists and is not an empty folder."""
    exists, isdir, listdir = _file_system(directory)
    if not exists(directory):
        return
    if not isdir(directory):
        raise error(f"{flag} {directory} exists and is not a directory")
    if listdir(directory):
        raise error(f"{flag} {directory} exists and is not empty; choose a new folder (nothing is overwritten)")


def make_new_or_empty(directory, flag="--output_dir", error=ValueError):
    """`check_new_or_empty`, then creates the (local) `directory` and its parents when it is new."""
    check_new_or_empty(directory, flag, error)
    os.makedirs(directory, exist_ok=True)
