"""drill: orchestration of one drill through its phases, on a monotonic clock, with observers. I/O only through the layers below.
"""
