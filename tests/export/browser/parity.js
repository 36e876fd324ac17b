// Loaded by the parity test page: runs exported models in magenta.js and returns their numbers.
// window.runParity(cases) -> {name: {mu, mu_sequences, greedy, z_dims}} with, per case,
//   cases[i] = {name, path, inputs [B][T][D], sequences (quantized NoteSequence objects) or null,
//               z [B][Z] (decoded greedily: no temperature), chords (chord symbols) or null}.
'use strict';
window.runParity = async (cases) => {
  // The CPU backend computes in float32 like TensorFlow (WebGL may use half floats).
  await mm.tf.setBackend('cpu');
  const results = {};
  for (const c of cases) {
    const model = new mm.MusicVAE(c.path);
    await model.initialize();
    const controls = c.chords ? {chordProgression: c.chords} : undefined;
    const inputs = mm.tf.tensor3d(c.inputs);
    const mu = await model.encodeTensors(inputs, controls);
    let muSequences = null;
    if (c.sequences) {
      const encoded = await model.encode(c.sequences, controls);
      muSequences = await encoded.array();
      encoded.dispose();
    }
    const z = mm.tf.tensor2d(c.z);
    const decoded = await model.decodeTensors(z, undefined, controls);
    const labels = decoded.argMax(2);
    results[c.name] = {mu: await mu.array(), mu_sequences: muSequences, greedy: await labels.array(),
                       z_dims: model.zDims};
    for (const t of [inputs, mu, z, decoded, labels]) t.dispose();
    model.dispose();
  }
  return results;
};
document.body.dataset.loaded = 'true';
