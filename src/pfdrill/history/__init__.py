"""history: the SQLite store of past drill runs and regression detection. Local file I/O only.
"""
