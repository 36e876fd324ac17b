"""Training and evaluation of MusicVAE models (the machinery behind music_vae_train).

- `optimizer`: Magenta's Adam and learning-rate schedule (`make_optimizer`, `learning_rate`).
- `step.train_step`: the one training step (loss, clipping, Adam), replicas included.
- `loop.Trainer`: model, optimizer, step counter and checkpoints; `Trainer.train(dataset, num_steps)`.
- `eval_loop.Evaluator`: held-out metrics of training checkpoints (`music_vae_train --mode=eval`).
- `strategy.make_strategy(name)`: the tf.distribute strategy to train under.
- `run_config`: run_dir/config.json, the config name and hparams of a run.
- `summaries`: TensorBoard scalars under Magenta's tags.
"""
