"""sink: the notification sink (HTTP server, append-only JSONL journal) and its reader.

Serves HTTP on 127.0.0.1 (or a chosen address), writes its journal and
baselines file, and has an HTTP client for both.
"""
