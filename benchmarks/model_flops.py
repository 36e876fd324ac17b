"""Matrix-multiply FLOPs of a MusicVAE config, counted from its sizes (no model is built).

    from model_flops import model_flops          # with benchmarks/ on sys.path
    flops = model_flops(configs.get_config("cat-mel_2bar_small"))
    flops["training"] / 1e9                      # 0.70 GFLOP per example

Only matrix products are counted (2 FLOPs per multiply-add); gate nonlinearities, the softmax and
the loss are left out, they are a few percent at these sizes. Per example, with T = max_seq_len:

  LSTM step (input size i, units u): 2 * (i + u) * 4u   (one [x, h] x kernel product)
  encoder, BidirectionalLstmEncoder with enc_rnn_size [e1, e2, ...] over input depth d:
      2 directions * T * sum_k LSTM(i_k, e_k), i_1 = d (inputs + controls), i_k = 2 * e_(k-1)
  latent: mu and sigma, 2 * (2 * 2 * e_last * z)
  decoder, CategoricalLstmDecoder with dec_rnn_size [u1, u2, ...] conditioned on c (z, or the
  conductor's embedding): initial state 2 * c * 2 * sum(u), then T steps of
      sum_k LSTM(i_k, u_k) + 2 * u_last * output_depth,  i_1 = output_depth + c + controls,
      i_k = u_(k-1)
  HierarchicalLstmDecoder (level lengths L_0 .. L_n, conductors of dec_rnn_size): each level's
  conductor runs prod(L_0..L_j) steps (input depth 1 when not autoregressive), its initial state
  dense runs once per parent; the core decoder runs once per segment of L_n steps, conditioned on
  the conductor output (size dec_rnn_size[-1]).
  HierarchicalLstmEncoder: level j runs its bidirectional encoder on T / prod(L_0..L_j) segments.

  forward = encoder + latent + decoder (+ conductors)      (evaluation: one forward)
  training = 3 * forward    (the backward pass of a product costs two products of the same size)
  sampling = decoder + conductors per sample (no encoder; z drawn from the prior)

For cat-mel_2bar_small (d = 90, T = 32, enc [512], z 256, dec [256, 256]):
  encoder 2 * 32 * 2 * 602 * 2048 = 157.8 M, latent 1.0 M, decoder 0.5 M + 32 * 2.33 M = 75.0 M,
  forward 233.9 M, training 0.70 GFLOP per example.
"""

def lstm_step_flops(input_size, units):
    """FLOPs of one LSTM step for one example: the [x, h] x [i + u, 4u] product."""
    return 2 * (int(input_size) + int(units)) * 4 * int(units)


def stacked_lstm_step_flops(input_size, sizes):
    """One step of a stack of LSTMs (each layer reads the layer below)."""
    total, size = 0, int(input_size)
    for units in sizes:
        total += lstm_step_flops(size, units)
        size = int(units)
    return total


def bidirectional_encoder_flops(input_size, sizes, steps):
    """A stacked bidirectional encoder over `steps` steps (layer k reads both directions of k-1)."""
    total, size = 0, int(input_size)
    for units in sizes:
        total += 2 * steps * lstm_step_flops(size, units)
        size = 2 * int(units)
    return total, 2 * int(sizes[-1])


def _encoder_flops(spec, hparams, input_size):
    steps = int(hparams.max_seq_len)
    sizes = [int(s) for s in hparams.enc_rnn_size]
    if spec.kind == "BidirectionalLstmEncoder":
        return bidirectional_encoder_flops(input_size, sizes, steps)
    if spec.kind == "HierarchicalLstmEncoder":
        total, size, segments = 0, input_size, steps
        for length in spec.level_lengths:
            segments //= int(length)
            flops, size = bidirectional_encoder_flops(size, sizes, int(length))
            total += segments * flops
        return total, size
    raise ValueError(f"no FLOP count for encoder {spec.kind!r}")


def _categorical_decoder_flops(hparams, output_depth, conditioning, control_depth, steps):
    sizes = [int(s) for s in hparams.dec_rnn_size]
    initial = 2 * conditioning * 2 * sum(sizes) if conditioning else 0
    per_step = (stacked_lstm_step_flops(output_depth + conditioning + control_depth, sizes)
                + 2 * sizes[-1] * output_depth)
    return initial + steps * per_step


def _decoder_flops(spec, hparams, output_depth, control_depth):
    """(conductor FLOPs, core decoder FLOPs) for one example."""
    z_size = int(hparams.z_size)
    steps = int(hparams.max_seq_len)
    if spec.kind == "CategoricalLstmDecoder":
        return 0, _categorical_decoder_flops(hparams, output_depth, z_size, control_depth, steps)
    if spec.kind == "HierarchicalLstmDecoder":
        if spec.core_decoder.kind != "CategoricalLstmDecoder" or spec.hierarchical_encoder is not None:
            raise ValueError("FLOP count for hierarchical decoders only over a CategoricalLstmDecoder "
                             "without re-encoder")
        sizes = [int(s) for s in hparams.dec_rnn_size]
        levels = [int(n) for n in spec.level_lengths]
        num_levels = len(levels) - 1
        disabled = (list(range(num_levels)) if spec.disable_autoregression is True else
                    [] if not spec.disable_autoregression else [int(n) for n in spec.disable_autoregression])
        core_state = 2 * sum(sizes)
        conductor, parents = 0, 1
        for level in range(num_levels):
            initial_input = z_size if level == 0 else sizes[-1]
            if level in disabled:
                input_size = 1
            else:
                lower = core_state if level == num_levels - 1 else 2 * sum(sizes)
                input_size = lower + initial_input
            conductor += parents * 2 * initial_input * 2 * sum(sizes)
            parents *= levels[level]
            conductor += parents * stacked_lstm_step_flops(input_size, sizes)
        core = parents * _categorical_decoder_flops(hparams, output_depth, sizes[-1], control_depth,
                                                    levels[-1])
        return conductor, core
    raise ValueError(f"no FLOP count for decoder {spec.kind!r}")


def model_flops(config):
    """Per-example matmul FLOPs of `config` (a configs.Config): a dict with encoder, latent,
    conductor, decoder, forward, training and sampling."""
    hparams = config.hparams
    converter = config.data_converter
    input_depth, output_depth = int(converter.input_depth), int(converter.output_depth)
    control_depth = int(converter.control_depth)
    encoder, encoding_size = _encoder_flops(config.model.encoder, hparams, input_depth + control_depth)
    latent = 2 * 2 * encoding_size * int(hparams.z_size)
    conductor, decoder = _decoder_flops(config.model.decoder, hparams, output_depth, control_depth)
    forward = encoder + latent + conductor + decoder
    return {"encoder": encoder, "latent": latent, "conductor": conductor, "decoder": decoder,
            "forward": forward, "training": 3 * forward, "sampling": conductor + decoder}


def gflop_per_item(config, kind):
    """GFLOP per example for a benchmark kind ('train', 'eval', 'sample'); None for others."""
    key = {"train": "training", "eval": "forward", "sample": "sampling"}.get(kind)
    if key is None:
        return None
    try:
        return model_flops(config)[key] / 1e9
    except ValueError:
        return None

