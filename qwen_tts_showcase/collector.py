"""Python's cycle collector in a long-running app: what start-up built is set aside.

A full collection walks every object the collector tracks. The built page and its running
server, with Gradio, pandas and the app's tables, are about 300,000 of them, alive as long as
the process; walking them took 160-180 ms each time on this kind of machine: a pause for every
stream and event in flight, several times a minute while new visitors arrive (each new Gradio
session adds objects, and Python collects whenever the long-lived ones have grown by a
quarter). Frozen, they are never walked again; reference counting still frees any that goes.
(Only start-up is frozen: what is in flight at a later moment could become garbage with
cycles, which the collector would then never see.)
"""

from __future__ import annotations

import gc


def set_aside_startup_objects() -> None:
    """Collect once, then move every surviving object out of the collector's sight."""
    gc.collect()
    gc.freeze()
