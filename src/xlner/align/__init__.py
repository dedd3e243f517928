"""Word aligners (registered by name in xlner.registry.registry.aligners).

Importing this package registers "eflomal", "simalign", "backtranslation" and
"pharaoh"; torch and transformers load only when a neural encoder is used.
"""

from xlner.align import backtranslate as _backtranslate  # noqa: F401
from xlner.align import eflomal as _eflomal  # noqa: F401
from xlner.align import embed as _embed  # noqa: F401
from xlner.align import file as _file  # noqa: F401
