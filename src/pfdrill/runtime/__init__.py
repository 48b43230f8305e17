"""runtime: the process runtime that runs annotated kwok pods as local processes, like a kubelet.
"""
