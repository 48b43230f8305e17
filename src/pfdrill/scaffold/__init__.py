"""scaffold: a team's drill repository, as ``pfdrill init`` writes it.

Reads pfdrill's shipped files (:mod:`pfdrill.settings.assets`) and its own
templates; writes only into the directory it is given, and nothing at all when
a file it would write is already there (unless told to overwrite).
"""
