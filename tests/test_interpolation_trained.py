"""Interpolation with a briefly trained model: the endpoints decode back to the (quantized) inputs.

A tiny cat-mel_2bar_small autoencoder is trained through the public API (training.optimizer
.make_optimizer, training.step.train_step) on two hand-written 2-bar melodies until its teacher-forced
accuracy is 1.0. Greedy decoding of each input's mean code then reproduces that input exactly,
so the first and last steps of an interpolation must equal the inputs note for note, both through
TrainedModel.interpolate and through the installed `music_vae_generate` console script.
"""
import glob
import os
import subprocess

import note_seq
import numpy as np
import pytest

from conftest import console_command

# ~60 s on a loaded 2-core machine (TensorFlow start-up, ~100 training steps, a subprocess).
pytestmark = pytest.mark.slow

CONFIG = "cat-mel_2bar_small"
# Wide enough LSTMs to memorise two melodies in ~100 Adam steps; no KL pressure to speak of and
# pure teacher forcing, so the training objective is plain reconstruction.
HPARAMS = ("z_size=8,enc_rnn_size=[64],dec_rnn_size=[64],free_bits=0,max_beta=0.0001,"
           "sampling_schedule=constant,sampling_rate=0,learning_rate=0.03")
MAX_TRAIN_STEPS = 600
STEPS_PER_QUARTER = 4
SECONDS_PER_STEP = 0.125  # a 16th note at 120 qpm
NUM_STEPS = 5
COLD = 1e-4

# (pitch, start step, end step) on the 16th-note grid; 32 steps = 2 bars of 4/4. Both have
# repeated pitches (re-struck notes) and rests, and differ in contour and rhythm.
MELODY_A = [(60, 0, 2), (60, 2, 4), (64, 4, 8), (67, 8, 10), (67, 10, 12), (65, 12, 14),
            (64, 14, 16), (62, 16, 20), (62, 22, 24), (60, 24, 26), (59, 26, 28), (60, 28, 32)]
MELODY_B = [(72, 0, 4), (71, 4, 6), (69, 6, 8), (67, 8, 9), (67, 9, 10), (69, 10, 12),
            (64, 14, 16), (65, 16, 18), (65, 18, 20), (65, 20, 22), (67, 22, 24), (72, 24, 28),
            (72, 28, 32)]


def _note_sequence(notes):
    sequence = note_seq.NoteSequence()
    sequence.tempos.add(qpm=120)
    sequence.time_signatures.add(numerator=4, denominator=4)
    sequence.ticks_per_quarter = 220
    for pitch, start, end in notes:
        sequence.notes.add(pitch=pitch, start_time=start * SECONDS_PER_STEP,
                           end_time=end * SECONDS_PER_STEP, velocity=80)
    sequence.total_time = 32 * SECONDS_PER_STEP
    return sequence


def _quantized_notes(sequence):
    """[(pitch, start step, end step)] of `sequence` quantized to 16th notes, in time order."""
    quantized = note_seq.quantize_note_sequence(sequence, STEPS_PER_QUARTER)
    notes = sorted(quantized.notes, key=lambda n: (n.quantized_start_step, n.pitch))
    return [(n.pitch, n.quantized_start_step, n.quantized_end_step) for n in notes]


def _assert_valid_melody(sequence, converter):
    notes = _quantized_notes(sequence)
    assert notes, "an interpolated melody is empty"
    for (pitch, start, end), following in zip(notes, notes[1:] + [None]):
        assert 0 <= start < end <= 32
        assert converter._min_pitch <= pitch <= converter._max_pitch
        if following is not None:
            assert end <= following[1], f"overlapping notes in a monophonic melody: {notes}"
    # It is itself a valid input for the config: exactly one 2-bar example.
    assert len(converter.to_tensors(sequence).inputs) == 1


@pytest.fixture(scope="module")
def melodies(tmp_path_factory):
    folder = tmp_path_factory.mktemp("interpolation_inputs")
    result = {}
    for name, notes in (("a", MELODY_A), ("b", MELODY_B)):
        sequence = _note_sequence(notes)
        path = str(folder / f"{name}.mid")
        note_seq.sequence_proto_to_midi_file(sequence, path)
        result[name] = (sequence, path)
    return result


@pytest.fixture(scope="module")
def trained_checkpoint(melodies, tmp_path_factory):
    """Trains the tiny model to reconstruct both melodies; -> (checkpoint dir, training steps)."""
    import keras
    import tensorflow as tf

    from musicvae_tf import checkpoints, configs
    from musicvae_tf.model import build_model
    from musicvae_tf.training.optimizer import make_optimizer
    from musicvae_tf.training.step import train_step as training_step

    config = configs.get_config(CONFIG, HPARAMS)
    converter = config.data_converter
    converter.set_mode("infer")
    examples = [converter.to_tensors(melodies[name][0]) for name in ("a", "b")]
    assert [len(e.inputs) for e in examples] == [1, 1]
    repeats = 2  # a batch of four: a, b, a, b
    inputs = np.tile(np.stack([e.inputs[0] for e in examples]), (repeats, 1, 1)).astype(np.float32)
    outputs = np.tile(np.stack([e.outputs[0] for e in examples]), (repeats, 1, 1)).astype(np.float32)
    lengths = np.tile([e.lengths[0] for e in examples], repeats).astype(np.int32)
    controls = np.zeros(inputs.shape[:2] + (0,), np.float32)
    batch = tuple(tf.constant(t) for t in (inputs, outputs, controls, lengths))

    keras.utils.set_random_seed(0)
    model = build_model(config, config_name=CONFIG)
    optimizer = make_optimizer(model.hparams)
    # z = mu: the decoder learns from exactly the codes interpolation decodes at its endpoints.
    z_noise = tf.zeros([inputs.shape[0], model.z_size])

    @tf.function(autograph=False)
    def train_step(step):
        metrics = training_step(model, optimizer, batch, step, z_noise=z_noise,
                                seed=tf.stack([tf.cast(step, tf.int32), 7]))
        return metrics["accuracy"]

    @tf.function(autograph=False)
    def teacher_forced_accuracy():
        _, metrics = model.compute_loss(batch, 0, training=False, z_noise=z_noise)
        return metrics["accuracy"]

    steps = 0
    while steps < MAX_TRAIN_STEPS:
        # The metric is computed before the update; confirm on the updated weights.
        accuracy = float(train_step(tf.constant(steps, tf.int64)))
        steps += 1
        if accuracy == 1.0 and float(teacher_forced_accuracy()) == 1.0:
            break
    assert float(teacher_forced_accuracy()) == 1.0, f"not converged after {steps} steps"
    directory = str(tmp_path_factory.mktemp("trained") / "cat-mel_memorised")
    checkpoints.save_model(model, directory)
    print(f"trained to teacher-forced accuracy 1.0 in {steps} steps")
    return directory, steps


def test_trained_model_interpolation_endpoints_are_the_inputs(melodies, trained_checkpoint):
    from musicvae_tf import configs
    from musicvae_tf.trained_model import TrainedModel

    directory, _ = trained_checkpoint
    model = TrainedModel(configs.get_config(CONFIG), batch_size=NUM_STEPS,
                         checkpoint_dir_or_path=directory)
    assert model.model.hparams.dec_rnn_size == [64]  # the saved hparams, not the config's
    a, b = melodies["a"][0], melodies["b"][0]
    results = model.interpolate(a, b, num_steps=NUM_STEPS, length=32, temperature=COLD)
    assert len(results) == NUM_STEPS
    assert _quantized_notes(results[0]) == MELODY_A
    assert _quantized_notes(results[-1]) == MELODY_B
    converter = model.config.data_converter
    for sequence in results[1:-1]:
        _assert_valid_melody(sequence, converter)
    # The inputs' round trip through the converter is lossless, so "quantized inputs" == inputs.
    assert _quantized_notes(a) == MELODY_A


def test_cli_interpolation_endpoints_are_the_inputs(melodies, trained_checkpoint, tmp_path):
    from musicvae_tf import configs

    directory, _ = trained_checkpoint
    out = tmp_path / "out"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    result = subprocess.run(
        [*console_command("music_vae_generate"), "--mode=interpolate", f"--checkpoint_file={directory}",
         f"--input_midi_1={melodies['a'][1]}", f"--input_midi_2={melodies['b'][1]}",
         f"--num_outputs={NUM_STEPS}", f"--temperature={COLD}", f"--output_dir={out}"],
        capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    midis = sorted(glob.glob(str(out / "*.mid")))
    assert len(midis) == NUM_STEPS and all("_interpolate_" in m for m in midis)
    sequences = [note_seq.midi_file_to_note_sequence(path) for path in midis]
    assert _quantized_notes(sequences[0]) == _quantized_notes(
        note_seq.midi_file_to_note_sequence(melodies["a"][1])) == MELODY_A
    assert _quantized_notes(sequences[-1]) == _quantized_notes(
        note_seq.midi_file_to_note_sequence(melodies["b"][1])) == MELODY_B
    converter = configs.get_config(CONFIG).data_converter
    converter.set_mode("infer")
    for sequence in sequences[1:-1]:
        _assert_valid_melody(sequence, converter)
