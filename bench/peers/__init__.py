"""Peers: the same lifecycle implemented without duban, to compare against."""
