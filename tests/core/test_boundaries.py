"""The core is a library: it never imports streamlit, and every public name resolves."""
import subprocess
import sys

import bigmodel_core


def test_core_never_imports_streamlit():
    # every module of the package, imported in a fresh interpreter
    code = (
        "import importlib, pkgutil, sys\n"
        "import bigmodel_core\n"
        "for m in pkgutil.walk_packages(bigmodel_core.__path__, 'bigmodel_core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(k for k in sys.modules if k == 'streamlit' or k.startswith('streamlit.'))\n"
        "print(len(bad)); assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "0"


def test_public_names_resolve():
    missing = []
    for name in bigmodel_core.__all__:
        try:
            getattr(bigmodel_core, name)
        except (AttributeError, ImportError) as e:
            missing.append(f"{name}: {e}")
    assert missing == []
