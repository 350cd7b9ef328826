"""The benchmark dataset: ``generate(kernel, scale)`` (also ``ecommerce seed --scale N``)."""

from ecommerce.devtools.dataset.generate import EMAIL_DOMAIN, PASSWORD, Report, already_generated, generate
from ecommerce.devtools.dataset.sizes import ANCHOR, Sizes
from ecommerce.devtools.dataset.vocabulary import COMMON_TERM, RARE_TERM

__all__ = ["ANCHOR", "COMMON_TERM", "EMAIL_DOMAIN", "PASSWORD", "RARE_TERM", "Report", "Sizes",
           "already_generated", "generate"]
