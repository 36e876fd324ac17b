"""Export a MusicVAE to the folder magenta.js loads with `new mm.MusicVAE(url)`.

    from musicvae_tf.export import magenta_js
    magenta_js.export(model, config, "site/models/cat-mel_2bar_small")   # config.json + weights

The folder holds `config.json` (`{"type": "MusicVAE", "dataConverter": {...}, "chordEncoder": ...}`),
`weights_manifest.json` and the weight shards (`tfjs_weights`). The weights are the model's
variables under Magenta's TF1 names (`MusicVAE.tf1_variables`), which is what magenta.js looks up;
nothing else (no optimizer slots, no global step).

What magenta.js (music/src/music_vae/model.ts, @magenta/music 1.23) can run, and so what exports:
  - encoder: a single-layer bidirectional LSTM, or a two-level hierarchical encoder of
    single-layer bidirectional LSTMs; a conductor (hierarchical) decoder only together with the
    hierarchical encoder, because magenta.js derives both from the converter's `numSegments`;
  - decoders: categorical, RNN-NADE (greedy), groove, and split trio decoders under a conductor;
  - converters: melodies, drums (roll input; one-hot or roll output), trios, grooves;
  - controls: chords only (magenta.js's TriadChordEncoder / MajorMinorChordEncoder);
  - no residual LSTM connections.
Anything else raises `UnsupportedForMagentaJs` with one line saying why and naming the configs
that do export.
"""

import json
import os

from musicvae_tf import output_folders
from musicvae_tf.export import tfjs_weights

CONFIG_FILE = "config.json"


class UnsupportedForMagentaJs(ValueError):
    """The model uses something magenta.js cannot run (one-line message)."""


def _chord_encoder(encoding):
    name = type(encoding).__name__
    return {"TriadChordOneHotEncoding": "TriadChordEncoder",
            "MajorMinorChordOneHotEncoding": "MajorMinorChordEncoder"}.get(name)


def _melody_args(converter):
    # skip_polyphony=False keeps the highest of simultaneous notes, as ignorePolyphony does.
    return {"minPitch": int(converter._min_pitch), "maxPitch": int(converter._max_pitch),
            "ignorePolyphony": _ignores_polyphony(converter)}


def _ignores_polyphony(converter):
    extractor = converter._event_extractor_fn
    return bool(getattr(extractor, "keywords", {}).get("ignore_polyphonic_notes", True))


def _drum_classes(pitch_classes):
    return [[int(p) for p in pitches] for pitches in pitch_classes]


def _converter_spec(converter, num_steps, num_segments):
    """magenta.js `dataConverter` for our converter, or a reason string when there is none."""
    from musicvae_tf.converters import DrumsConverter, GrooveConverter, OneHotMelodyConverter, TrioConverter

    args = {"numSteps": int(num_steps)}
    if num_segments:
        args["numSegments"] = int(num_segments)
    if isinstance(converter, OneHotMelodyConverter):
        if converter._condition_on_key:
            return "key-conditioned melody converters are not exported"
        return {"type": "MelodyConverter", "args": dict(args, **_melody_args(converter))}
    if isinstance(converter, DrumsConverter):
        if not converter._roll_input:
            return "magenta.js feeds drums to the encoder as a roll: the config needs roll_input=True"
        if converter.end_token is not None:
            return "drum converters with an end token are not read by magenta.js"
        kind = "DrumRollConverter" if converter._roll_output else "DrumsConverter"
        return {"type": kind, "args": dict(args, pitchClasses=_drum_classes(converter.pitch_classes))}
    if isinstance(converter, TrioConverter):
        melody = converter._melody_converter
        drums = converter._drums_converter
        part = {"minPitch": int(melody._min_pitch), "maxPitch": int(melody._max_pitch)}
        return {"type": "TrioConverter", "args": dict(
            args, melArgs=dict(part), bassArgs=dict(part),
            drumsArgs={"pitchClasses": _drum_classes(drums.pitch_classes)})}
    if isinstance(converter, GrooveConverter):
        if converter._hits_as_controls:
            return "magenta.js does not supply a groove's hits as controls"
        if converter._categorical_outputs:
            return "magenta.js reads grooves with continuous velocities and offsets only"
        return {"type": "GrooveConverter", "args": dict(
            args, stepsPerQuarter=int(converter._steps_per_quarter), humanize=bool(converter._humanize),
            tapify=bool(converter._tapify), splitInstruments=bool(converter._split_instruments),
            pitchClasses=_drum_classes(converter._infer_pitch_classes))}
    return (f"magenta.js has no data converter matching {type(converter).__name__} "
            "(melody, drums, trio and groove converters export)")


def _decoder_reason(decoder_spec, split_allowed):
    kinds = ("CategoricalLstmDecoder", "MultiLabelRnnNadeDecoder", "GrooveLstmDecoder")
    if decoder_spec.kind in kinds:
        return None
    if decoder_spec.kind == "SplitMultiOutLstmDecoder" and split_allowed:
        bad = [d.kind for d in decoder_spec.core_decoders if d.kind != "CategoricalLstmDecoder"]
        return f"split decoders of {bad[0]} are not in magenta.js" if bad else None
    return f"magenta.js has no {decoder_spec.kind} here"


def _reason_and_spec(config):
    """(None, magenta.js spec) for a config magenta.js can run, else (reason, None)."""
    hp = config.hparams
    spec = config.model
    encoder, decoder = spec.encoder, spec.decoder
    if getattr(hp, "residual_encoder", False) or getattr(hp, "residual_decoder", False):
        return "magenta.js has no residual LSTM connections (residual_encoder/residual_decoder)", None
    enc_layers = len(hp.enc_rnn_size)
    num_segments = None
    if encoder.kind == "BidirectionalLstmEncoder":
        if enc_layers != 1:
            return (f"magenta.js runs single-layer bidirectional encoders only; this config's encoder "
                    f"has {enc_layers} layers (enc_rnn_size={list(hp.enc_rnn_size)})"), None
        if decoder.kind == "HierarchicalLstmDecoder":
            return ("magenta.js builds a conductor (hierarchical) decoder only together with a "
                    "hierarchical encoder, and this config pairs it with a flat one"), None
        reason = _decoder_reason(decoder, split_allowed=False)
    else:
        if len(encoder.level_lengths) != 2 or enc_layers != 1:
            return "magenta.js runs two-level hierarchical encoders of single-layer LSTMs only", None
        if decoder.kind != "HierarchicalLstmDecoder" or len(decoder.level_lengths) != 2 \
                or tuple(decoder.level_lengths) != tuple(reversed(encoder.level_lengths)):
            return "magenta.js needs the conductor's segments to mirror the hierarchical encoder's", None
        num_segments = decoder.level_lengths[0]
        reason = _decoder_reason(decoder.core_decoder, split_allowed=True)
    if reason:
        return reason, None
    if not hp.z_size:
        return "magenta.js runs models with a latent code only (z_size > 0)", None
    converter = config.data_converter
    converter_spec = _converter_spec(converter, int(hp.max_seq_len), num_segments)
    if isinstance(converter_spec, str):
        return converter_spec, None
    result = {"type": "MusicVAE", "dataConverter": converter_spec}
    if converter.control_depth:
        encoding = converter.chord_encoding
        chord_encoder = _chord_encoder(encoding) if encoding is not None else None
        if chord_encoder is None:
            return "magenta.js conditions on chords only, and this config has other controls", None
        result["chordEncoder"] = chord_encoder
    return None, result


def exportable_configs():
    """Names of the registered configs magenta.js can run."""
    from musicvae_tf import configs

    return [name for name in sorted(configs.CONFIG_MAP)
            if _reason_and_spec(configs.CONFIG_MAP[name])[0] is None]


def magenta_js_spec(config, config_name=None):
    """The `config.json` content for `config`; raises UnsupportedForMagentaJs (one line) if none."""
    reason, spec = _reason_and_spec(config)
    if reason:
        label = f"config {config_name}" if config_name else "this config"
        raise UnsupportedForMagentaJs(
            f"{label} cannot run in magenta.js: {reason}; configs that export: "
            f"{', '.join(exportable_configs())}")
    return spec


def model_weights(model):
    """{Magenta TF1 name: float32 array} of the model's weights, in name order."""
    return {name: variable.numpy() for name, variable in sorted(model.tf1_variables().items())}


def export(model, config, directory, quantization=None, config_name=None):
    """Writes the magenta.js folder for `model` (built from `config`) into `directory`.

    `directory` must not exist or be empty: nothing there is overwritten. Returns the files
    written. Raises UnsupportedForMagentaJs before writing anything for a config magenta.js
    cannot run.
    """
    spec = magenta_js_spec(config, config_name or getattr(model, "config_name", None))
    weights = model_weights(model)
    output_folders.make_new_or_empty(directory)
    files = tfjs_weights.write_weights(weights, directory, quantization)
    with open(os.path.join(directory, CONFIG_FILE), "w") as f:
        json.dump(spec, f, indent=1)
    return [CONFIG_FILE] + files



def num_steps(config):
    """Steps per example as magenta.js decodes them (its converter's numSteps)."""
    return int(magenta_js_spec(config)["dataConverter"]["args"]["numSteps"])
