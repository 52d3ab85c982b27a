"""The roadside camera box: video, plate recognition, tracking, violations, store-and-forward.

Built in later issues; it imports the wire contract from ``contract``.
"""
