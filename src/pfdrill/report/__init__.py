"""report: drill reports (JUnit XML, HTML, Markdown, JSON evidence). Writes files only.
"""
