"""Model checkpoints: which family a checkpoint is, its own defaults, and loading it."""
