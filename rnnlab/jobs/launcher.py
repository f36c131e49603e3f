"""Preloaded by the job fork server (first in its preload list): jobs forked from it ignore the host's __main__.

The one patch of multiprocessing in rnnlab, and why it exists. A process started with the
"forkserver" method re-runs its parent's __main__ (as __mp_main__) before it unpickles its
target, from the launch data that multiprocessing.spawn.get_preparation_data records. A job
needs nothing from __main__, and the host's __main__ can be anything: Streamlit swaps in the page
script while it runs (re-running it in a job would draw a page in a process with no session),
a user's script may start jobs at import. CPython 3.11 offers no supported way to leave it out:
the preload list only imports modules into the fork server, get_preparation_data has no option,
and set_executable/set_start_method do not touch it. So this module, imported only in the fork
server (never in the host), makes spawn.prepare drop the two keys that name __main__ in every
process forked from it. The host's multiprocessing is left as it is."""

from __future__ import annotations

import multiprocessing.spawn

MAIN_KEYS = ("init_main_from_name", "init_main_from_path")
_prepare = multiprocessing.spawn.prepare


def _prepare_without_main(data: dict) -> None:
    _prepare({key: value for key, value in data.items() if key not in MAIN_KEYS})


multiprocessing.spawn.prepare = _prepare_without_main
