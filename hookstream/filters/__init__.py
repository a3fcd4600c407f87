"""The webhook filter language (pure): :func:`compile_filter` validates a
filter into a :class:`Filter` whose ``matches`` evaluates an event."""

from hookstream.filters.language import MAX_BYTES, MAX_DEPTH, Filter, FilterError, compile_filter

__all__ = ["MAX_BYTES", "MAX_DEPTH", "Filter", "FilterError", "compile_filter"]
