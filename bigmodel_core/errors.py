"""One exception for everything a learner can get wrong.

A `UserInputError` carries a translation key and its parameters, so a page shows the message in the
learner's language (`err.message(lang)`), while `str(err)` stays English for logs and tests.
"""
from __future__ import annotations


class UserInputError(ValueError):
    """Bad input from the learner: an upload, a typed kernel, a sentence, a learning rate."""

    def __init__(self, key: str, **params):
        self.key = key          # e.g. "errors.image.not_image"
        self.params = params    # values filled into the message, e.g. {"max_mb": 10}
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        from bigmodel_core.i18n import t
        return t(self.key, lang, **self.params)
