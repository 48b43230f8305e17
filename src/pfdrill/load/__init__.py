"""load: traffic generation with locust, always in its own process (locust monkey-patches the standard library).
"""
