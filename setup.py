"""Packaging for musicvae-tf: a Keras 3 / TensorFlow 2 port of Magenta's MusicVAE."""
import pathlib

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent

# music_vae_preprocess and music_vae_convert --runner. apache-beam 2.77 wants protobuf < 7 and
# TensorFlow 2.21 protobuf >= 6.31.1, so pip settles on protobuf 6.33.x; the lower bound keeps pip
# from backtracking to old Beam releases whose protobuf pins conflict with TensorFlow's.
# google-crc32c: Beam's fast TFRecord checksum (without it Beam falls back to pure Python).
BEAM = ["apache-beam>=2.77,<3", "protobuf>=6.31.1,<7", "google-crc32c"]

setup(
    name="musicvae-tf",
    version="0.1.0",
    description="MusicVAE (Roberts et al., 2018) in Keras 3 / TensorFlow 2, a drop-in for Magenta's music_vae",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["musicvae_tf", "musicvae_tf.*"]),
    include_package_data=True,
    package_data={"musicvae_tf": ["data/folk/*.tfrecord", "data/folk/*.tfrecord.gz", "data/folk/*.json",
                                 "data/chorales/*.tfrecord.gz", "data/chorales/*.json",
                                 "pretrained/*", "pretrained/*/*", "export/site_template/*"]},
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.0",
        "note-seq>=0.0.5",
        "numpy",
        # ml_dtypes 0.7.0 (TensorFlow's and Keras' numpy dtypes) registers its ufunc loops in time
        # quadratic in their number: `import ml_dtypes` took 1.1 s of music_vae_generate's 5.7 s
        # start on a 2-core Xeon (0.10 s with 0.6.0; perf: numpy's PyUFunc_AddLoop comparing loop
        # tuples). TensorFlow 2.21 accepts >=0.5.1.
        "ml_dtypes>=0.5.1,<0.7",
        "absl-py",
        "matplotlib",  # piano-roll pictures (--plot, music_vae_quickstart)
        "pedalboard>=0.9",  # music_vae_lofi's audio effects and overlay files (Spotify; wheels for 3.10-3.13)
        "scipy",  # the tape-hiss filter of music_vae_lofi (also a note-seq dependency)
    ],
    extras_require={
        # music21 parses the public-domain folk tunes used by round-trip tests and the folk-data builder;
        # Beam is in the test extra so that the README's test command (and CI) runs the pipeline tests.
        "test": ["pytest", "music21"] + BEAM,
        "folk": ["music21"],
        "beam": BEAM,
    },
    entry_points={
        "console_scripts": [
            "music_vae_train=musicvae_tf.cli.train:console_entry_point",
            "music_vae_generate=musicvae_tf.cli.generate:console_entry_point",
            "music_vae_convert=musicvae_tf.cli.convert:console_entry_point",
            "music_vae_quickstart=musicvae_tf.cli.quickstart:console_entry_point",
            "music_vae_evaluate=musicvae_tf.cli.evaluate:console_entry_point",
            "music_vae_lofi=musicvae_tf.cli.lofi:console_entry_point",
            "music_vae_export=musicvae_tf.cli.export:console_entry_point",
            "music_vae_web=musicvae_tf.cli.web:console_entry_point",
            "music_vae_preprocess=musicvae_tf.cli.preprocess:console_entry_point",
            "music_vae_personalize=musicvae_tf.cli.personalize:console_entry_point",
        ],
    },
)
