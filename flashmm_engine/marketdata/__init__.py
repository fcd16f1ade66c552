"""Market data: integer order book, raw recorder, normalizer, feed benchmark."""
