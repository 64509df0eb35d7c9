"""How the garbage collector runs in a serving process.

What the imports made (litestar, firebase-admin, google-auth ... tens of thousands of
objects) lives as long as the process; left in the collector's care, every full collection
walks it again. Frozen, it is never walked, and never freed (it never would be).
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Freeze what start-up made; called once the app is built (every module imported)."""
    gc.collect()
    gc.freeze()
