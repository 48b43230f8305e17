"""dashboard: the live web view of drills and game days, and the pollers that watch the world around them.

An aiohttp server on 127.0.0.1 (:mod:`.server`) streams :class:`~pfdrill.model.live.LiveEvent`
records to browsers by server-sent events: the drill journals under the state
directory (:class:`pfdrill.drill.live.JournalTail`), alerts, notifications and
cluster changes (:mod:`.world`), metric curves (:mod:`.curves`). Every asset is
served from the package (``static/``): the page works offline. I/O: the HTTP
server, HTTP clients of Prometheus and the sink, the cluster through
:mod:`pfdrill.cluster`, journal files.
"""
