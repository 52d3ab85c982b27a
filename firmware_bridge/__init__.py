"""The serial link to the camera box's microcontroller (radar, trigger loop, IR, tamper, GPS).

Built in a later issue.
"""
