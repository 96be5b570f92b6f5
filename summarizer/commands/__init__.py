"""The commands at the edge, one module each: `summarize` (files, folders, URLs and stdin in;
summaries, files and the report out), `settings`, `serve`, and the attention commands
(`compare-attention`, `attention-map`). What they share (exit codes, one-line messages, opening
the summarizer) is in `common`; `cli` only turns arguments into calls of these."""
