"""history: the SQLite store of past drill runs, trends and regression detection. Local file I/O only.
"""
