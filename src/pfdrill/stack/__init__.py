"""stack: brings the whole drill environment up and down (cluster, runtime, observability, sink, fabric).
"""
