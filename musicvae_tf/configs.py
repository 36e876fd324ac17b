"""Every MusicVAE configuration of Magenta, under the same names and with the same values.

    from musicvae_tf import configs
    config = configs.CONFIG_MAP['cat-mel_2bar_small']
    config.hparams.parse('batch_size=64')

A `Config` has Magenta's fields. The one difference: `config.model` is a
`musicvae_tf.model_spec.ModelSpec` (a description of the architecture) rather than an
unbuilt TF1 model object; `musicvae_tf.model.build_model(config)` builds the Keras model.
Each config gets its own converter instance (Magenta shared some between configs; converters
carry a mode, so sharing invites surprises).

Each config carries a one-line `description` of what it models and the `train_command` that
trains it, e.g. `configs.CONFIG_MAP['cat-mel_2bar_small'].train_command`; the README's table
of configs is made from them (scripts/config_table.py). Without --examples_path, training uses
the folk tunes packaged with musicvae_tf.
"""

import collections
import difflib

import note_seq

from musicvae_tf.converters import (
    FULL_DRUM_PITCH_CLASSES,
    MEL_PROGRAMS,
    REDUCED_DRUM_PITCH_CLASSES,
    ROLAND_DRUM_PITCH_CLASSES,
    DrumsConverter,
    GrooveConverter,
    MultiInstrumentPerformanceConverter,
    NoteSequenceAugmenter,
    OneHotMelodyConverter,
    TrioConverter,
)
from musicvae_tf.hparams import HParams, merge_hparams
from musicvae_tf.model_spec import DecoderSpec, EncoderSpec, ModelSpec


class Config(collections.namedtuple(
        "Config",
        ["model", "hparams", "note_sequence_augmenter", "data_converter",
         "train_examples_path", "eval_examples_path", "tfds_name", "description", "train_command"])):
    """A MusicVAE configuration: Magenta's fields and behaviour, plus a one-line `description` of
    what it models and the `train_command` that trains it."""

    def values(self):
        return self._asdict()


Config.__new__.__defaults__ = (None,) * len(Config._fields)


def update_config(config, update_dict):
    """Returns a copy of `config` with the fields in `update_dict` replaced."""
    unknown = set(update_dict) - set(Config._fields)
    if unknown:
        raise ValueError(f"unknown Config field(s): {', '.join(sorted(unknown))}")
    config_dict = config.values()
    config_dict.update(update_dict)
    return Config(**config_dict)


# Training hparams Magenta does not have, at defaults that train exactly as Magenta does.
EXTENSION_HPARAMS = dict(
    word_dropout_rate=0.0,  # Share of the decoder's fed-back inputs zeroed in training (model.word_dropout).
    # Weight of 0.5 * |batch mean of mu|^2, added to the loss outside the free bits: a code offset
    # shared by every example carries nothing, yet free bits let it grow (model.compute_loss).
    latent_mean_penalty=0.0,
)


def default_hparams():
    """Magenta's defaults: base_model's training hparams plus lstm_models' architecture hparams
    (and EXTENSION_HPARAMS)."""
    return HParams(
        max_seq_len=32,  # Longer sequences are truncated.
        z_size=32,  # Size of the latent code.
        free_bits=0.0,  # KL bits per dimension that cost nothing.
        max_beta=1.0,  # KL weight reached at the end of annealing.
        beta_rate=0.0,  # Annealing rate: beta = (1 - beta_rate**step) * max_beta.
        batch_size=512,
        grad_clip=1.0,
        clip_mode="global_norm",  # 'global_norm' or 'value'.
        # With global_norm clipping, a gradient whose norm exceeds this is zeroed (step skipped).
        grad_norm_clip_to_zero=10000,
        learning_rate=0.001,
        decay_rate=0.9999,  # Learning-rate decay per step.
        min_learning_rate=0.00001,
        conditional=True,  # Whether the decoder is conditioned on z.
        dec_rnn_size=[512],  # Units per decoder LSTM layer.
        enc_rnn_size=[256],  # Units per encoder LSTM layer, per direction.
        dropout_keep_prob=1.0,
        sampling_schedule="constant",  # 'constant', 'exponential' or 'inverse_sigmoid'.
        sampling_rate=0.0,  # Meaning depends on sampling_schedule.
        **EXTENSION_HPARAMS,
        use_cudnn=False,  # Deprecated in Magenta; accepted and ignored.
        residual_encoder=False,
        residual_decoder=False,
        control_preprocessing_rnn_size=[256],
    )


def _hparams(**overrides):
    return merge_hparams(default_hparams(), HParams(**overrides))


def _model(encoder, decoder):
    return ModelSpec(encoder=encoder, decoder=decoder)


_BIDIRECTIONAL = EncoderSpec("BidirectionalLstmEncoder")
_CATEGORICAL = DecoderSpec("CategoricalLstmDecoder")
_TRIO_DEPTHS = (90, 90, 512)  # melody, bass, drums


def _hierarchical_encoder(level_lengths):
    return EncoderSpec("HierarchicalLstmEncoder", core_encoder="BidirectionalLstmEncoder",
                       level_lengths=tuple(level_lengths))


def _hierarchical_decoder(core_decoder, level_lengths):
    return DecoderSpec("HierarchicalLstmDecoder", core_decoder=core_decoder,
                       level_lengths=tuple(level_lengths), disable_autoregression=True)


_SPLIT_TRIO_DECODER = DecoderSpec("SplitMultiOutLstmDecoder",
                                  core_decoders=(_CATEGORICAL,) * 3, output_depths=_TRIO_DEPTHS)

CONFIG_MAP = {}

# ---------------------------------------------------------------------------------------------
# 2-bar melodies (monophonic, 90 classes: 88 pitches + note-off + no-event).
# ---------------------------------------------------------------------------------------------


def _mel_2bar_converter():
    return OneHotMelodyConverter(valid_programs=MEL_PROGRAMS, skip_polyphony=False, max_bars=100,
                                 slice_bars=2, steps_per_quarter=4)


CONFIG_MAP["cat-mel_2bar_small"] = Config(
    description="2-bar monophonic melody, small",
    train_command=("music_vae_train --config=cat-mel_2bar_small --run_dir=/tmp/cat-mel_2bar_small "
                   "--mode=train"),
    model=_model(_BIDIRECTIONAL, _CATEGORICAL),
    hparams=_hparams(batch_size=512, max_seq_len=32, z_size=256, enc_rnn_size=[512],
                     dec_rnn_size=[256, 256], free_bits=0, max_beta=0.2, beta_rate=0.99999,
                     sampling_schedule="inverse_sigmoid", sampling_rate=1000),
    note_sequence_augmenter=NoteSequenceAugmenter(transpose_range=(-5, 5)),
    data_converter=_mel_2bar_converter(),
)

CONFIG_MAP["cat-mel_2bar_big"] = Config(
    description="2-bar monophonic melody, big",
    train_command=("music_vae_train --config=cat-mel_2bar_big --run_dir=/tmp/cat-mel_2bar_big "
                   "--mode=train"),
    model=_model(_BIDIRECTIONAL, _CATEGORICAL),
    hparams=_hparams(batch_size=512, max_seq_len=32, z_size=512, enc_rnn_size=[2048],
                     dec_rnn_size=[2048, 2048, 2048], free_bits=0, max_beta=0.5,
                     beta_rate=0.99999, sampling_schedule="inverse_sigmoid", sampling_rate=1000),
    note_sequence_augmenter=NoteSequenceAugmenter(transpose_range=(-5, 5)),
    data_converter=_mel_2bar_converter(),
)

# 2-bar melodies conditioned on triad chords (controls: 49-way chord one-hot per step).
CONFIG_MAP["cat-mel_2bar_med_chords"] = Config(
    description="2-bar melody conditioned on triad chords",
    train_command=("music_vae_train --config=cat-mel_2bar_med_chords --run_dir=/tmp/cat-mel_2bar_med_chords "
                   "--mode=train --examples_path=notes.tfrecord"),
    model=_model(_BIDIRECTIONAL, _CATEGORICAL),
    hparams=_hparams(batch_size=512, max_seq_len=32, z_size=256, enc_rnn_size=[1024],
                     dec_rnn_size=[512, 512, 512]),
    note_sequence_augmenter=NoteSequenceAugmenter(transpose_range=(-3, 3)),
    data_converter=OneHotMelodyConverter(max_bars=100, slice_bars=2, steps_per_quarter=4,
                                         chord_encoding=note_seq.TriadChordOneHotEncoding()),
)

# ---------------------------------------------------------------------------------------------
# 2-bar drum loops: 9 drum classes as a 512-way one-hot (cat) or a multi-label roll (nade).
# ---------------------------------------------------------------------------------------------
_DRUMS_HPARAMS = dict(batch_size=512, max_seq_len=32, free_bits=48, max_beta=0.2,
                      sampling_schedule="inverse_sigmoid", sampling_rate=1000)

CONFIG_MAP["cat-drums_2bar_small"] = Config(
    description="2-bar drum loop, 9 classes as 512-way one-hot, small",
    train_command=("music_vae_train --config=cat-drums_2bar_small --run_dir=/tmp/cat-drums_2bar_small "
                   "--mode=train --examples_path=notes.tfrecord"),
    model=_model(_BIDIRECTIONAL, _CATEGORICAL),
    hparams=_hparams(z_size=256, enc_rnn_size=[512], dec_rnn_size=[256, 256], **_DRUMS_HPARAMS),
    data_converter=DrumsConverter(max_bars=100, slice_bars=2, steps_per_quarter=4, roll_input=True),
)

CONFIG_MAP["cat-drums_2bar_big"] = Config(
    description="2-bar drum loop, 9 classes as 512-way one-hot, big",
    train_command=("music_vae_train --config=cat-drums_2bar_big --run_dir=/tmp/cat-drums_2bar_big "
                   "--mode=train --examples_path=notes.tfrecord"),
    model=_model(_BIDIRECTIONAL, _CATEGORICAL),
    hparams=_hparams(z_size=512, enc_rnn_size=[2048], dec_rnn_size=[2048, 2048, 2048],
                     **_DRUMS_HPARAMS),
    data_converter=DrumsConverter(max_bars=100, slice_bars=2, steps_per_quarter=4, roll_input=True),
)

_NADE_DECODER = DecoderSpec("MultiLabelRnnNadeDecoder")

CONFIG_MAP["nade-drums_2bar_reduced"] = Config(
    description="2-bar drum loop, 9-class roll decoded by an RNN-NADE",
    train_command=("music_vae_train --config=nade-drums_2bar_reduced --run_dir=/tmp/nade-drums_2bar_reduced "
                   "--mode=train --examples_path=notes.tfrecord"),
    model=_model(_BIDIRECTIONAL, _NADE_DECODER),
    hparams=_hparams(z_size=256, enc_rnn_size=[1024], dec_rnn_size=[512, 512], nade_num_hidden=128,
                     **_DRUMS_HPARAMS),
    data_converter=DrumsConverter(max_bars=100, slice_bars=2, steps_per_quarter=4, roll_input=True,
                                  roll_output=True),
)

# 61 General MIDI drum classes.
CONFIG_MAP["nade-drums_2bar_full"] = Config(
    description="2-bar drum loop, 61-class roll decoded by an RNN-NADE",
    train_command=("music_vae_train --config=nade-drums_2bar_full --run_dir=/tmp/nade-drums_2bar_full "
                   "--mode=train --examples_path=notes.tfrecord"),
    model=_model(_BIDIRECTIONAL, _NADE_DECODER),
    hparams=_hparams(z_size=256, enc_rnn_size=[1024], dec_rnn_size=[512, 512], nade_num_hidden=128,
                     **_DRUMS_HPARAMS),
    data_converter=DrumsConverter(max_bars=100, pitch_classes=FULL_DRUM_PITCH_CLASSES, slice_bars=2,
                                  steps_per_quarter=4, roll_input=True, roll_output=True),
)

# ---------------------------------------------------------------------------------------------
# 16-bar trios: melody + bass + drums (90 + 90 + 512 classes per step).
# ---------------------------------------------------------------------------------------------


def _trio_16bar_converter():
    return TrioConverter(steps_per_quarter=4, slice_bars=16, gap_bars=2)


CONFIG_MAP["flat-trio_16bar"] = Config(
    description="16-bar melody+bass+drums trio, flat decoder",
    train_command=("music_vae_train --config=flat-trio_16bar --run_dir=/tmp/flat-trio_16bar "
                   "--mode=train --examples_path=notes.tfrecord"),
    model=_model(_BIDIRECTIONAL, DecoderSpec("MultiOutCategoricalLstmDecoder",
                                             output_depths=_TRIO_DEPTHS)),
    hparams=_hparams(batch_size=256, max_seq_len=256, z_size=512, enc_rnn_size=[2048, 2048],
                     dec_rnn_size=[2048, 2048, 2048]),
    data_converter=_trio_16bar_converter(),
)

CONFIG_MAP["hierdec-trio_16bar"] = Config(
    description="16-bar trio, hierarchical (conductor) decoder",
    train_command=("music_vae_train --config=hierdec-trio_16bar --run_dir=/tmp/hierdec-trio_16bar "
                   "--mode=train --examples_path=notes.tfrecord"),
    model=_model(_BIDIRECTIONAL, _hierarchical_decoder(_SPLIT_TRIO_DECODER, [16, 16])),
    hparams=_hparams(batch_size=256, max_seq_len=256, z_size=512, enc_rnn_size=[2048, 2048],
                     dec_rnn_size=[1024, 1024], free_bits=256, max_beta=0.2),
    data_converter=_trio_16bar_converter(),
)

CONFIG_MAP["hier-trio_16bar"] = Config(
    description="16-bar trio, hierarchical encoder and decoder",
    train_command=("music_vae_train --config=hier-trio_16bar --run_dir=/tmp/hier-trio_16bar "
                   "--mode=train --examples_path=notes.tfrecord"),
    model=_model(_hierarchical_encoder([16, 16]),
                 _hierarchical_decoder(_SPLIT_TRIO_DECODER, [16, 16])),
    hparams=_hparams(batch_size=256, max_seq_len=256, z_size=512, enc_rnn_size=[1024],
                     dec_rnn_size=[1024, 1024], free_bits=256, max_beta=0.2),
    data_converter=_trio_16bar_converter(),
)

# ---------------------------------------------------------------------------------------------
# 16-bar melodies; hierdec/hier decode bar by bar from a conductor LSTM.
# ---------------------------------------------------------------------------------------------


def _mel_16bar_converter():
    return OneHotMelodyConverter(skip_polyphony=False, max_bars=100, slice_bars=16, steps_per_quarter=4)


CONFIG_MAP["flat-mel_16bar"] = Config(
    description="16-bar melody, flat decoder",
    train_command=("music_vae_train --config=flat-mel_16bar --run_dir=/tmp/flat-mel_16bar "
                   "--mode=train --examples_path=notes.tfrecord"),
    model=_model(_BIDIRECTIONAL, _CATEGORICAL),
    hparams=_hparams(batch_size=512, max_seq_len=256, z_size=512, enc_rnn_size=[2048, 2048],
                     dec_rnn_size=[2048, 2048, 2048], free_bits=256, max_beta=0.2),
    data_converter=_mel_16bar_converter(),
)

CONFIG_MAP["hierdec-mel_16bar"] = Config(
    description="16-bar melody, hierarchical (conductor) decoder",
    train_command=("music_vae_train --config=hierdec-mel_16bar --run_dir=/tmp/hierdec-mel_16bar "
                   "--mode=train --examples_path=notes.tfrecord"),
    model=_model(_BIDIRECTIONAL, _hierarchical_decoder(_CATEGORICAL, [16, 16])),
    hparams=_hparams(batch_size=512, max_seq_len=256, z_size=512, enc_rnn_size=[2048, 2048],
                     dec_rnn_size=[1024, 1024], free_bits=256, max_beta=0.2),
    data_converter=_mel_16bar_converter(),
)

CONFIG_MAP["hier-mel_16bar"] = Config(
    description="16-bar melody, hierarchical encoder and decoder",
    train_command=("music_vae_train --config=hier-mel_16bar --run_dir=/tmp/hier-mel_16bar "
                   "--mode=train --examples_path=notes.tfrecord"),
    model=_model(_hierarchical_encoder([16, 16]), _hierarchical_decoder(_CATEGORICAL, [16, 16])),
    hparams=_hparams(batch_size=512, max_seq_len=256, z_size=512, enc_rnn_size=[1024],
                     dec_rnn_size=[1024, 1024], free_bits=256, max_beta=0.2),
    data_converter=_mel_16bar_converter(),
)

# ---------------------------------------------------------------------------------------------
# Multi-instrument 1-bar performances (up to 8 instruments, velocity bins), optionally chords.
# ---------------------------------------------------------------------------------------------
_MULTIPERF_MODEL = _model(_hierarchical_encoder([64, 8]), _hierarchical_decoder(_CATEGORICAL, [8, 64]))
_MULTIPERF_MED = dict(batch_size=256, max_seq_len=512, z_size=512, enc_rnn_size=[1024],
                      dec_rnn_size=[512, 512, 512])
_MULTIPERF_BIG = dict(batch_size=256, max_seq_len=512, z_size=512, enc_rnn_size=[2048],
                      dec_rnn_size=[1024, 1024, 1024])


def _multiperf_converter(chords):
    return MultiInstrumentPerformanceConverter(
        num_velocity_bins=8, hop_size_bars=1, max_num_instruments=8, max_events_per_instrument=64,
        **({"chord_encoding": note_seq.TriadChordOneHotEncoding()} if chords else {}))


_SIZE_WORDS = {"med": "medium", "big": "big"}
for _size_name, _size in (("med", _MULTIPERF_MED), ("big", _MULTIPERF_BIG)):
    for _chords in (False, True):
        _name = f"hier-multiperf_vel_1bar_{_size_name}{'_chords' if _chords else ''}"
        CONFIG_MAP[_name] = Config(
            description=(f"multi-instrument performances, chord-conditioned, {_SIZE_WORDS[_size_name]}" if _chords
                         else f"multi-instrument 1-bar performances with velocity, {_SIZE_WORDS[_size_name]}"),
            train_command=f"music_vae_train --config={_name} --run_dir=/tmp/{_name} --mode=train "
                          "--examples_path=notes.tfrecord",
            model=_MULTIPERF_MODEL,
            hparams=_hparams(**_size),
            note_sequence_augmenter=NoteSequenceAugmenter(transpose_range=(-3, 3)),
            data_converter=_multiperf_converter(_chords),
        )

# ---------------------------------------------------------------------------------------------
# GrooVAE: expressive drums (hit, velocity, micro-timing offset per drum class and step).
# Magenta trains these on the Groove MIDI Dataset via TFDS (`--tfds_name`); here pass your own
# TFRecord with --examples_path.
# ---------------------------------------------------------------------------------------------
_GROOVE_HPARAMS = dict(batch_size=512, z_size=256, enc_rnn_size=[512], dec_rnn_size=[256, 256],
                       max_beta=0.2, free_bits=48, dropout_keep_prob=0.3)
_GROOVE_DECODER = DecoderSpec("GrooveLstmDecoder")


def _groove_config(name, description, split_bars, tfds_name, **converter_kwargs):
    return Config(
        description=description,
        train_command=f"music_vae_train --config={name} --run_dir=/tmp/{name} --mode=train "
                      "--examples_path=drums.tfrecord",
        model=_model(_BIDIRECTIONAL, _GROOVE_DECODER),
        hparams=_hparams(max_seq_len=16 * split_bars, **_GROOVE_HPARAMS),
        data_converter=GrooveConverter(
            split_bars=split_bars, steps_per_quarter=4, quarters_per_bar=4,
            max_tensors_per_notesequence=20, pitch_classes=ROLAND_DRUM_PITCH_CLASSES,
            inference_pitch_classes=REDUCED_DRUM_PITCH_CLASSES, **converter_kwargs),
        tfds_name=tfds_name,
    )


for _name, _description, _split_bars, _converter_kwargs in (
        ("groovae_4bar", "GrooVAE: 4-bar expressive drums", 4, {}),
        ("groovae_2bar_humanize", "GrooVAE: humanize a quantized 2-bar drum pattern", 2, {"humanize": True}),
        ("groovae_2bar_tap_fixed_velocity", "GrooVAE: drums from a tapped rhythm", 2,
         {"tapify": True, "fixed_velocities": True}),
        ("groovae_2bar_tap_fixed_velocity_note_dropout", "GrooVAE: tap2drum with note dropout", 2,
         {"tapify": True, "fixed_velocities": True, "max_note_dropout_probability": 0.8}),
        ("groovae_2bar_add_closed_hh", "GrooVAE: add closed hi-hats to a groove", 2, {"add_instruments": [2]}),
        ("groovae_2bar_hits_control_tfds", "GrooVAE: groove with the hits given as controls", 2,
         {"hits_as_controls": True})):
    CONFIG_MAP[_name] = _groove_config(_name, _description, _split_bars, f"groove/{_split_bars}bar-midionly",
                                       **_converter_kwargs)


# What each config models (the README's table lists them: scripts/config_table.py).
CONFIG_DESCRIPTIONS = {name: config.description for name, config in CONFIG_MAP.items()}


def get_config(name, hparams=None):
    """Returns a deep copy of CONFIG_MAP[name], its hparams parsed from `hparams` if given.

    Raises ValueError with close matches for an unknown name, and for malformed hparams.
    """
    import copy

    if name not in CONFIG_MAP:
        close = difflib.get_close_matches(name or "", CONFIG_MAP, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown config {name!r}.{hint} Known configs: {', '.join(sorted(CONFIG_MAP))}")
    config = copy.deepcopy(CONFIG_MAP[name])
    if hparams:
        config.hparams.parse(hparams)
    return config
