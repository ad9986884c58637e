"""The explained operations: conv, pool, attention, RNN cells, activations, losses."""
