// The web player of musicvae-tf: sample, interpolate, play and download with magenta.js (global `mm`).
// models.json (written by music_vae_web) lists the exported models:
//   [{"name": ..., "path": "models/<name>", "description": ..., "numSteps": 32, "chordEncoder": ...}]
'use strict';

const NOTE_RGB = '230, 80, 30';       // the piano roll's note colour (the tests look for it)
const ACTIVE_RGB = '40, 110, 220';    // the note being played
const STEPS_PER_QUARTER = 4;

const state = {models: [], spec: null, model: null, current: null, ends: {a: null, b: null},
               player: null, visualizer: null, downloadUrl: null};
const $ = (id) => document.getElementById(id);

function setStatus(text, isError) {
  const status = $('status');
  status.textContent = text;
  status.classList.toggle('error', Boolean(isError));
}

function fail(error) {
  const message = (error && error.message) ? error.message : String(error);
  setStatus(message, true);
}

function setBusy(busy) {
  for (const id of ['sample', 'interpolate', 'model']) $(id).disabled = busy || !state.model;
  for (const button of document.querySelectorAll('.end-sample')) button.disabled = busy || !state.model;
  $('play').disabled = busy || !state.current;
  $('stop').disabled = busy || !state.current;
}

function temperature() {
  return parseFloat($('temperature').value);
}

function controlArgs() {
  if (!state.spec || !state.spec.chordEncoder) return undefined;
  const chords = $('chords').value.trim().split(/\s+/).filter((c) => c);
  if (!chords.length) throw new Error('enter at least one chord, e.g. "C G Am F"');
  return {chordProgression: chords};
}

function draw(sequence, canvas, width) {
  const context = canvas.getContext('2d');
  if (!sequence.notes.length) {
    context.clearRect(0, 0, canvas.width, canvas.height);
    return null;
  }
  const seconds = mm.sequences.unquantizeSequence(sequence).totalTime || 1;
  return new mm.PianoRollCanvasVisualizer(sequence, canvas, {
    noteRGB: NOTE_RGB, activeNoteRGB: ACTIVE_RGB, noteHeight: width > 300 ? 5 : 2,
    pixelsPerTimeStep: width / seconds});
}

function describe(sequence) {
  const steps = sequence.totalQuantizedSteps || state.spec.numSteps;
  const bars = steps / (4 * STEPS_PER_QUARTER);
  return `${sequence.notes.length} notes, ${bars} bar${bars === 1 ? '' : 's'}`;
}

function show(sequence, label) {
  if (state.player.isPlaying()) state.player.stop();
  state.current = sequence;
  state.visualizer = draw(sequence, $('roll'), 640);
  $('roll-caption').textContent = `${label}: ${describe(sequence)}` +
      (sequence.notes.length ? '' : ' (the model drew silence: sample again)');
  if (state.downloadUrl) URL.revokeObjectURL(state.downloadUrl);
  // Decoded notes carry velocity 0 (the protobuf default), which MIDI reads as note-off.
  const forMidi = mm.sequences.clone(sequence);
  for (const note of forMidi.notes) note.velocity = note.velocity || 80;
  const midi = mm.sequenceProtoToMidi(forMidi);
  state.downloadUrl = URL.createObjectURL(new Blob([midi], {type: 'audio/midi'}));
  const link = $('download');
  link.href = state.downloadUrl;
  link.download = `${state.spec.name}-${label.replace(/\W+/g, '_')}.mid`;
  link.classList.remove('disabled');
  document.body.dataset.drawn = String(sequence.notes.length);
  setBusy(false);
}

async function sampleOne() {
  const [sequence] = await state.model.sample(1, temperature(), controlArgs(), STEPS_PER_QUARTER);
  return sequence;
}

function setEnd(end, sequence, what) {
  state.ends[end] = sequence;
  const box = $(`end-${end}`);
  box.querySelector('.what').textContent = `${what}: ${describe(sequence)}`;
  draw(sequence, box.querySelector('canvas'), 200);
}

// A dropped MIDI file, cut to what the model reads: its first numSteps steps, notes it can encode.
function fitToModel(sequence, fileName) {
  const converter = state.spec.dataConverter;
  const args = converter.args;
  let quantized = mm.sequences.quantizeNoteSequence(sequence, STEPS_PER_QUARTER);
  quantized = mm.sequences.trim(quantized, 0, args.numSteps, true);
  const drumPitches = new Set([].concat(...(args.pitchClasses || [])));
  const keep = (note) => {
    if (note.quantizedEndStep <= note.quantizedStartStep) return false;
    switch (converter.type) {
      case 'MelodyConverter':
        return !note.isDrum && note.pitch >= args.minPitch && note.pitch <= args.maxPitch;
      case 'DrumsConverter': case 'DrumRollConverter': case 'GrooveConverter':
        return note.isDrum && drumPitches.has(note.pitch);
      case 'TrioConverter':
        return note.isDrum ? drumPitches.has(note.pitch) :
            note.pitch >= args.melArgs.minPitch && note.pitch <= args.melArgs.maxPitch;
      default:
        return true;
    }
  };
  quantized.notes = quantized.notes.filter(keep);
  for (const note of quantized.notes) {
    note.quantizedEndStep = Math.min(note.quantizedEndStep, args.numSteps);
  }
  quantized.totalQuantizedSteps = args.numSteps;
  if (!quantized.notes.length) {
    throw new Error(`${fileName}: no notes that ${state.spec.name} can read in its first ` +
                    `${args.numSteps} steps`);
  }
  return quantized;
}

async function onDrop(end, file) {
  try {
    setStatus(`Reading ${file.name}…`);
    const sequence = fitToModel(await mm.blobToNoteSequence(file), file.name);
    setEnd(end, sequence, file.name);
    setStatus(`${file.name} is ${end.toUpperCase()}.`);
  } catch (error) {
    fail(error);
  }
}

async function interpolate() {
  setBusy(true);
  try {
    for (const end of ['a', 'b']) {
      if (!state.ends[end]) setEnd(end, await sampleOne(), 'sample');
    }
    const steps = Math.max(3, Math.min(11, parseInt($('steps').value, 10) || 5));
    setStatus(`Interpolating ${steps} steps…`);
    const sequences = await state.model.interpolate(
        [state.ends.a, state.ends.b], steps, temperature(), controlArgs());
    const strip = $('strip');
    strip.textContent = '';
    sequences.forEach((sequence, i) => {
      const figure = document.createElement('figure');
      const canvas = document.createElement('canvas');
      canvas.width = 160;
      canvas.height = 60;
      const caption = document.createElement('figcaption');
      const label = i === 0 ? 'A' : (i === sequences.length - 1 ? 'B' : String(i + 1));
      caption.textContent = `${label} · ${sequence.notes.length} notes`;
      figure.append(canvas, caption);
      figure.addEventListener('click', () => {
        for (const other of strip.children) other.classList.remove('current');
        figure.classList.add('current');
        show(sequence, `interpolation step ${label}`);
      });
      strip.append(figure);
      draw(sequence, canvas, 150);
    });
    strip.firstChild.classList.add('current');
    show(sequences[0], 'interpolation step A');
    setStatus(`Interpolated from A to B in ${steps} steps: click a step to play or download it.`);
  } catch (error) {
    fail(error);
  } finally {
    setBusy(false);
  }
}

async function loadModel(index) {
  const spec = state.models[index];
  state.spec = spec;
  state.model = null;
  setBusy(true);
  delete document.body.dataset.ready;
  setStatus(`Loading ${spec.name}…`);
  try {
    const model = new mm.MusicVAE(spec.path);
    await model.initialize();
    if (state.previous) state.previous.dispose();
    state.previous = model;
    state.model = model;
    state.ends = {a: null, b: null};
    for (const end of ['a', 'b']) {
      const box = $(`end-${end}`);
      box.querySelector('.what').textContent = 'empty';
      box.querySelector('canvas').getContext('2d').clearRect(0, 0, 200, 60);
    }
    $('chords-row').hidden = !spec.chordEncoder;
    setStatus(`${spec.name} is ready${spec.description ? ': ' + spec.description : ''}.`);
    document.body.dataset.ready = 'true';
  } catch (error) {
    fail(error);
  } finally {
    setBusy(false);
  }
}

function wireUp() {
  state.player = new mm.Player(false, {
    run: (note) => state.visualizer && state.visualizer.redraw(note),
    stop: () => {},
  });
  $('temperature').addEventListener('input', () => {
    $('temperature-value').textContent = temperature().toFixed(2);
  });
  $('model').addEventListener('change', () => loadModel($('model').selectedIndex));
  $('sample').addEventListener('click', async () => {
    setBusy(true);
    try {
      setStatus('Sampling…');
      show(await sampleOne(), 'sample');
      setStatus(`Sampled at temperature ${temperature().toFixed(2)}.`);
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
    }
  });
  $('play').addEventListener('click', () => {
    if (!state.current) return;
    if (state.player.isPlaying()) state.player.stop();
    state.player.start(state.current).then(() => setStatus('Finished playing.'));
    setStatus('Playing with magenta.js’s synthesizer…');
  });
  $('stop').addEventListener('click', () => {
    if (state.player.isPlaying()) state.player.stop();
    if (state.visualizer) state.visualizer.clearActiveNotes();
  });
  $('interpolate').addEventListener('click', interpolate);
  for (const button of document.querySelectorAll('.end-sample')) {
    button.addEventListener('click', async () => {
      setBusy(true);
      try {
        setEnd(button.dataset.end, await sampleOne(), 'sample');
      } catch (error) {
        fail(error);
      } finally {
        setBusy(false);
      }
    });
  }
  for (const box of document.querySelectorAll('.end')) {
    box.addEventListener('dragover', (event) => { event.preventDefault(); box.classList.add('over'); });
    box.addEventListener('dragleave', () => box.classList.remove('over'));
    box.addEventListener('drop', (event) => {
      event.preventDefault();
      box.classList.remove('over');
      const file = event.dataTransfer.files[0];
      if (file) onDrop(box.dataset.end, file);
    });
  }
}

async function main() {
  if (typeof mm === 'undefined') {
    setStatus('magenta.js did not load (offline? see the note at the bottom of the page).', true);
    return;
  }
  wireUp();
  try {
    state.models = await (await fetch('models.json')).json();
  } catch (error) {
    fail(new Error(`cannot read models.json: ${error.message}`));
    return;
  }
  for (const spec of state.models) {
    const option = document.createElement('option');
    option.textContent = spec.description ? `${spec.name} (${spec.description})` : spec.name;
    $('model').append(option);
  }
  await loadModel(0);
}

main();
