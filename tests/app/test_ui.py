"""The page helpers: URL state round-trips and refuses bad values; errors show in the learner's language."""
from streamlit.testing.v1 import AppTest


def _url_script():
    import streamlit as st

    from app_pages._ui import sync_url, url_state
    url_state("demo.stride", 1, lo=1, hi=4)
    url_state("demo.kernel", "sobel_x", choices=("sobel_x", "blur"))
    url_state("demo.rgb", False)
    st.slider("stride", 1, 4, key="demo.stride")
    st.selectbox("kernel", ("sobel_x", "blur"), key="demo.kernel")
    st.toggle("rgb", key="demo.rgb")
    sync_url("demo.stride", "demo.kernel", "demo.rgb")


def _run(params: dict) -> AppTest:
    at = AppTest.from_function(_url_script, default_timeout=30)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def test_link_reproduces_the_state():
    at = _run({"demo.stride": "3", "demo.kernel": "blur", "demo.rgb": "1"})
    assert not at.exception
    assert at.slider(key="demo.stride").value == 3
    assert at.selectbox(key="demo.kernel").value == "blur"
    assert at.toggle(key="demo.rgb").value is True


def test_bad_values_in_a_link_fall_back_to_defaults():
    at = _run({"demo.stride": "99", "demo.kernel": "<script>", "demo.rgb": "maybe"})
    assert not at.exception
    assert at.slider(key="demo.stride").value == 1
    assert at.selectbox(key="demo.kernel").value == "sobel_x"
    assert at.toggle(key="demo.rgb").value is False


def test_changes_are_written_back_to_the_url():
    at = _run({})
    at.slider(key="demo.stride").set_value(2).run()
    assert at.query_params["demo.stride"] == "2"
    assert at.query_params["demo.rgb"] == "0"


def _error_script():
    import streamlit as st

    from bigmodel_core.data import load_image
    from bigmodel_core.errors import UserInputError
    from app_pages._ui import show_error
    try:
        load_image(b"not an image at all")
    except UserInputError as e:
        show_error(e)
    st.write("still running")


def test_user_errors_show_in_the_learners_language_and_the_page_goes_on():
    at = AppTest.from_function(_error_script, default_timeout=30)
    at.session_state["lang"] = "zh"
    at.run()
    assert not at.exception
    assert "PNG" in at.error[0].value and "不是" in at.error[0].value
    assert at.markdown[-1].value == "still running"


def _shown_objects() -> dict:
    """Every function, method and class a page passes to show_code, resolved through the page's imports
    (those inside its functions too)."""
    import ast
    from pathlib import Path
    shown = {}
    for page in sorted((Path(__file__).resolve().parents[2] / "app_pages").glob("*.py")):
        tree = ast.parse(page.read_text(encoding="utf-8"))
        imports = [n for n in ast.walk(tree) if (isinstance(n, ast.ImportFrom) and (n.module or "").startswith("bigmodel_core"))
                   or (isinstance(n, ast.Import) and all(a.name.startswith("bigmodel_core") for a in n.names))]
        names: dict = {}
        exec(compile(ast.Module(body=imports, type_ignores=[]), str(page), "exec"), names)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_code":
                for arg in node.args:
                    shown[f"{page.stem}: {ast.unparse(arg)}"] = eval(ast.unparse(arg), names)
    return shown


def test_show_code_slices_the_same_text_inspect_reads():
    """source_of cuts blocks by indentation from the file read once; inspect.getsource is the reference."""
    import inspect

    from app_pages import _ui
    shown = _shown_objects()
    assert len(shown) > 50
    wrong = {name: obj for name, obj in shown.items() if _ui.source_of(obj) != inspect.getsource(obj)}
    assert wrong == {}


def test_show_code_reads_each_file_once_even_from_many_sessions(monkeypatch):
    """inspect.getsource raised SystemError under 60 concurrent sessions: source_of uses no parser,
    and every thread gets the same text from one read of the file."""
    import threading

    from app_pages import _ui
    from bigmodel_core.ops.conv import conv2d_explained
    monkeypatch.setattr(_ui, "_LINES", {})
    got = []
    threads = [threading.Thread(target=lambda: got.append(_ui.source_of(conv2d_explained))) for _ in range(32)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(got) == 32 and len(set(got)) == 1 and len(_ui._LINES) == 1
    assert got[0].startswith("def conv2d_explained")
