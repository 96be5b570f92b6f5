"""What turns a path, a URL or stdin into text to summarize, in two phases.

`discover` lists sources by name only (no file is opened), then `read` (or the lazy
`read_each`) turns one source at a time into a Document: text files in any encoding, PDF,
HTML and http(s) URLs, each bounded by one size limit (`ReadLimits`). Only this package touches
input files, stdin and the network.
"""

from __future__ import annotations

from .discovery import DEFAULT_GLOBS, STDIN, Listing, Problem, Source, discover, url_relpath
from .errors import ReadError, TooLarge
from .limits import ReadLimits
from .reading import Collected, Document, collect, document_from_bytes, read, read_each

__all__ = [
    "DEFAULT_GLOBS", "STDIN", "Collected", "Document", "Listing", "Problem", "ReadError", "ReadLimits",
    "document_from_bytes",
    "Source", "TooLarge", "collect", "discover", "read", "read_each", "url_relpath",
]
