"""A TensorFlow SavedModel of a MusicVAE (encode / decode / sample signatures) and its TFLite decoder.

    export_saved_model(model, "exported/saved_model")
    loaded = tf.saved_model.load("exported/saved_model")          # no musicvae_tf needed
    mu = loaded.signatures["encode"](inputs=x, lengths=l)["mu"]
    out = loaded.signatures["decode"](z=mu, temperature=tf.constant(0.5), seed=tf.constant([1, 2]))
    out = loaded.signatures["sample"](num_samples=tf.constant(4), temperature=..., seed=...)

Signatures (T = max_seq_len, D = input depth, C = control depth; controls only when C > 0):
  encode(inputs [B, T, D] float32, lengths [B] int32[, controls [B, T, C]]) -> mu, sigma [B, Z]
  decode(z [B, Z], temperature [], seed [2] int32[, controls [T, C]]) -> samples [B, T, depth],
      lengths [B]: the model's free decoding, its randomness fixed by `seed` (stateless); a
      temperature of 1e-4 or less is greedy in practice
  sample(num_samples [], temperature [], seed [2][, controls [T, C]]) -> z [n, Z], samples,
      lengths: z ~ N(0, I) from the first half of `tf.random.experimental.stateless_split(seed)`,
      decoded with the second
The weights are the model's own variables; nothing else (no optimizer state) is saved.

TFLite (`export_tflite`): the decoder's sampling loop converted to builtin TFLite ops (a WHILE
over fixed-size tensor lists, MULTINOMIAL for sampling), so any TFLite runtime runs it without
the flex delegate: inputs `z` [batch, Z] (batch fixed at export), `temperature` [] (1e-4:
greedy), `controls` [T, C] for conditioned models; output `samples` [batch, T, depth], all in
the model's signature "serving_default" (`interpreter.get_signature_runner()`). The weights are
frozen into the file. Sampling uses TFLite's own random generator (no seed input).
"""

import os

import tensorflow as tf

from musicvae_tf import output_folders


def _split_seed(seed):
    seeds = tf.random.experimental.stateless_split(seed, 2)
    return seeds[0], seeds[1]


class _Serving(tf.Module):
    """Holds the model (its variables) and the serving functions."""

    def __init__(self, model):
        super().__init__(name="music_vae")
        self.model = model
        self.length = int(model.hparams.max_seq_len)
        self.z_size = int(model.z_size)

    def encode(self, inputs, lengths, controls=None):
        mu, sigma = self.model.encode(inputs, lengths, controls)
        return {"mu": mu, "sigma": sigma}

    def decode(self, z, temperature, seed, controls=None):
        n = tf.shape(z)[0]
        result = self.model.decoder.sample(n, self.length, z, controls, temperature, seed=seed)
        return {"samples": result.samples, "lengths": result.lengths}

    def sample(self, num_samples, temperature, seed, controls=None):
        z_seed, decode_seed = _split_seed(seed)
        z = tf.random.stateless_normal([num_samples, self.z_size], seed=z_seed)
        result = self.decode(z, temperature, decode_seed, controls)
        return dict(result, z=z)


def _signatures(serving):
    model = serving.model
    length, depth, c_depth = serving.length, model.input_depth, model.control_depth
    inputs = tf.TensorSpec([None, length, depth], tf.float32, name="inputs")
    lengths = tf.TensorSpec([None], tf.int32, name="lengths")
    z = tf.TensorSpec([None, serving.z_size], tf.float32, name="z")
    temperature = tf.TensorSpec([], tf.float32, name="temperature")
    seed = tf.TensorSpec([2], tf.int32, name="seed")
    count = tf.TensorSpec([], tf.int32, name="num_samples")
    if c_depth:
        batch_controls = tf.TensorSpec([None, length, c_depth], tf.float32, name="controls")
        controls = tf.TensorSpec([length, c_depth], tf.float32, name="controls")
        encode = tf.function(lambda inputs, lengths, controls: serving.encode(inputs, lengths, controls),
                             input_signature=[inputs, lengths, batch_controls], autograph=False)
        decode = tf.function(lambda z, temperature, seed, controls: serving.decode(z, temperature, seed, controls),
                             input_signature=[z, temperature, seed, controls], autograph=False)
        sample = tf.function(lambda num_samples, temperature, seed, controls:
                             serving.sample(num_samples, temperature, seed, controls),
                             input_signature=[count, temperature, seed, controls], autograph=False)
    else:
        encode = tf.function(lambda inputs, lengths: serving.encode(inputs, lengths),
                             input_signature=[inputs, lengths], autograph=False)
        decode = tf.function(lambda z, temperature, seed: serving.decode(z, temperature, seed),
                             input_signature=[z, temperature, seed], autograph=False)
        sample = tf.function(lambda num_samples, temperature, seed: serving.sample(num_samples, temperature, seed),
                             input_signature=[count, temperature, seed], autograph=False)
    return {"encode": encode.get_concrete_function(), "decode": decode.get_concrete_function(),
            "sample": sample.get_concrete_function()}


def export_saved_model(model, directory):
    """Writes the SavedModel of `model` to `directory` (which must be new or empty)."""
    if not model.z_size:
        raise ValueError("this model has no latent code (z_size=0): there is nothing to encode or decode")
    output_folders.make_new_or_empty(directory)
    serving = _Serving(model)
    # The LSTM's hand-written gradient is for training; serving needs the forward pass only.
    options = tf.saved_model.SaveOptions(experimental_custom_gradients=False)
    tf.saved_model.save(serving, directory, signatures=_signatures(serving), options=options)
    return directory


class TFLiteUnsupported(ValueError):
    """The TFLite converter cannot convert this model's decoder (one-line message)."""


def _tflite_decode_function(model, batch_size):
    """decode(z [batch, Z], temperature[, controls [T, C]]) -> samples [batch, T, depth], frozen."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    length = int(model.hparams.max_seq_len)
    specs = [tf.TensorSpec([batch_size, model.z_size], tf.float32, name="z"),
             tf.TensorSpec([], tf.float32, name="temperature")]
    if model.control_depth:
        specs.append(tf.TensorSpec([length, model.control_depth], tf.float32, name="controls"))

    # No seed: the stateful sampler is TFLite's builtin MULTINOMIAL (stateless ones are TF-only).
    @tf.function(input_signature=specs, autograph=False)
    def decode(z, temperature, controls=None):
        return {"samples": model.decoder.sample(batch_size, length, z, controls, temperature).samples}

    # Variables become constants: TFLite cannot read resource variables inside the loop.
    frozen = convert_variables_to_constants_v2(decode.get_concrete_function())

    @tf.function(input_signature=specs, autograph=False)
    def named(*args):  # freezing drops the output's name
        return {"samples": tf.nest.flatten(frozen(*args))[0]}

    return named.get_concrete_function()


def convert_decoder_to_tflite(model, batch_size=1):
    """The decoder as TFLite flatbuffer bytes, builtin ops only (no flex delegate needed).

    Inputs `z` [batch_size, Z], `temperature` [] (and `controls` [T, C] for conditioned models);
    output: the samples [batch_size, T, depth]. The batch is fixed (TFLite's converter needs static
    list shapes in the sampling loop); sampling draws from TFLite's own random generator.
    """
    if not model.z_size:
        raise TFLiteUnsupported("this model has no latent code (z_size=0): there is nothing to decode")
    # The frozen function holds no variables: an empty module stands for its owner.
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [_tflite_decode_function(model, batch_size)], tf.Module())
    try:
        return converter.convert()
    except Exception as error:  # the converter's errors are pages of MLIR: keep the first error
        lines = [line.strip() for line in str(error).splitlines() if "error:" in line] or \
            [line for line in str(error).splitlines() if line.strip()]
        detail = lines[0].split("error:", 1)[-1].strip() if lines else type(error).__name__
        raise TFLiteUnsupported(f"TensorFlow's TFLite converter cannot convert this decoder's sampling "
                                f"loop to builtin TFLite ops ({detail}); export --format=saved_model instead")


def export_tflite(model, directory, batch_size=1, file_name="decoder.tflite"):
    """Writes the TFLite decoder into `directory` (new or empty); returns the file's path."""
    flatbuffer = convert_decoder_to_tflite(model, batch_size)
    output_folders.make_new_or_empty(directory)
    path = os.path.join(directory, file_name)
    with open(path, "wb") as f:
        f.write(flatbuffer)
    return path
