"""formats: the text formats pfdrill reads, each parsed in exactly one place.

YAML with positions and comment-preserving edits (:mod:`.yamldoc`), durations
(:mod:`.duration`), dates (:mod:`.instant`) and the Prometheus text exposition
(:mod:`.exposition`). Parsing only: may read the file it is given, no network,
no cluster. Every problem is an :class:`~pfdrill.errors.InvalidInput` naming
file, line and the line's text when there is a file.
"""
