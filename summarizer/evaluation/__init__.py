"""`summarize eval`: score summaries against references with ROUGE, and sweep settings.

Pure parts only (no model here): reading pairs and predictions (`pairs`), scoring and
aggregating (`rouge`), the sweep grid (`sweep`), and its picture and tables (`plot`, `report`).
"""
