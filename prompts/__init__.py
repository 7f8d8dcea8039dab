"""Hoedan's content as data: every user-facing text (nl first, en), methods and prompt libraries.

Edit the TOML files here to improve a text; no Python needed. Values in ``{{ … }}`` are filled in
by Hoedan; values that came from a person are always shown literally, whatever they contain.
"""
