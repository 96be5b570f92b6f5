"""Where the record-making functions run: in this process ("local") or on a Ray cluster ("ray").

An engine never changes what a record says, only where the pipeline that makes it runs.
"""

ENGINE_CHOICES = ("local", "ray")
