"""Hoedan's behaviour: flows over storage and the neutral event/message model.

Nothing here imports a chat platform's SDK; adapters in bot/ translate to and from this model.
"""
