"""classify: severity classification from live signals against a baseline. Pure logic plus reading the thresholds file.
"""
