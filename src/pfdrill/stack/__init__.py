"""stack: brings the whole drill environment up and down, in order.

cluster (provider) → process runtime (kwok only) → observability and sink →
fabric. Each step is idempotent; ``down`` undoes them in reverse and leaves no
process or listening port behind. Starts and stops processes; talks to the
cluster through the layers below.
"""
