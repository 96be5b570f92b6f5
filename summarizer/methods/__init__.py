"""How a summary is made: by a T5 model ("t5"), or by an extractive baseline that picks
sentences of the document itself ("lead", "textrank") and needs no model at all."""

METHOD_CHOICES = ("t5", "lead", "textrank")
