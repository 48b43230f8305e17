"""sink: the notification sink (HTTP server, append-only JSONL journal) and its reader.
"""
