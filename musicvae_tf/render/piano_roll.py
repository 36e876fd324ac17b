"""Looking at NoteSequences: piano-roll PNGs (matplotlib, headless)."""

from musicvae_tf.render.whole_file import whole_file

# One colour per instrument number, cycling; drums get their own.
_INSTRUMENT_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_DRUM_COLOUR = "#d62728"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _draw_roll(axes, sequence, title=None, pitch_range=None, end_time=None):
    """Draws one NoteSequence's notes as horizontal bars on `axes`."""
    for note in sequence.notes:
        colour = _DRUM_COLOUR if note.is_drum else _INSTRUMENT_COLOURS[
            note.instrument % len(_INSTRUMENT_COLOURS)]
        alpha = 0.35 + 0.65 * (note.velocity / 127.0 if note.velocity else 0.8)
        axes.add_patch(_rectangle(note.start_time, note.pitch - 0.4,
                                  max(note.end_time - note.start_time, 1e-3), 0.8,
                                  colour, min(alpha, 1.0)))
    low, high = pitch_range or _pitch_range([sequence])
    axes.set_ylim(low - 1, high + 1)
    axes.set_xlim(0, end_time or max(sequence.total_time, 1e-3))
    axes.set_xlabel("time (s)")
    if title:
        axes.set_title(title, fontsize=8)


def _rectangle(x, y, width, height, colour, alpha):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), width, height, facecolor=colour, edgecolor="black",
                     linewidth=0.3, alpha=alpha)


def _pitch_range(sequences):
    pitches = [note.pitch for seq in sequences for note in seq.notes]
    if not pitches:
        return 48, 72
    low, high = min(pitches), max(pitches)
    if high - low < 12:  # keep at least an octave visible
        middle = (low + high) // 2
        low, high = middle - 6, middle + 6
    return low, high


def _save_figure(figure, path):
    """Writes the PNG; one that could not be finished (a full disk) is removed."""
    with whole_file(path) as temporary:
        figure.savefig(temporary, dpi=100, format="png")


def plot_piano_roll(sequence, path, title=None):
    """Writes a piano-roll PNG of one NoteSequence to `path`."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 3.5))
    try:
        _draw_roll(axes, sequence, title=title)
        axes.set_ylabel("MIDI pitch")
        figure.tight_layout()
        _save_figure(figure, path)
    finally:
        plt.close(figure)
    return path


def plot_piano_roll_strip(sequences, path, titles=None):
    """Writes one PNG with the piano rolls of `sequences` side by side (shared pitch axis)."""
    if not sequences:
        raise ValueError("plot_piano_roll_strip needs at least one sequence")
    plt = _pyplot()
    count = len(sequences)
    figure, axes_list = plt.subplots(1, count, figsize=(max(2.2 * count, 4), 3.5),
                                     sharey=True, squeeze=False)
    pitch_range = _pitch_range(sequences)
    end_time = max(max(seq.total_time for seq in sequences), 1e-3)
    try:
        for i, (axes, sequence) in enumerate(zip(axes_list[0], sequences)):
            title = titles[i] if titles else f"{i + 1}/{count}"
            _draw_roll(axes, sequence, title=title, pitch_range=pitch_range, end_time=end_time)
        axes_list[0][0].set_ylabel("MIDI pitch")
        figure.tight_layout()
        _save_figure(figure, path)
    finally:
        plt.close(figure)
    return path


def plot_piano_roll_parts(parts, path, title=None, bar_seconds=None, chords=None):
    """Writes one PNG with a panel per part, stacked on a shared time axis (e.g. a whole loop).

    `parts`: (name, NoteSequence) pairs, top panel first. With `bar_seconds`, bar lines are drawn
    and `chords` (one symbol per bar) are written above the top panel.
    """
    if not parts:
        raise ValueError("plot_piano_roll_parts needs at least one part")
    plt = _pyplot()
    end_time = max(max(sequence.total_time for _, sequence in parts), 1e-3)
    ranges = [_pitch_range([sequence]) for _, sequence in parts]
    heights = [max(high - low + 2, 8) for low, high in ranges]
    figure, axes_list = plt.subplots(len(parts), 1, sharex=True, squeeze=False,
                                     figsize=(max(8.0, min(16.0, end_time / 2.0)), 1.2 + 0.06 * sum(heights)),
                                     gridspec_kw={"height_ratios": heights})
    try:
        for (name, sequence), axes, pitch_range in zip(parts, axes_list[:, 0], ranges):
            _draw_roll(axes, sequence, pitch_range=pitch_range, end_time=end_time)
            axes.set_ylabel(name, fontsize=8)
            axes.tick_params(labelsize=7)
            if bar_seconds:
                for bar in range(1, int(round(end_time / bar_seconds))):
                    axes.axvline(bar * bar_seconds, color="grey", linewidth=0.5, alpha=0.6)
        top = axes_list[0, 0]
        if bar_seconds and chords:
            for bar, symbol in enumerate(chords):
                top.text((bar + 0.05) * bar_seconds, 1.02, symbol, transform=top.get_xaxis_transform(),
                         fontsize=7, va="bottom")
        for axes in axes_list[:-1, 0]:
            axes.set_xlabel("")
        if title:
            figure.suptitle(title, fontsize=9)
        figure.tight_layout()
        _save_figure(figure, path)
    finally:
        plt.close(figure)
    return path
