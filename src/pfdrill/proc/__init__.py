"""proc: local processes and ports — detached daemons with pidfiles, free 127.0.0.1 ports.

I/O: spawns and signals local processes, reads ``/proc``, binds local sockets.
One detached-process manager (:class:`~pfdrill.proc.daemon.Daemon`) serves the
observability servers, the process runtime and the faults' background workers.
"""
