from __future__ import annotations

from typing import Annotated

import msgspec

# The floor is what every phone already accepts, so no agency setting can be weaker; the
# ceiling keeps a typo from locking a whole agency out of its phones.
PinDigits = Annotated[int, msgspec.Meta(ge=6, le=20)]
PassphraseChars = Annotated[int, msgspec.Meta(ge=10, le=64)]


class UnlockPolicyRead(msgspec.Struct):
    """What a phone enforces when its unlock secret is set or changed. The defaults are
    the rule before agencies could choose, so an agency that never sets one is unchanged."""

    # False: a passphrase is required (a secret of digits only is refused).
    allow_pin: bool = True
    min_pin_digits: PinDigits = 6
    min_passphrase_chars: PassphraseChars = 10


class UnlockPolicyUpdate(msgspec.Struct, forbid_unknown_fields=True):
    allow_pin: bool | None = None
    min_pin_digits: PinDigits | None = None
    min_passphrase_chars: PassphraseChars | None = None
