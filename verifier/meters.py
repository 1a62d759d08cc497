"""UK meter identifiers: the MPAN check digit, in one place for the issuer (building) and the verifier (shapes).

A mistyped meter number would put one business's consumption in another's credential, so both sides
check the MPAN core's last digit rather than only its length (DOMAIN.md):
``sum(d_i × [3,5,7,13,17,19,23,29,31,37,41,43][i] for the first 12 digits) % 11 % 10``.
"""

from __future__ import annotations

MPAN_PRIMES = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)


def mpan_check_digit(first12: str) -> int:
    """The check digit of an MPAN core whose first 12 characters are `first12` (12 ASCII digits)."""
    return sum(int(d) * p for d, p in zip(first12, MPAN_PRIMES, strict=True)) % 11 % 10


def mpan_core_is_valid(core: str) -> bool:
    """Whether `core` is 13 digits whose last is the check digit of the first 12."""
    return len(core) == 13 and core.isdigit() and mpan_check_digit(core[:12]) == int(core[12])
