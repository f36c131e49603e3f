"""Errors a user can cause. Their message is a sentence that says what to change."""


class RnnlabError(Exception):
    """Base class: anything the UI may show to a user as a sentence."""


class ConfigError(RnnlabError, ValueError):
    """A setting is out of range, of the wrong type, or clashes with another."""


class DataError(RnnlabError, ValueError):
    """A series or file cannot be used as given."""
