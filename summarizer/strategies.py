"""How a long document is reduced to one summary (chosen with --strategy)."""

STRATEGY_CHOICES = ("map-reduce", "map", "truncate", "extract-then-abstract")
