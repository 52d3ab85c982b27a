"""The roadside camera box: video, plate recognition, tracking, violations, store-and-forward.

Subpackages: ``box`` (the three processes as deployed), ``video``, ``violations`` (pure rules),
``store`` (durable outbox and sender). Importing this package imports none of them.
"""
