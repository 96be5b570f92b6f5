"""Summarize text with T5 models: a CLI over tokenizer + model.generate()."""

__version__ = "0.1.0"
