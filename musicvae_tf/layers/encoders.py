"""Sequence encoders: Magenta's `BidirectionalLstmEncoder` and `HierarchicalLstmEncoder`.

`BidirectionalLstmEncoder` stacks bidirectional layers; each layer is its own pair of forward and
backward LSTMs over the concatenated outputs of the layer below. Sequences are length aware: past
its length an example's forward state is frozen, and the backward direction starts at the
example's last real step. The encoding is [final forward h, final backward h] of the top layer.

`HierarchicalLstmEncoder` splits the sequence into equal segments, encodes every segment with its
level-0 encoder (all segments of the batch in one call), groups the embeddings and encodes them
again per level until one embedding remains.
"""

import math

import keras
import tensorflow as tf

from musicvae_tf.layers.lstm import StackedLSTM


def _reverse(sequence, lengths):
    return tf.reverse_sequence(sequence, lengths, seq_axis=1, batch_axis=0)


@keras.saving.register_keras_serializable(package="musicvae_tf")
class BidirectionalLstmEncoder(keras.layers.Layer):
    """Stacked bidirectional LSTM encoder.

    Args:
      input_size: depth of the input sequences (data inputs plus controls).
      rnn_sizes: units per direction of each layer (`hparams.enc_rnn_size`).
      residual, dropout_keep_prob: as in `StackedLSTM` (`residual_encoder`, `dropout_keep_prob`).
    """

    def __init__(self, input_size, rnn_sizes, residual=False, dropout_keep_prob=1.0, **kwargs):
        super().__init__(**kwargs)
        self.input_size = int(input_size)
        self.rnn_sizes = [int(s) for s in rnn_sizes]
        self.residual = bool(residual)
        self.dropout_keep_prob = float(dropout_keep_prob)
        self.forward_layers = []
        self.backward_layers = []
        size = self.input_size
        for i, units in enumerate(self.rnn_sizes):
            for direction, layers in (("fw", self.forward_layers), ("bw", self.backward_layers)):
                layers.append(StackedLSTM(size, [units], residual=self.residual,
                                          dropout_keep_prob=self.dropout_keep_prob,
                                          name=f"layer_{i}_{direction}"))
                # Attribute too, so tf.train.Checkpoint tracks it (it ignores Keras lists).
                setattr(self, f"layer_{i}_{direction}", layers[-1])
            size = 2 * units
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(input_size=self.input_size, rnn_sizes=list(self.rnn_sizes),
                      residual=self.residual, dropout_keep_prob=self.dropout_keep_prob)
        return config

    @property
    def output_depth(self):
        return 2 * self.rnn_sizes[-1]

    def call(self, sequence, lengths, training=False, seed=None):
        """Encodes `sequence` [B, T, input_size] with `lengths` [B]; returns [B, output_depth]."""
        sequence = tf.convert_to_tensor(sequence, tf.float32)
        lengths = tf.cast(lengths, tf.int32)
        if lengths.shape.rank != 1:
            raise ValueError(f"BidirectionalLstmEncoder expects lengths of shape [batch], got {lengths.shape}")
        batch = tf.shape(sequence)[0]
        layer_input = sequence
        final_fw = final_bw = None
        for i, (forward, backward) in enumerate(zip(self.forward_layers, self.backward_layers)):
            seeds = [None, None] if seed is None else [
                tf.random.experimental.stateless_fold_in(seed, 2 * i + k) for k in range(2)]
            out_fw, state_fw = forward.run([layer_input], forward.zero_state(batch), lengths=lengths,
                                           training=training, seed=seeds[0])
            out_bw, state_bw = backward.run([_reverse(layer_input, lengths)], backward.zero_state(batch),
                                            lengths=lengths, training=training, seed=seeds[1])
            layer_input = tf.concat([out_fw, _reverse(out_bw, lengths)], axis=-1)
            final_fw, final_bw = state_fw[-1], state_bw[-1]
        return tf.concat([final_fw, final_bw], axis=-1)

    def tf1_variables(self, scope="encoder"):
        names = {}
        for i, (forward, backward) in enumerate(zip(self.forward_layers, self.backward_layers)):
            names.update(forward.tf1_variables(f"{scope}/cell_{i}/bidirectional_rnn/fw"))
            names.update(backward.tf1_variables(f"{scope}/cell_{i}/bidirectional_rnn/bw"))
        return names


def split_segment_lengths(lengths, num_segments, total_length):
    """Per-segment lengths [B, num_segments] from `lengths` [B] (each 0 or total) or [B, S]."""
    lengths = tf.cast(lengths, tf.int32)
    if lengths.shape.rank == 2:
        if lengths.shape[1] is not None and lengths.shape[1] != num_segments:
            raise ValueError(f"segment lengths must have {num_segments} columns, got {lengths.shape[1]}")
        return lengths
    if lengths.shape.rank != 1:
        raise ValueError(f"lengths must have shape [batch] or [batch, segments], got {lengths.shape}")
    if total_length % num_segments:
        raise ValueError(f"total length {total_length} is not divisible into {num_segments} segments")
    # As Magenta's maybe_split_sequence_lengths: a [B] length is all or nothing of the sequence.
    whole = tf.reduce_all(tf.logical_or(tf.equal(lengths, 0), tf.equal(lengths, total_length)))
    check = tf.debugging.Assert(whole, [f"sequence lengths must be 0 or {total_length} here (pass per-segment "
                                        f"lengths [batch, {num_segments}] otherwise):", lengths])
    with tf.control_dependencies([check]):
        return tf.tile(lengths[:, None], [1, num_segments]) // num_segments


@keras.saving.register_keras_serializable(package="musicvae_tf")
class HierarchicalLstmEncoder(keras.layers.Layer):
    """Hierarchical encoder: one `BidirectionalLstmEncoder` per level.

    Args:
      input_size: depth of the input sequences.
      level_lengths: segment length at each level; the product is the padded sequence length.
      rnn_sizes, residual, dropout_keep_prob: passed to each level's encoder.
    """

    def __init__(self, input_size, level_lengths, rnn_sizes, residual=False, dropout_keep_prob=1.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.input_size = int(input_size)
        self.level_lengths = [int(n) for n in level_lengths]
        self.rnn_sizes = [int(s) for s in rnn_sizes]
        self.residual = bool(residual)
        self.dropout_keep_prob = float(dropout_keep_prob)
        self.total_length = int(math.prod(self.level_lengths))
        self.levels = []
        size = self.input_size
        for i in range(len(self.level_lengths)):
            encoder = BidirectionalLstmEncoder(size, self.rnn_sizes, self.residual,
                                               self.dropout_keep_prob, name=f"level_{i}")
            self.levels.append(encoder)
            setattr(self, f"level_{i}", encoder)
            size = encoder.output_depth
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(input_size=self.input_size, level_lengths=list(self.level_lengths),
                      rnn_sizes=list(self.rnn_sizes), residual=self.residual,
                      dropout_keep_prob=self.dropout_keep_prob)
        return config

    @property
    def output_depth(self):
        return self.levels[-1].output_depth

    def level(self, index):
        return self.levels[index]

    def call(self, sequence, lengths, training=False, seed=None):
        """Encodes `sequence` [B, total_length, d]; `lengths` is [B] (0 or total) or [B, S0]."""
        sequence = tf.convert_to_tensor(sequence, tf.float32)
        if sequence.shape[1] is not None and sequence.shape[1] != self.total_length:
            raise ValueError(f"HierarchicalLstmEncoder expects {self.total_length} steps, got {sequence.shape[1]}")
        batch = tf.shape(sequence)[0]
        num_splits = self.total_length // self.level_lengths[0]
        lengths = split_segment_lengths(lengths, num_splits, self.total_length)
        for level, (encoder, segment_length) in enumerate(zip(self.levels, self.level_lengths)):
            depth = sequence.shape[-1]
            segments = tf.reshape(sequence, [batch * num_splits, segment_length, depth])
            if level:
                segment_lengths = tf.fill([batch * num_splits], segment_length)
            else:
                segment_lengths = tf.reshape(lengths, [-1])
            level_seed = None if seed is None else tf.random.experimental.stateless_fold_in(seed, level)
            embeddings = encoder(segments, segment_lengths, training=training, seed=level_seed)
            sequence = tf.reshape(embeddings, [batch, num_splits, encoder.output_depth])
            if level + 1 < len(self.level_lengths):
                num_splits //= self.level_lengths[level + 1]
        return sequence[:, 0]

    def tf1_variables(self, scope="encoder"):
        names = {}
        for i, encoder in enumerate(self.levels):
            names.update(encoder.tf1_variables(f"{scope}/hierarchical_level_{i}"))
        return names
