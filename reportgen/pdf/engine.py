"""WeasyPrint, imported without searching for other systems' library names.

WeasyPrint opens GLib, Pango and fontconfig through cffi, trying other systems' names
first ('libgobject-2.0-0', '...dylib'); on Linux each miss runs ldconfig and gcc through
`ctypes.util.find_library`: about 0.2 s of every process that lays out a PDF (import
0.75 s -> 0.55 s). No Linux library is found by a DLL's name (a number after the last
hyphen) or by a file name (.so, .dylib, .dll: cffi just failed to open it), so during
the import those are "not found" at once; Linux names are looked up as before.
Import WeasyPrint through here: `from reportgen.pdf.engine import weasyprint`.
"""

from __future__ import annotations

import ctypes.util
import re
import sys
from types import ModuleType

NOT_A_LINUX_NAME = re.compile(r"-\d+$|\.dylib$|\.dll$|\.so\b")


def _import_weasyprint() -> ModuleType:
    find_library = ctypes.util.find_library

    def without_dll_names(name: str) -> str | None:
        return None if NOT_A_LINUX_NAME.search(name) else find_library(name)

    if sys.platform.startswith("linux"):
        ctypes.util.find_library = without_dll_names
    try:
        import weasyprint
    finally:
        ctypes.util.find_library = find_library
    return weasyprint


weasyprint = _import_weasyprint()
