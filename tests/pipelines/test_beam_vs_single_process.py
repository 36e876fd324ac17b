"""The Apache Beam pipelines on DirectRunner with two workers, against the single-process paths.

Two workers as threads by default (each step's bundles run in parallel, in any order, through
Beam's Fn API with pickled DoFns); as two worker processes (each imports TensorFlow: minutes on 2
cores) when opt-in tests run (MUSICVAE_TF_OPT_IN_TESTS=1).

- music_vae_convert --runner: the NoteSequences (sorted by id) and the list of skipped files equal
  those of the single-process converter, on a corpus with unreadable files (the run survives them).
- music_vae_preprocess: the unique examples of the config's converter over every NoteSequence,
  exact tensors, duplicates merged with their source ids, split by the stable hash; then
  get_dataset and music_vae_train read the output directly.
Beam is in the test extra; without it these tests skip.
"""

import contextlib
import io
import os
import shutil
import subprocess

import numpy as np
import pytest

beam = pytest.importorskip("apache_beam", reason='Apache Beam is not installed (pip install -e ".[test]" '
                                                 "includes it; or .[beam])")
import note_seq  # noqa: E402
import tensorflow as tf  # noqa: E402

from conftest import PARITY_DIR, console_command  # noqa: E402
from kit import absl_messages  # noqa: E402

from musicvae_tf import configs, data  # noqa: E402
from musicvae_tf.cli import convert as convert_cli, preprocess as preprocess_cli, train as train_cli  # noqa: E402
from musicvae_tf.data import example_records  # noqa: E402
from musicvae_tf.pipelines import beam_runner, preprocess  # noqa: E402

MELODIES = PARITY_DIR / "sources" / "folk_melody_source.tfrecord"
TRIOS = PARITY_DIR / "sources" / "trio_source.tfrecord"
MODES = ["multi_threading", pytest.param("multi_processing", marks=pytest.mark.opt_in)]
BAD_ABC = "X:1\nT:fine\nM:4/4\nL:1/8\nK:G\nGABc dedB|\n\nX:2\nT:broken\nM:4/4\nK:Zz\nG((]\n"


def _records(pattern):
    files = sorted(tf.io.gfile.glob(str(pattern)))
    out = []
    for filename in files:
        compression = "GZIP" if filename.endswith(".gz") else ""
        out.extend(tf.data.TFRecordDataset(filename, compression_type=compression).as_numpy_iterator())
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Real tunes as MIDI files (two folders deep), plus files no reader can read."""
    root = tmp_path_factory.mktemp("beam") / "tunes"
    (root / "more").mkdir(parents=True)
    sequences = [note_seq.NoteSequence.FromString(r) for r in _records(MELODIES) + _records(TRIOS)]
    for i, sequence in enumerate(sequences):
        folder = root / "more" if i % 3 == 0 else root
        note_seq.sequence_proto_to_midi_file(sequence, str(folder / f"tune{i:02d}.mid"))
    (root / "empty.mid").write_bytes(b"")
    (root / "garbage.mid").write_bytes(b"MThd\x00\x00\x00\x06not a midi file")
    whole = (root / "tune01.mid").read_bytes()
    (root / "more" / "truncated.midi").write_bytes(whole[:len(whole) // 3])
    (root / "book.abc").write_text(BAD_ABC)
    (root / "notes.txt").write_text("not music")
    return root, len(sequences)


def _run(tool, *args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(console_command(tool) + list(args), capture_output=True, text=True, env=env,
                          timeout=900)


def _run_in_process(tool, *args):
    """A console tool's main in this process (TensorFlow already imported); its stderr as text."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = tool.run_command([tool.PROGRAM, *args])
    return subprocess.CompletedProcess(args, code, "", stderr.getvalue())


def _skipped_lines(stderr):
    return [line.strip() for line in stderr.splitlines() if line.startswith("  ")]


def _two_workers(mode):
    return ["--direct_num_workers=2", f"--direct_running_mode={mode}"]


@pytest.mark.parametrize("mode", MODES)
def test_beam_convert_equals_the_single_process_convert(corpus, tmp_path, mode):
    root, num_tunes = corpus
    single, beamed = tmp_path / "single.tfrecord", tmp_path / "beam.tfrecord"
    # The single-process tool in this process (its own tests run it as a console script); the Beam
    # path as a user starts it.
    plain = _run_in_process(convert_cli, f"--input_dir={root}", f"--output_file={single}", "--recursive")
    assert plain.returncode == 0, plain.stderr
    run = _run("music_vae_convert", f"--input_dir={root}", f"--output_file={beamed}", "--recursive",
               "--runner=DirectRunner", "--", *_two_workers(mode))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr

    single_sequences = sorted((note_seq.NoteSequence.FromString(r) for r in _records(single)),
                              key=lambda s: s.id)
    beam_sequences = sorted((note_seq.NoteSequence.FromString(r) for r in _records(beamed)),
                            key=lambda s: s.id)
    # Every readable tune plus the one good tune of the ABC book.
    assert len(single_sequences) == num_tunes + 1
    assert [s.id for s in beam_sequences] == [s.id for s in single_sequences]
    assert beam_sequences == single_sequences
    # The same skipped files, in the same (file) order, counted in the same summary line.
    skipped = _skipped_lines(plain.stderr)
    assert len(skipped) == 4 and _skipped_lines(run.stderr) == skipped
    assert [line.split(":")[0] for line in skipped] == ["book.abc", "empty.mid", "garbage.mid",
                                                       os.path.join("more", "truncated.midi")]
    summary = f"Wrote {num_tunes + 1} NoteSequences from {num_tunes + 1} files"
    assert summary in plain.stderr and summary in run.stderr
    assert not list(tmp_path.glob("*skipped*")) and not list(tmp_path.glob("beam-temp*"))


@pytest.fixture(scope="module", params=MODES)
def preprocessed(tmp_path_factory, request):
    """music_vae_preprocess over the melody fixture, a plain copy of 3 of its records and a gzip one."""
    work = tmp_path_factory.mktemp("preprocess")
    records = _records(MELODIES)
    inputs = work / "inputs"
    inputs.mkdir()
    shutil.copy(MELODIES, inputs / "notes-0.tfrecord")
    with tf.io.TFRecordWriter(str(inputs / "notes-1.tfrecord"), options="GZIP") as writer:
        for record in records[:3]:  # the same NoteSequences again: their examples are duplicates
            writer.write(record)
    output = work / "examples"
    # In this process (the driver); in multi_processing mode the two workers are processes of their own.
    run = _run_in_process(preprocess_cli, "--config=cat-mel_2bar_small", f"--input={inputs}/notes-*.tfrecord",
                          f"--output_dir={output}", "--eval_fraction=0.3", "--runner=DirectRunner", "--",
                          *_two_workers(request.param))
    return records, output, run


def test_preprocess_writes_every_unique_example_once(preprocessed):
    records, output, run = preprocessed
    assert run.returncode == 0, run.stderr
    extractor = preprocess.ExampleExtractor(configs.get_config("cat-mel_2bar_small").data_converter)
    expected, counts = {}, {}

    def count(name, n=1):
        counts[name] = counts.get(name, 0) + n

    for record in records + records[:3]:
        source = note_seq.NoteSequence.FromString(record).id
        for key, payload in extractor(record, count):
            expected.setdefault(key, (payload, set()))[1].add(source)
    written = {}
    for split in preprocess.SPLITS:
        for record in _records(output / f"{split}-*.tfrecord.gz"):
            example = example_records.decode_example(record)
            key = example_records.example_key(example["inputs"], example["outputs"], example["controls"],
                                              example["lengths"][0])
            assert key not in written
            written[key] = (split, example)
    assert set(written) == set(expected) and len(written) > 40
    assert counts["examples"] > len(written)  # the duplicated records' examples were merged
    for key, (split, example) in written.items():
        payload, sources = expected[key]
        want = example_records.decode_example(payload)
        np.testing.assert_array_equal(example["inputs"], want["inputs"])
        np.testing.assert_array_equal(example["outputs"], want["outputs"])
        assert example["source_ids"] == sorted(sources)
        assert split == preprocess.split_of(example["source_ids"], 0.3)
        assert note_seq.NoteSequence.FromString(example["note_sequence"]).notes
    splits = [split for split, _ in written.values()]
    assert 0 < splits.count("eval") < len(splits)
    summary = [line for line in run.stderr.splitlines() if line.startswith("Wrote ")]
    assert len(summary) == 1 and f"{splits.count('train')} train and {splits.count('eval')} eval examples" \
        in summary[0], run.stderr


def test_training_reads_preprocessed_examples(preprocessed, tmp_path):
    _, output, run = preprocessed
    assert run.returncode == 0, run.stderr
    config = configs.get_config("cat-mel_2bar_small", "batch_size=4")
    eval_files = str(output / "eval-*.tfrecord.gz")
    first = next(iter(data.get_dataset(config, is_training=False, examples_path=eval_files)))
    stored = [example_records.decode_example(r) for r in _records(eval_files)[:4]]
    for i, example in enumerate(stored):
        steps = len(example["inputs"])
        np.testing.assert_array_equal(first[0].numpy()[i, :steps], example["inputs"].astype(bool))
        assert int(first[3].numpy()[i]) == int(example["lengths"][0])
    config.data_converter.set_mode("eval")
    assert data.count_examples(eval_files, config.data_converter) == len(_records(eval_files))

    tiny = "batch_size=4,z_size=8,enc_rnn_size=[16],dec_rnn_size=[16]"
    with absl_messages() as logged:
        train = _run_in_process(train_cli, "--config=cat-mel_2bar_small", f"--run_dir={tmp_path / 'run'}",
                                f"--examples_path={output}/train-*.tfrecord.gz", f"--hparams={tiny}",
                                "--num_steps=2", "--log_every_n_steps=1")
    assert train.returncode == 0, train.stderr
    assert any("Reading preprocessed examples" in line for line in logged), logged
    assert (tmp_path / "run" / "train" / "ckpt-2.index").exists()

    # Fewer evaluation examples than one batch: one line that counts them.
    small = _run_in_process(train_cli, "--config=cat-mel_2bar_small", f"--run_dir={tmp_path / 'run'}", "--mode=eval",
                            f"--examples_path={eval_files}", f"--hparams={tiny.replace('batch_size=4', 'batch_size=5000')}",
                            "--eval_once")
    assert small.returncode == 1
    assert small.stderr.strip().splitlines()[-1] == (
        f"music_vae_train: error: no evaluation batch: {eval_files} holds {len(_records(eval_files))} "
        "preprocessed examples, fewer than batch_size=5000"), small.stderr


def test_unknown_pipeline_option_is_one_line(tmp_path):
    with pytest.raises(beam_runner.PipelineOptionsError) as raised:
        beam_runner.make_options("DirectRunner", extra_args=["--direct_num_wokers=2"])
    assert str(raised.value) == ("unknown Beam pipeline option --direct_num_wokers=2 "
                                 "(did you mean --direct_num_workers?)")



def test_read_only_output_dir_is_one_line_before_the_pipeline(small_disk):
    read_only = small_disk(64, read_only=True)
    flags = ["--config=cat-mel_2bar_small", f"--input={MELODIES}"]
    # The folder itself (Beam used to log a traceback first) through the console script; a new folder
    # in it (a PermissionDeniedError traceback) in this process.
    runs = [subprocess.run(console_command("music_vae_preprocess") + flags + [f"--output_dir={read_only}"],
                           capture_output=True, text=True, timeout=300),
            _run_in_process(preprocess_cli, *flags, f"--output_dir={read_only / 'examples'}")]
    for result, output_dir in zip(runs, (read_only, read_only / "examples")):
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            f"music_vae_preprocess: error: cannot write to --output_dir {output_dir}: Read-only file system"], \
            result.stderr
    assert os.listdir(read_only) == []
