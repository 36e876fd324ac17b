"""Training and evaluation of MusicVAE models (the machinery behind music_vae_train).

- `strategy.make_strategy(name)`: the tf.distribute strategy to train under.
- `loop.Trainer`: model, Adam, step counter and checkpoints; `Trainer.train(dataset, num_steps)`.
- `eval_loop.Evaluator`: held-out metrics of training checkpoints.
- `run_config`: run_dir/config.json, the config name and hparams of a run.
"""
